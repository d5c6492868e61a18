/*
 * api.c - the only file that speaks AGCOD: request bodies (from ops.c's
 * operation table), signing, sending, classifying answers and retrying.
 */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "api.h"
#include "json.h"
#include "msg.h"
#include "timeutil.h"
#include "triage.h"

#define TARGET_PREFIX	"com.amazonaws.agcod.AGCODService."
#define BODY_MAX	(64 * 1024)

/*
 * The body, in the style of Amazon's signing sample: members in a fixed
 * order, ", " and ": " separators, amounts as typed.
 */
int
api_body(const struct profile *p, const struct opreq *r, struct buf *b)
{
	const struct op *op = r->op;
	char amt[AMOUNT_TEXT_MAX];
	struct jw w;
	int e = 0;

	amount_format(&r->amount, amt, sizeof(amt));
	jw_begin(&w, b);
	e |= jw_open(&w, NULL);
	if (op->id_field)
		e |= jw_str(&w, op->id_field, r->request_id);
	e |= jw_str(&w, "partnerId", p->partner_id);
	if (op->fields & F_CARD)
		e |= jw_str(&w, "cardNumber", r->text.card_number);
	if ((op->fields & F_GCID) && r->text.gc_id)
		e |= jw_str(&w, "gcId", r->text.gc_id);
	if (op->fields & F_VALUE) {
		e |= jw_open(&w, "value");
		e |= jw_str(&w, "currencyCode", r->cur->code);
		e |= jw_num(&w, "amount", amt);
		e |= jw_close(&w);
	}
	if (op->fields & F_AMOUNT) {
		e |= jw_open(&w, "amount");
		e |= jw_str(&w, "currencyCode", r->cur->code);
		e |= jw_str(&w, "value", amt);
		e |= jw_close(&w);
	}
	if ((op->fields & F_SOURCE) && r->text.source_id) {
		e |= jw_open(&w, "transactionSource");
		e |= jw_str(&w, "sourceId", r->text.source_id);
		e |= jw_close(&w);
	}
	if (op->fields & F_ACCOUNT) {
		e |= jw_open(&w, "account");
		e |= jw_str(&w, "id", r->text.account_id);
		e |= jw_str(&w, "type", r->text.account_type);
		e |= jw_close(&w);
	}
	if ((op->fields & F_EXTREF) && r->text.extref)
		e |= jw_str(&w, "externalReference", r->text.extref);
	if ((op->fields & F_PROGRAM) && r->text.program_id)
		e |= jw_str(&w, "programId", r->text.program_id);
	if ((op->fields & F_PRODUCT) && r->text.product_type)
		e |= jw_str(&w, "productType", r->text.product_type);
	e |= jw_close(&w);
	return e ? -1 : 0;
}

int
api_sign(struct profile *p, const struct op *op, const char *body,
    size_t body_len, time_t when, struct signed_req *s)
{
	struct sigv4_input in;
	char date[17];

	memset(s, 0, sizeof(*s));
	if (sigv4_format_date(when, date) == -1)
		return -1;
	snprintf(s->path, sizeof(s->path), "/%s", op->name);
	snprintf(s->target, sizeof(s->target), TARGET_PREFIX "%s", op->name);
	snprintf(s->url, sizeof(s->url), "%s%s", p->endpoint, s->path);
	strlcpy(s->host, p->host, sizeof(s->host));
	/* sorted already: this is also the order they are sent in */
	s->headers[0].name = "accept";
	s->headers[0].value = "application/json";
	s->headers[1].name = "content-type";
	s->headers[1].value = "application/json";
	s->headers[2].name = "host";
	s->headers[2].value = s->host;
	s->headers[3].name = "x-amz-date";
	s->headers[3].value = s->sig.amz_date;	/* filled by sigv4_sign */
	s->headers[4].name = "x-amz-target";
	s->headers[4].value = s->target;
	s->body = body;
	s->body_len = body_len;

	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.path = s->path;
	in.headers = s->headers;
	in.nheaders = API_NHEADERS;
	in.body = body;
	in.body_len = body_len;
	in.access_key_id = p->access_key_id;
	in.secret = p->secret;
	in.secret_len = p->secret_len;
	in.region = p->region->signing_region;
	in.service = "AGCODService";
	in.when = when;
	in.cache = &p->keycache;
	/* x-amz-date is signed: give the signer the value it will produce */
	s->headers[3].value = date;
	if (sigv4_sign(&in, &s->sig) == -1)
		return -1;
	s->headers[3].value = s->sig.amz_date;
	return 0;
}

