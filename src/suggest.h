/* suggest.h - "did you mean": the nearest name to a near miss */
#ifndef AGCOD_SUGGEST_H
#define AGCOD_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance; 99 for names of 63 characters or more */
size_t	edit_distance(const char *, const char *);

/* the nearest candidate so far; start with { word, NULL, 0 } */
struct suggest {
	const char	*word;
	const char	*best;
	size_t		 d;
};

/* consider one candidate: kept when nearer, and near enough to be a typo */
void	suggest_consider(struct suggest *, const char *candidate);

#endif
