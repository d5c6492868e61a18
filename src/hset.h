/*
 * hset.h - a small open-addressing hash table of borrowed strings, each
 * with a size_t value: finding duplicates among a batch's rows without
 * quadratic checks
 */
#ifndef AGCOD_HSET_H
#define AGCOD_HSET_H

#include <stddef.h>

struct hent {
	const char	*key;
	size_t		 val;
};

struct hset {
	struct hent	*e;
	size_t		 cap;
};

/* room for n keys; 0, or -1 out of memory */
int	hset_init(struct hset *, size_t n);
/* the entry of key: found, or new with val (SIZE_MAX) when there is none */
struct hent *hset_get(struct hset *, const char *key);
void	hset_free(struct hset *);

#endif