void
api_signed_free(struct signed_req *s)
{
	sigv4_output_free(&s->sig);
}

size_t
api_wire_headers(const struct signed_req *s, struct http_header_out *h)
{
	size_t i;

	for (i = 0; i < API_NHEADERS; i++) {
		h[i].name = s->headers[i].name;
		h[i].value = s->headers[i].value;
	}
	h[i].name = "Authorization";
	h[i].value = s->sig.authorization;
	return i + 1;
}

void
api_result_free(struct api_result *r)
{
	if (r->have_resp)
		http_response_free(&r->resp);
	json_decref(r->json);
	api_signed_free(&r->sreq);
	memset(r, 0, sizeof(*r));
}

/*
 * The pacing of one attempt (env->pace: at most max_rps sends a second,
 * and one GetAvailableFunds a second, across agcod processes), taken once
 * the connection is up and just before the request goes out, so the
 * spacing is the spacing where the service measures it.  The wait is not
 * part of --timeout and ends by the --retry-for deadline (but may always
 * last the rate's own window, a second): 0 to send, else r says why
 * nothing was sent.
 */
#define PACE_MIN_MS	1100
/* the request is signed before the wait: keep it well inside its validity */
#define PACE_MAX_MS	(240 * 1000)

struct pacing {
	struct api_env		*env;
	const struct op		*op;
	long			 deadline;	/* --retry-for's, mono_ms() time */
	long			 signed_at;	/* mono_ms() time */
	int			 capped;	/* the wait: PACE_MAX_MS, not budget */
	struct api_result	*r;
};

static int
pace(void *arg)
{
	struct pacing *p = arg;
	struct api_result *r = p->r;
	long wait = 0, now = mono_ms(), latest, max;
	char why[PATH_MAX + 128];

	/* the rate's own window counts from here, once the connection is up:
	 * a slow handshake does not eat it */
	latest = now + PACE_MIN_MS;
	if (p->deadline > latest)
		latest = p->deadline;
	if ((p->capped = latest > p->signed_at + PACE_MAX_MS))
		latest = p->signed_at + PACE_MAX_MS;
	max = latest - now;

	switch (p->env->pace(p->env->pace_arg, p->op->rate, max > 0 ? max : 0,
	    &wait, why, sizeof(why))) {
	case 0:
		return 0;
	case 1:
		r->result = AGCOD_E_AGAIN;
		api_say(r, "the rate limit's next free slot is %ld.%01ld s "
		    "away, past %s; %s", wait / 1000, wait % 1000 / 100,
		    p->capped ? "the 240 s a signed request may wait for it" :
		    "the --retry-for budget", r->attempts ?
		    "this attempt was not sent" : "nothing sent");
		break;
	default:
		r->result = AGCOD_E_JOURNAL_IO;
		api_say(r, "%s; %s", why, r->attempts ? "this attempt was not "
		    "sent" : "nothing sent");
		break;
	}
	/* what earlier attempts may have done is the journal's to say */
	r->outcome = OUTCOME_NOT_SENT;
	return -1;
}

enum verdict { V_DONE, V_RETRY };

