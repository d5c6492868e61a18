/* api.h - the AGCOD operations: one table, one request path */
#ifndef AGCOD_API_H
#define AGCOD_API_H

#include <time.h>

#include "agcod.h"
#include "buf.h"
#include "http.h"
#include "json.h"
#include "reqid.h"
#include "sigv4.h"

/* the members an operation's body carries, in body order */
enum op_field {
	F_CARD		= 1 << 0,	/* cardNumber */
	F_GCID		= 1 << 1,	/* gcId */
	F_VALUE		= 1 << 2,	/* value {currencyCode, amount: number} */
	F_AMOUNT	= 1 << 3,	/* amount {currencyCode, value: "string"} */
	F_SOURCE	= 1 << 4,	/* transactionSource {sourceId} */
	F_ACCOUNT	= 1 << 5,	/* account {id, type} */
	F_EXTREF	= 1 << 6,	/* externalReference */
	F_PROGRAM	= 1 << 7,	/* programId */
	F_PRODUCT	= 1 << 8,	/* productType */
};

enum op_flag {
	OP_MOVES_MONEY	= 1 << 0,	/* named on stderr in production */
	OP_ID_REQUIRED	= 1 << 1,	/* refers to an earlier request */
	OP_JOURNAL	= 1 << 2,	/* changes state: journaled */
};

struct op {
	const char	*cmd;		/* create */
	const char	*name;		/* CreateGiftCard */
	const char	*id_field;	/* creationRequestId, or NULL */
	unsigned	 fields;
	unsigned	 flags;
	const char	*refers_to;	/* the operation its request id names */
	int		 rate;		/* enum rl_class: its rate limit */
};

struct opreq {
	const struct op		*op;
	char			 request_id[REQID_MAX + 1];
	const struct currency	*cur;
	struct amount		 amount;
	const char		*gc_id;
	const char		*card_number;
	const char		*account_id;
	const char		*account_type;
	const char		*source_id;
	const char		*extref;
	const char		*program_id;
	const char		*product_type;
	long			 recover_for;	/* activate: seconds, 0 = off */
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
	int			 exit;		/* the exit status it maps to */
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

extern const struct op ops[];
extern const size_t nops;

const struct op	*op_find(const char *cmd);
const struct op	*op_by_name(const char *name);
/* option values (indexed by enum opt_id) -> a checked request; opreq.c */
int	opreq_build(const struct profile *, const struct op *,
	    const char *const *vals, struct opreq *, char *why, size_t whylen);
/* fill missing values from a journal entry's members */
void	opreq_fill_from(const char **vals, json_t *entry, int include_id);
int	api_body(const struct profile *, const struct opreq *, struct buf *);
/* recover.c: Amazon's procedure after an ActivateGiftCard RESEND */
int	activation_recover_applies(const struct opreq *, const struct api_result *);
int	activation_recover(struct cmd_ctx *, struct opreq *, struct api_result *);
int	api_sign(struct profile *, const struct op *, const char *body,
	    size_t body_len, time_t when, struct signed_req *);
void	api_signed_free(struct signed_req *);
/* set r->why, cut to fit if it must be */
void	api_say(struct api_result *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* sign, send, classify, retry within --retry-for; fills r */
int	api_call(struct cmd_ctx *, const struct op *, const char *body,
	    size_t len, struct api_result *r);
void	api_result_free(struct api_result *);
/* classify r->resp after a transfer that ended as http_result; pure;
 * returns 1 when the request should be retried */
int	api_classify(struct api_result *r, int http_result);
/* the headers of a signed request as sent, Authorization included */
size_t	api_wire_headers(const struct signed_req *, struct http_header_out *);

#endif
