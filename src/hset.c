/*
 * hset.c - a small hash table of borrowed strings (no quadratic checks):
 * the keys stay the caller's, the table never grows past hset_init's n
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hset.h"

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int
hset_init(struct hset *h, size_t n)
{
	h->cap = 64;
	while (h->cap < 2 * n + 16)
		h->cap *= 2;
	h->e = calloc(h->cap, sizeof(*h->e));
	return h->e ? 0 : -1;
}

/* the entry of key: found, or new with val (SIZE_MAX) when there is none */
struct hent *
hset_get(struct hset *h, const char *key)
{
	size_t i = (size_t)fnv1a(key) & (h->cap - 1);

	while (h->e[i].key && strcmp(h->e[i].key, key) != 0)
		i = (i + 1) & (h->cap - 1);
	if (h->e[i].key == NULL) {
		h->e[i].key = key;
		h->e[i].val = SIZE_MAX;
	}
	return &h->e[i];
}

void
hset_free(struct hset *h)
{
	free(h->e);
	h->e = NULL;
}
