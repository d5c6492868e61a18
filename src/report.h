/* report.h - the signing/exchange report: sign-debug's output, --trace's */
#ifndef AGCOD_REPORT_H
#define AGCOD_REPORT_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "http.h"
#include "sigv4.h"

struct report {
	const char			*operation;
	const char			*endpoint;	/* full URL */
	const char			*method;
	const char			*path;
	const char			*query;
	const struct sigv4_header	*headers;	/* the signed ones */
	size_t				 nheaders;
	const char			*body;
	size_t				 body_len;
	const struct sigv4_output	*sig;
	time_t				 when;
	const char			*partner_id;
	const char			*access_key_id;
	const char			*region;
	const char			*service;
	const char			*signing_key;	/* hex, or NULL */
	int				 attempt;	/* 0: not sent */
	/* verification of a supplied Authorization header */
	int				 verified;
	int				 match;
	const char			*provided;
	const char			*diagnosis;
	/* the response, with --send or in a trace */
	const struct http_response	*resp;
	const char			*transport_error;
};

void	 report_text(FILE *, const struct report *);
json_t	*report_json(const struct report *);
/* body text with every gcClaimCode value replaced */
int	 report_redact(const char *, size_t, struct buf *);
void	 report_times(time_t, char *utc, size_t, char *local, size_t);

#endif
