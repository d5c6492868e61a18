/*
 * cmd_support.c - support-draft: an e-mail draft for an Amazon support case
 * about the latest failed (or unknown) request in the journal, covering what
 * support asks for: partner id, operation, region and marketplace, endpoint,
 * time with time zone, Amazon's request id, the error, whether it still
 * happens (a fresh GetAvailableFunds), versions, operating system, and the
 * request/response pairs from the traces.  Nothing secret is in it: the
 * traces hold no secret, no signing key and no claim code.
 */
#include <sys/utsname.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "json.h"
#include "msg.h"
#include "output.h"
#include "report.h"
#include "statedir.h"
#include "timeutil.h"
#include "trace.h"

#define MAX_PAIRS	6

static int
take(json_t *row, void *arg)
{
	*(json_t **)arg = json_incref(row);
	return 1;
}

/*
 * The request named, or the latest of the profile's partner and
 * environment that failed or may not have happened (as history reads the
 * journal: a production profile's draft is not about a sandbox failure).
 */
static json_t *
pick_entry(struct cmd_ctx *c, struct journal *j, const char *rid)
{
	struct journal_query q;
	json_t *found = NULL;

	memset(&q, 0, sizeof(q));
	q.view = VIEW_REQUESTS;
	q.request_id = rid;
	q.problems = rid == NULL;
	q.newest_first = 1;
	q.limit = 1;
	if (rid == NULL && ctx_scope(c, &q) != 0)
		return NULL;
	journal_query(j, &q, take, &found);
	return found;
}

/*
 * The trace blocks about this request in f (closed here; NULL: none),
 * oldest first, at most MAX_PAIRS
 */
static void
collect(FILE *f, const char *rid, struct buf *out, int *n)
{
	struct buf all = BUF_INIT(16 * 1024 * 1024);
	char chunk[65536];
	const char *p, *next;
	size_t got;

	if (f == NULL)
		return;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&all, chunk, got) == -1)
			break;
	fclose(f);
	for (p = strstr(buf_str(&all), TRACE_MARK); p; p = next) {
		const char *eol = strchr(p, '\n');

		next = strstr(p + 1, TRACE_MARK);
		if (eol == NULL)
			break;
		/* the mark line names the operation and the request id */
		if (memmem(p, (size_t)(eol - p), rid, strlen(rid)) == NULL)
			continue;
		if (*n == MAX_PAIRS) {
			/* keep the latest: drop the oldest block */
			const char *second = strstr(buf_str(out) + 1, TRACE_MARK);

			if (second) {
				struct buf t = BUF_INIT(out->max);

				if (buf_adds(&t, second) == -1) {
					buf_free(&t);
					break;
				}
				buf_free(out);
				*out = t;
				(*n)--;
			}
		}
		/* a block that does not fit is left out, never cut */
		if (buf_add(out, p, next ? (size_t)(next - p) :
		    strlen(p)) == -1)
			break;
		(*n)++;
	}
	buf_free(&all);
}

/*
 * What the service said, from the last response in the trace blocks: the
 * AGCOD error fields, or for a gateway answer (403, InvalidSignature...,
 * throttling) the exception type from __type or x-amzn-ErrorType, and the
 * message with its line breaks.  Fields are NULL when absent.
 */
struct said {
	json_t		*body;
	char		 exception[128];
	const char	*code, *type, *message;
};

