/*
 * suggest.c - "did you mean" for configuration keys, commands and options:
 * one edit distance, one notion of "near enough".
 */
#include <string.h>

#include "suggest.h"

size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64];

	if (lb >= 63 || la >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = d[0];

		d[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = d[j], best = prev + (a[i - 1] != b[j - 1]);

			if (d[j] + 1 < best)
				best = d[j] + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			d[j] = best;
			prev = cur;
		}
	}
	return d[lb];
}

/* at most 2 edits, and fewer than half the word: 'ab' is no typo of 'cd' */
void
suggest_consider(struct suggest *s, const char *cand)
{
	size_t d = edit_distance(s->word, cand);

	if (d > 2 || 2 * d >= strlen(s->word) + 1)
		return;
	if (s->best == NULL || d < s->d) {
		s->best = cand;
		s->d = d;
	}
}
