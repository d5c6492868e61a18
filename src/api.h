/* api.h - an AGCOD request (its table is ops.h's), its body, one request path */
#ifndef AGCOD_API_H
#define AGCOD_API_H

#include <time.h>

#include "amount.h"
#include "ops.h"
#include "profile.h"
#include "buf.h"
#include "http.h"
#include "json.h"
#include "reqid.h"
#include "result.h"
#include "sigv4.h"

struct opreq {
	const struct op		*op;
	char			 request_id[REQID_MAX + 1];
	const struct currency	*cur;
	struct amount		 amount;
	/* the text members the operation carries, checked (account_type
	 * defaulted); amount, currency, request_id and recover_for are NULL
	 * here: their checked values are the members beside */
	struct opreq_in		 text;
	long			 recover_for;	/* activate: seconds, 0 = off */
	json_t			*from;		/* the journal row it took values
						 * from, owned; opreq_free() */
};

#define API_NHEADERS	5

/* a signed request: what is sent, and what sign-debug shows */
struct signed_req {
	char			 url[600];
	char			 path[64];
	char			 target[128];
	char			 host[300];
	struct sigv4_header	 headers[API_NHEADERS];
	struct sigv4_output	 sig;
	const char		*body;
	size_t			 body_len;
};

enum outcome {
	OUTCOME_SUCCEEDED,
	OUTCOME_FAILED,		/* the service refused or failed it */
	OUTCOME_UNKNOWN,	/* it may or may not have happened */
	OUTCOME_NOT_SENT,	/* nothing left the machine */
};

/* what a call came to */
struct api_result {
	enum agcod_result	 result;	/* what it came to */
	enum outcome		 outcome;
	struct http_response	 resp;		/* the last attempt's */
	int			 have_resp;
	json_t			*json;		/* exact parse of resp.body */
	const char		*status;	/* SUCCESS, FAILURE, RESEND */
	const char		*error_code;
	const char		*error_type;
	const char		*message;
	int			 attempts;
	char			 why[512];	/* one line for stderr */
	struct signed_req	 sreq;		/* the last attempt's signature */
	time_t			 when;		/* its time */
	int			 have_skew;
	long			 skew;		/* service clock - ours, s */
	char			 diagnosis[512];	/* triage's verdict */
};

/*
 * What api_call needs from outside, and nothing else: it opens no file of
 * its own.  The caller starts the HTTP handle; pace, when set, spaces the
 * requests; trace, when set, sees every attempt.
 */
struct api_env {
	struct profile		*prof;		/* its key cache is written */
	struct http		*http;
	long			 retry_for;	/* seconds of retrying */
	/* the transfer: http_post, unless a test stands in for it */
	int	(*post)(struct http *, const char *url,
		    const struct http_header_out *, size_t nheaders,
		    const char *body, size_t len, const struct http_gate *,
		    struct http_response *);
	/*
	 * Called for every attempt once its connection is up, just before
	 * the request goes out (the transfer's gate), with the operation's
	 * rate class and the longest it may wait: 0 after waiting for its
	 * slot; 1 when the slot is further away (*wait_ms: how far), nothing
	 * taken; -1 with why (the rate's state cannot be used).
	 */
	int	(*pace)(void *arg, int cls, long max_wait_ms, long *wait_ms,
		    char *why, size_t whylen);
	void			*pace_arg;
	void	(*trace)(void *arg, const struct op *, const char *body,
		    size_t len, const struct api_result *);
	void			*trace_arg;
	int			 sent;		/* set once anything may have left */
	/* an attempt may have acted: record it durably before going on (the
	 * journal, not api_call, keeps what earlier attempts may have done);
	 * -1 stops the retries */
	int	(*acted)(void *arg);
	void			*acted_arg;
};

/* checked values -> a request; opreq.c.  -1 with why (for a usage error) */
int	opreq_build(const struct profile *, const struct op *,
	    const struct opreq_in *, struct opreq *, char *why, size_t whylen);
/* fill members not given from a journal row's (and request_id if asked) */
void	opreq_fill_from(struct opreq_in *, json_t *row, int include_id);
/* release what an opreq owns (its journal row) */
void	opreq_free(struct opreq *);
int	api_body(const struct profile *, const struct opreq *, struct buf *);
int	api_sign(struct profile *, const struct op *, const char *body,
	    size_t body_len, time_t when, struct signed_req *);
void	api_signed_free(struct signed_req *);
/* set r->why, cut to fit if it must be */
void	api_say(struct api_result *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* sign, send, classify, retry within env->retry_for; fills r, returns
 * r->result */
enum agcod_result api_call(struct api_env *, const struct op *, const char *body,
	    size_t len, struct api_result *r);
void	api_result_free(struct api_result *);
/* classify r->resp after a transfer that ended as http_result; pure;
 * returns 1 when the request should be retried */
int	api_classify(struct api_result *r, int http_result);
/* the headers of a signed request as sent, Authorization included */
size_t	api_wire_headers(const struct signed_req *, struct http_header_out *);

#endif