static void
last_response(const struct buf *pairs, struct said *s)
{
	const char *all = buf_str(pairs), *p, *r = NULL, *hdr, *end, *body;
	const char *mark = "\n== response (HTTP ";
	json_error_t err;

	memset(s, 0, sizeof(*s));
	for (p = all; (p = strstr(p, mark)) != NULL; p++)
		r = p;
	if (r == NULL || (hdr = strchr(r + 1, '\n')) == NULL)
		return;
	if ((body = strstr(hdr, "\n\n")) == NULL)
		return;
	/* x-amzn-ErrorType: Name[:http://...], among the headers */
	for (p = hdr + 1; p < body; p = strchr(p, '\n') + 1) {
		if (strncasecmp(p, "x-amzn-ErrorType:", 17) == 0) {
			const char *v = p + 17;

			v += strspn(v, " \t");
			snprintf(s->exception, sizeof(s->exception), "%.*s",
			    (int)strcspn(v, ":\r\n"), v);
		}
		if (strchr(p, '\n') == NULL)
			break;
	}
	body += 2;
	end = strstr(body, "\n" TRACE_MARK);
	end = end ? end : strstr(body, "\n== ");
	if ((s->body = json_loadb(body, end ? (size_t)(end - body) :
	    strlen(body), 0, &err)) == NULL || !json_is_object(s->body)) {
		json_decref(s->body);
		s->body = NULL;
		return;
	}
	s->code = json_str(s->body, "errorCode");
	s->type = json_str(s->body, "errorType");
	s->message = json_str_or(s->body, "message", json_str(s->body,
	    "Message"));
	p = json_str(s->body, "__type");
	if (p && s->exception[0] == '\0' && !strstr(p, "Response:")) {
		/* "com.amazon.coral.service#InvalidSignatureException" */
		const char *h = strrchr(p, '#');

		snprintf(s->exception, sizeof(s->exception), "%s",
		    h ? h + 1 : p);
	}
}

/*
 * HTTP ends header lines with CRLF; a draft is pasted into an e-mail, where
 * each line ends with LF alone.  In place; a CR not before LF stays (it is
 * shown as \x0D).
 */
static void
crlf_to_lf(struct buf *b)
{
	size_t i, o = 0;

	for (i = 0; i < b->len; i++)
		if (!(b->data[i] == '\r' && i + 1 < b->len &&
		    b->data[i + 1] == '\n'))
			b->data[o++] = b->data[i];
	buf_setlen(b, o);
}