static int
contains(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

void
api_say(struct api_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/*
 * One rule for every answer (agcod(1), Outcomes): a request is "failed" only when
 * the answer proves the service refused it: an AGCOD body with status
 * FAILURE and an errorCode, HTTP 401/403 (key or signature), throttling,
 * or one of the gateway's JSON refusals that prove the request was not
 * understood (not_understood() below).  Anything else that came back after
 * the request may have reached the service (an unreadable 2xx, a 5xx of
 * any body, any other 4xx without an AGCOD status, a proxy's page, a
 * timeout, a reset) is "unknown": the service may have acted.  "Not sent"
 * is only for a request that provably never left.
 */

/* the request was refused before it could act: retried, then AGCOD_E_AGAIN */
static enum verdict
throttled(struct api_result *r)
{
	r->result = AGCOD_E_AGAIN;
	r->outcome = OUTCOME_FAILED;
	api_say(r, "throttled by the service (HTTP %ld); nothing was done",
	    r->resp.status);
	return V_RETRY;
}

/* HTTP 401/403: the gateway refused the key or the signature */
static enum verdict
denied(struct api_result *r, int signature, const char *m)
{
	long st = r->resp.status;

	r->outcome = OUTCOME_FAILED;
	if (signature) {
		r->result = AGCOD_E_REFUSED;
		api_say(r, "the service rejected the signature (HTTP %ld)%s%s; "
		    "run 'agcod sign-debug' and check the secret key and clock",
		    st, m[0] ? ": " : "", m);
	} else {
		r->result = AGCOD_E_ACCOUNT;
		api_say(r, "access denied (HTTP %ld): %s", st,
		    m[0] ? m : "check the access key id and secret");
	}
	return V_DONE;
}

/* an answer that proves nothing: the service may have acted */
static enum verdict
unproven(struct api_result *r, const char *what)
{
	r->result = AGCOD_E_AGAIN;
	r->outcome = OUTCOME_UNKNOWN;
	api_say(r, "HTTP %ld %s; the service may have processed the request: "
	    "the outcome is unknown", r->resp.status, what);
	return V_RETRY;
}

/* a body we could not read as a JSON object */
static enum verdict
classify_text(struct api_result *r)
{
	const char *b = buf_str(&r->resp.body);
	size_t n = r->resp.body.len;
	long st = r->resp.status;

	if (st == 429 || contains(b, n, "ThrottlingException") ||
	    contains(b, n, "Rate exceeded"))
		return throttled(r);
	if (st == 401 || st == 403)
		return denied(r, contains(b, n, "InvalidSignatureException") ||
		    contains(b, n, "signature we calculated does not match"),
		    "");
	return unproven(r, st >= 500 ? "with a body that is not JSON (a proxy "
	    "or gateway error)" : "with a body that is not JSON");
}

/*
 * Throttling, whatever else the body carries: HTTP 429, the newest error
 * page's class "Throttled" as errorCode, a ThrottlingException as errorType
 * or __type, or the gateway's "Rate exceeded".
 */
static int
is_throttle(const struct api_result *r, const char *type, const char *msg)
{
	const char *code = r->error_code, *etype = r->error_type;

	return r->resp.status == 429 ||
	    (code && strcmp(code, "Throttled") == 0) ||
	    (etype && strstr(etype, "Throttling") != NULL) ||
	    (type && strstr(type, "Throttling") != NULL) ||
	    (msg && strstr(msg, "Rate exceeded") != NULL);
}

/*
 * A 4xx JSON answer of the gateway, without an AGCOD status, that proves
 * the request was not understood, so nothing was done: the operation is
 * unknown to it (UnknownOperationException: x-amz-target or path), it
 * could not read the body as the operation's object ("class
 * java.lang.String is not an expected Json type"), or it refused the media
 * type (415).  The list is short on purpose; man page, EXIT STATUS.
 */
static int
not_understood(long st, const char *type, const char *msg)
{
	if (st / 100 != 4)
		return 0;
	return st == 415 ||
	    (type && strstr(type, "UnknownOperationException") != NULL) ||
	    (msg && strstr(msg, " is not an expected Json type") != NULL);
}

static enum verdict
classify_json(struct api_result *r)
{
	json_t *j = r->json, *inner = json_object_get(j, "agcodResponse");
	const char *code, *msg, *type = json_str(j, "__type");
	long st = r->resp.status;
	int success;
	char m[300];

	r->status = json_str(j, "status");
	if (r->status == NULL)
		r->status = json_str(inner, "status");
	r->error_code = code = json_str(j, "errorCode");
	r->error_type = json_str(j, "errorType");
	r->message = msg = json_str(j, "message") ? json_str(j, "message") :
	    json_str(j, "Message");
	msg_sanitize(m, sizeof(m), msg ? msg : "", msg ? strlen(msg) : 0);
	success = r->status && strcmp(r->status, "SUCCESS") == 0;

	if (success && st / 100 == 2 && code == NULL) {
		r->result = AGCOD_OK;
		r->outcome = OUTCOME_SUCCEEDED;
		return V_DONE;
	}
	if (is_throttle(r, type, msg))
		return throttled(r);
	if ((r->status && strcmp(r->status, "RESEND") == 0) ||
	    (code && strncmp(code, "F4", 2) == 0)) {
		r->result = AGCOD_E_AGAIN;
		r->outcome = OUTCOME_UNKNOWN;
		api_say(r, "the service asks to resend (%s %s)", code ? code : "",
		    r->error_type ? r->error_type : "RESEND");
		return V_RETRY;
	}
	if (code && !success) {
		r->outcome = OUTCOME_FAILED;
		r->result = strncmp(code, "F2", 2) == 0 ? AGCOD_E_REFUSED :
		    strncmp(code, "F3", 2) == 0 ? AGCOD_E_ACCOUNT : AGCOD_E_SERVICE;
		api_say(r, "refused: %s %s: %s", code,
		    r->error_type ? r->error_type : "", m);
		return V_DONE;
	}
	/* gateway answers: no AGCOD status */
	if (contains(buf_str(&r->resp.body), r->resp.body.len, "Throttl"))
		return throttled(r);
	if (st == 401 || st == 403)
		return denied(r, (msg && strstr(msg, "ignature") != NULL) ||
		    (type && strstr(type, "Signature") != NULL), m);
	if (r->status == NULL && not_understood(st, type, msg)) {
		r->outcome = OUTCOME_FAILED;
		r->result = AGCOD_E_REFUSED;
		api_say(r, "refused by the gateway, nothing was done (HTTP %ld"
		    "%s%s): %s", st, type ? " " : "", type ? type : "", m[0] ?
		    m : "the request was not understood");
		return V_DONE;
	}
	return unproven(r, st / 100 == 2 ? "with a JSON body that is not an "
	    "AGCOD answer" : "without an AGCOD status");
}

/*
 * A SUCCESS is ours only when it answers our request: one that names
 * another request id (a mixed-up proxy or cache), or a create without its
 * claim code, proves nothing about our card and is asked again.
 */
static enum verdict
answers_ours(const struct op *op, const char *body, size_t len,
    struct api_result *r, enum verdict v)
{
	const char *got, *sent;
	json_t *req;
	int other;

	if (r->outcome != OUTCOME_SUCCEEDED || op->id_field == NULL)
		return v;
	if ((got = json_str(r->json, op->id_field)) != NULL) {
		req = json_loadb(body, len, 0, NULL);
		sent = json_str(req, op->id_field);
		other = sent && strcmp(sent, got) != 0;
		json_decref(req);
		if (other)
			return unproven(r, "with a SUCCESS for another request "
			    "id");
	}
	if ((op->flags & OP_CLAIM_CODE) &&
	    json_str(r->json, "gcClaimCode") == NULL)
		return unproven(r, "with a SUCCESS without the claim code");
	return v;
}

/* pure: the response (or transport result) in r -> result, outcome, verdict */
int
api_classify(struct api_result *r, int hr)
{
	char err[200];

	switch (hr) {
	case HTTP_OK:
		break;
	case HTTP_NOT_SENT:
		r->result = AGCOD_E_AGAIN;
		r->outcome = OUTCOME_NOT_SENT;
		api_say(r, "cannot connect, nothing was sent: %s",
		    r->resp.error);
		return V_RETRY;
	case HTTP_TLS:
		r->result = AGCOD_E_SERVICE;
		r->outcome = OUTCOME_NOT_SENT;
		api_say(r, "TLS failure, nothing sent: %s", r->resp.error);
		return V_DONE;
	case HTTP_LOST:
		r->result = AGCOD_E_AGAIN;
		r->outcome = OUTCOME_UNKNOWN;
		api_say(r, "no complete answer (%s); the outcome is unknown",
		    r->resp.error);
		return V_RETRY;
	case HTTP_SETUP:
		r->result = AGCOD_E_INTERNAL;
		r->outcome = OUTCOME_NOT_SENT;
		api_say(r, "nothing sent: %s", r->resp.error);
		return V_DONE;
	case HTTP_TOO_BIG:
		r->result = AGCOD_E_AGAIN;
		r->outcome = OUTCOME_UNKNOWN;
		api_say(r, "the response is larger than %d bytes; the outcome "
		    "is unknown", HTTP_BODY_MAX);
		return V_RETRY;
	default:
		r->result = AGCOD_E_AGAIN;
		r->outcome = OUTCOME_UNKNOWN;
		api_say(r, "transfer failed (%s); the outcome is unknown",
		    r->resp.error);
		return V_RETRY;
	}
	r->json = json_parse_exact(buf_str(&r->resp.body), r->resp.body.len,
	    err, sizeof(err));
	if (r->json && !json_is_object(r->json)) {
		json_decref(r->json);
		r->json = NULL;
	}
	return r->json ? classify_json(r) : classify_text(r);
}

/*
 * After any response, compare clocks; after a 403 or a signature error,
 * name the likely cause.
 */
static void
triage(const struct profile *p, struct api_result *r)
{
	struct triage_in t;
	time_t server;

	if (!r->have_resp || r->resp.status == 0)
		return;
	if (time_parse_http(r->resp.date, &server) == 0) {
		r->have_skew = 1;
		r->skew = (long)(server - time(NULL));
		if (labs(r->skew) > CLOCK_WARN_S)
			msg_warn("the local clock is %ld s %s the service's; "
			    "requests fail past 15 minutes: synchronise it (NTP)",
			    labs(r->skew), r->skew > 0 ? "behind" : "ahead of");
	}
	if (r->result != AGCOD_E_REFUSED && r->result != AGCOD_E_ACCOUNT)
		return;
	if (r->error_code)	/* an AGCOD F2xx/F3xx: the message says it */
		return;
	memset(&t, 0, sizeof(t));
	t.http_status = r->resp.status;
	t.message = r->message;
	t.type = json_str(r->json, "__type");
	t.have_skew = r->have_skew;
	t.skew = r->skew;
	t.host = p->host;
	t.region = p->region->signing_region;
	t.access_key_id = p->access_key_id;
	t.production = p->production;
	if (t.message == NULL && contains(buf_str(&r->resp.body),
	    r->resp.body.len, "signature we calculated does not match"))
		t.message = "signature we calculated does not match";
	if (triage_verdict(&t, r->diagnosis, sizeof(r->diagnosis)))
		msg_err("likely cause: %s", r->diagnosis);
}

/* 1 s apart for the first 10 s, then doubling with jitter, capped at 30 s */
static long
backoff_ms(long elapsed, int attempt)
{
	long base;

	if (elapsed < 10000)
		return 1000;
	base = 2000L << (attempt > 8 ? 4 : attempt / 2);
	if (base > 30000)
		base = 30000;
	return base / 2 + (long)arc4random_uniform((uint32_t)(base / 2));
}

/*
 * A connection refused, a host not resolved, a handshake that never
 * finished: nothing was sent, and the next seconds rarely change it.  Such
 * a run of attempts is retried for this long, not the whole --retry-for.
 */
#define REFUSED_FOR_MS	5000

/* a new attempt's result: nothing known of it yet */
static void
attempt_begin(struct api_result *r)
{
	if (r->have_resp)
		http_response_free(&r->resp);
	json_decref(r->json);
	r->json = NULL;
	api_signed_free(&r->sreq);
	http_response_init(&r->resp);
	r->have_resp = 1;
	r->status = r->error_code = r->error_type = r->message = NULL;
	r->outcome = OUTCOME_NOT_SENT;
}

/* the pacing of an attempt signed now, and the most its gate may wait
 * (curl's overall backstop) */
static void
gate_for(struct pacing *pc, struct http_gate *gate, long deadline)
{
	long wait;

	pc->deadline = deadline;
	pc->signed_at = mono_ms();
	wait = deadline - pc->signed_at;
	if (wait < PACE_MIN_MS)
		wait = PACE_MIN_MS;
	if (wait > PACE_MAX_MS)
		wait = PACE_MAX_MS;
	gate->max_wait_s = wait / 1000 + 1;
}

/*
 * Whether another attempt fits the budget (since start, up to deadline;
 * refusals to connect since *refused, for at most REFUSED_FOR_MS): 1
 * after saying so and sleeping the back-off, 0 to stop.
 */
static int
wait_to_retry(const struct api_result *r, int hr, long start, long deadline,
    long sent_at, long *refused)
{
	long wait = backoff_ms(mono_ms() - start, r->attempts);
	struct timespec ts;

	if (mono_ms() + wait >= deadline)
		return 0;
	if (hr == HTTP_NOT_SENT) {
		if (*refused == -1)
			*refused = sent_at;
		if (mono_ms() + wait >= *refused + REFUSED_FOR_MS)
			return 0;
		/* said once, at the end */
		msg_verbose("%s; retrying in %ld.%01ld s (attempt %d)",
		    r->why, wait / 1000, wait % 1000 / 100, r->attempts + 1);
	} else {
		*refused = -1;
		msg_note("%s; retrying in %ld.%01ld s (attempt %d)",
		    r->why, wait / 1000, wait % 1000 / 100, r->attempts + 1);
	}
	ts.tv_sec = wait / 1000;
	ts.tv_nsec = (wait % 1000) * 1000000;
	nanosleep(&ts, NULL);
	return 1;
}

enum agcod_result
api_call(struct api_env *env, const struct op *op, const char *body,
    size_t len, struct api_result *r)
{
	struct http_header_out hd[API_NHEADERS + 1];
	long start = mono_ms(), deadline = start + env->retry_for * 1000;
	long refused = -1, sent_at;	/* when this run of refusals began */
	int v, hr = HTTP_OK, was_sent;
	struct pacing pc;
	struct http_gate gate = { pace, &pc, 0 };

	memset(r, 0, sizeof(*r));
	memset(&pc, 0, sizeof(pc));
	pc.env = env;
	pc.op = op;
	pc.r = r;
	for (;;) {
		attempt_begin(r);
		/* a fresh x-amz-date, and so a fresh signature, every attempt */
		r->when = time(NULL);
		if (api_sign(env->prof, op, body, len, r->when, &r->sreq) == -1) {
			r->result = AGCOD_E_INTERNAL;
			api_say(r, "cannot sign the request");
			return r->result;
		}
		was_sent = env->sent;
		env->sent = 1;
		gate_for(&pc, &gate, deadline);
		sent_at = mono_ms();
		hr = (env->post ? env->post : http_post)(env->http, r->sreq.url, hd,
		    api_wire_headers(&r->sreq, hd), body, len,
		    env->pace ? &gate : NULL, &r->resp);
		if (hr == HTTP_HELD) {	/* no rate slot: r says why */
			env->sent = was_sent;
			break;
		}
		r->attempts++;
		v = answers_ours(op, body, len, r, api_classify(r, hr));
		if (env->trace)
			env->trace(env->trace_arg, op, body, len, r);
		/* a refusal of libcurl's silent re-send says nothing of the
		 * first send */
		if ((r->outcome == OUTCOME_UNKNOWN || r->resp.resent) &&
		    env->acted && env->acted(env->acted_arg) == -1)
			break;	/* not recorded: no more attempts */
		if (v == V_DONE ||
		    !wait_to_retry(r, hr, start, deadline, sent_at, &refused))
			break;
	}
	if (hr == HTTP_NOT_SENT && refused != -1 && r->attempts > 1) {
		char last[sizeof(r->why)];

		strlcpy(last, r->why, sizeof(last));
		api_say(r, "%s (%d attempts in %ld s)", last, r->attempts,
		    (long)((mono_ms() - refused + 500) / 1000));
	}
	triage(env->prof, r);
	return r->result;
}
