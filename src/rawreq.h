/* rawreq.h - a raw HTTP/1.1 request (the AWS test suite's .req/.sreq form) */
#ifndef AGCOD_RAWREQ_H
#define AGCOD_RAWREQ_H

#include <stddef.h>

#include "sigv4.h"

#define RAWREQ_MAX_HEADERS	200

struct rawreq {
	char			*method;
	char			*path;
	char			*query;		/* NULL when the target has no '?' */
	struct sigv4_header	*headers;	/* Authorization left out */
	size_t			 nheaders;
	char			*authorization;	/* NULL when absent */
	char			*body;
	size_t			 body_len;
};

int		 rawreq_parse(const char *, size_t, struct rawreq *,
		    char *err, size_t errlen);
void		 rawreq_free(struct rawreq *);
const char	*rawreq_header(const struct rawreq *, const char *name);
/*
 * The request's part of a signer's input (method, target, headers, body),
 * the rest zeroed: the caller adds credentials, scope and time, and may
 * point headers at a subset.
 */
void		 rawreq_sigv4_input(const struct rawreq *, struct sigv4_input *);

#endif