/* text from the service or the journal, one clean line per line it has */
static void
put_lines(const char *label, const char *text)
{
	char line[1024];
	const char *p = text, *nl;
	int first = 1;

	do {
		size_t n;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		msg_sanitize(line, sizeof(line), p, n);
		if (first || line[0])
			output_printf("%-23s%s\n", first ? label : "", line);
		else
			putchar('\n');
		first = 0;
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
}

static void
clean(char *dst, size_t n, const char *src)
{
	msg_sanitize(dst, n, src, strlen(src));
}

static void
os_name(char *out, size_t n)
{
	char line[256], pretty[260] = "";
	struct utsname u;
	FILE *f;

	if ((f = fopen("/etc/os-release", "re")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
				char *v = line + 12;

				v[strcspn(v, "\n")] = '\0';
				if (*v == '"') {
					v++;
					v[strcspn(v, "\"")] = '\0';
				}
				snprintf(pretty, sizeof(pretty), "%s, ", v);
			}
		fclose(f);
	}
	if (uname(&u) == 0)
		snprintf(out, n, "%s%s %s %s", pretty, u.sysname, u.release,
		    u.machine);
	else
		snprintf(out, n, "%sunknown", pretty);
}

/* does the service still answer? a fresh GetAvailableFunds says */
static void
still_happens(struct cmd_ctx *c, char *out, size_t n)
{
	struct buf body = BUF_INIT(1024);
	struct api_result r;
	struct opreq_in none;
	struct sender *s;
	struct opreq q;
	char why[256], utc[64], local[96];

	memset(&none, 0, sizeof(none));
	if (ctx_sender(c, &s) != 0 || opreq_build(&c->prof, op_find("funds"),
	    &none, &q, why, sizeof(why)) == -1 ||
	    api_body(&c->prof, &q, &body) == -1) {
		snprintf(out, n, "not checked");
		buf_free(&body);
		return;
	}
	api_call(&s->api, q.op, body.data, body.len, &r);
	report_times(time(NULL), utc, sizeof(utc), local, sizeof(local));
	if (r.result == AGCOD_OK)
		snprintf(out, n, "a GetAvailableFunds at %s succeeded (Amazon "
		    "request id %s): the endpoint answers and the keys work",
		    utc, r.resp.request_id[0] ? r.resp.request_id : "-");
	else
		snprintf(out, n, "a GetAvailableFunds at %s failed too: %s%s%s",
		    utc, r.why, r.diagnosis[0] ? "; likely cause: " : "",
		    r.diagnosis);
	api_result_free(&r);
	buf_free(&body);
}

/* what the draft says about one journaled request */
struct draft {
	json_t		*e;
	const char	*rid, *state, *partner;
	const struct op	*op;
	int		 succeeded;
	json_int_t	 status;
	char		 utc[64], local[96], errline[256];
	struct said	 said;
};

/*
 * The error: AGCOD's code and type, else the HTTP status and the
 * gateway's exception type (a 403 has no AGCOD body)
 */
static void
draft_error(struct draft *d)
{
	char hcode[32] = "", ccode[64], ctype[160];
	const char *code, *type;

	code = json_str_or(d->e, "error_code", d->said.code);
	type = json_str_or(d->e, "error_type", d->said.type);
	if (code == NULL && d->status)
		snprintf(hcode, sizeof(hcode), "HTTP %lld",
		    (long long)d->status);
	clean(ccode, sizeof(ccode), code ? code : hcode);
	clean(ctype, sizeof(ctype), type ? type : d->said.exception);
	snprintf(d->errline, sizeof(d->errline), "%s%s%s", ccode,
	    ccode[0] && ctype[0] ? " " : "", ctype);
}

static void
put_subject(const struct draft *d)
{
	const char *op = json_str_or(d->e, "operation", "?");

	if (d->succeeded)
		output_printf("Subject: [AGCOD] %s succeeded: a question about request "
		    "%s (partner %s)\n\n", op, d->rid, d->partner);
	else
		output_printf("Subject: [AGCOD] %s %s: %s (partner %s)\n\n",
		    op, d->state,
		    d->errline[0] ? d->errline : "no error code received",
		    d->partner);
	output_printf("Hello Amazon Incentives API team,\n\n");
	if (d->succeeded)
		output_printf("a request to the Amazon Incentives API succeeded; we have "
		    "a question about it.\nThe details follow.\n\n");
	else if (strcmp(d->state, "failed") == 0)
		output_printf("a request to the Amazon Incentives API failed; the details "
		    "follow.\n\n");
	else
		output_printf("a request to the Amazon Incentives API got no clear "
		    "answer (outcome %s); the\ndetails follow.\n\n", d->state);
}

/* the request: where it went, when, and what came back */
static void
put_request(const struct cmd_ctx *c, const struct draft *d)
{
	json_t *e = d->e;
	char line[256];

	output_printf("Partner id:            %s\n", d->partner);
	output_printf("API:                   Amazon Incentives API (AGCOD)\n");
	output_printf("Type of problem:       %s\n", d->succeeded ?
	    "question about a request that succeeded" : "API error");
	output_printf("Operation:             %s\n", json_str_or(e,
	    "operation", "?"));
	output_printf("Region / marketplace:  %s (signing region %s), %s\n",
	    c->prof.region->name, c->prof.region->signing_region,
	    json_str_or(e, "environment", "?"));
	output_printf("Endpoint:              %s/%s\n", json_str_or(e,
	    "endpoint", "?"), d->op ? d->op->name : "");
	output_printf("Time of the request:   %s\n", d->utc);
	output_printf("  sender's local time: %s\n", d->local);
	output_printf("Our request id:        %s\n", d->rid);
	clean(line, sizeof(line), json_str_or(e, "amazon_request_id",
	    "(none received)"));
	output_printf("Amazon request id:     %s\n", line);
	if (d->status)
		output_printf("HTTP status:           %lld\n",
		    (long long)d->status);
	output_printf("Outcome:               %s after %lld attempt(s)\n",
	    d->state, (long long)json_integer_value(json_object_get(e,
	    "attempts")));
	if (!d->succeeded) {
		output_printf("Error code and type:   %s\n", d->errline[0] ?
		    d->errline : "(none received)");
		/* the service's own words, its line breaks kept */
		put_lines("Error message:", d->said.message ? d->said.message :
		    json_str_or(e, "error", "-"));
		if (d->said.message && json_str(e, "error"))
			put_lines("agcod said:", json_str_or(e, "error", ""));
	}
	if (json_object_get(e, "diagnosis"))
		put_lines("Our diagnosis:", json_str_or(e, "diagnosis", ""));
	if (json_object_get(e, "clock_skew_s"))
		output_printf("Clock offset:          %lld s (the service's Date header "
		    "minus our clock)\n", (long long)json_integer_value(
		    json_object_get(e, "clock_skew_s")));
}

/* the sender's side, the traced exchanges and the greeting */
static void
put_rest(const struct draft *d, const char *now, const char *os,
    const struct buf *pairs, int npairs)
{
	output_printf("Does it still happen:  %s\n", now);
	output_printf("Tool:                  ");
	print_versions_line(stdout);
	output_printf("Operating system:      %s\n", os);
	output_printf("\nWhat we expected:      <fill in>\n"
	    "What we already tried: <fill in>\n"
	    "Recent changes on our side (code, infrastructure): <fill in>\n");
	output_printf("\nBelow are the request/response pairs of the failing calls, "
	    "with the canonical\nrequest, the string to sign and the signature "
	    "of each. The secret key, signing\nkeys and gift card claim codes "
	    "are not included.\n");
	if (npairs)
		output_printf("%s", buf_str(pairs));
	else
		output_printf("\n(no trace of this request was kept: run the command "
		    "again with --trace FILE\nand 'agcod support-draft --trace "
		    "FILE' to attach its exchanges)\n");
	output_printf("\nRegards,\n%s\n", d->partner);
}

/* a failure trace, opened through the held state directory, or NULL */
static FILE *
open_failures(int dfd, const char *name)
{
	FILE *f;
	int fd;

	if (dfd == -1 || (fd = state_file_openat(dfd, name, O_RDONLY)) == -1)
		return NULL;
	if ((f = fdopen(fd, "r")) == NULL)
		close(fd);
	return f;
}

/* the exchanges of rid the failure traces and --trace kept */
static void
collect_all(struct cmd_ctx *c, const char *rid, struct buf *pairs,
    int *npairs)
{
	char why[200];
	int dfd = state_dir_find(c->state_dir, why, sizeof(why));

	collect(open_failures(dfd, TRACE_FAILURES ".1"), rid, pairs, npairs);
	collect(open_failures(dfd, TRACE_FAILURES), rid, pairs, npairs);
	if (c->args.val[O_TRACE])
		collect(fopen(c->args.val[O_TRACE], "re"), rid, pairs, npairs);
	crlf_to_lf(pairs);
}

int
cmd_support_draft(struct cmd_ctx *c)
{
	const char *rid = c->args.val[O_REQUEST_ID];
	char os[600], now[1400];
	struct buf pairs = BUF_INIT(8 * 1024 * 1024);
	struct draft d;
	struct journal *j;
	time_t when = 0;
	int npairs = 0;

	if ((j = ctx_journal(c)) == NULL) {
		buf_free(&pairs);
		return EX_IOERR;
	}
	memset(&d, 0, sizeof(d));
	if ((d.e = pick_entry(c, j, rid)) == NULL) {
		buf_free(&pairs);
		return usage_error(c->cmd, rid ? "the journal has no request "
		    "with id '%s'" : "the journal has no failed request%s of "
		    "this profile's partner and environment; name one with "
		    "--request-id", rid ? rid : "");
	}
	ctx_keep(c, d.e);
	d.rid = json_str_or(d.e, "request_id", "-");
	d.op = op_by_name(json_str_or(d.e, "operation", ""));
	d.partner = json_str_or(d.e, "partner", c->prof.partner_id);
	time_parse_iso(json_str_or(d.e, "updated", json_str(d.e, "time")),
	    &when);
	report_times(when, d.utc, sizeof(d.utc), d.local, sizeof(d.local));

	collect_all(c, d.rid, &pairs, &npairs);
	still_happens(c, now, sizeof(now));
	os_name(os, sizeof(os));

	last_response(&pairs, &d.said);
	d.state = json_str_or(d.e, "state", "?");
	d.succeeded = strcmp(d.state, "succeeded") == 0;
	d.status = json_integer_value(json_object_get(d.e, "http_status"));
	draft_error(&d);

	put_subject(&d);
	put_request(c, &d);
	put_rest(&d, now, os, &pairs, npairs);
	json_decref(d.said.body);
	buf_free(&pairs);
	return 0;
}
