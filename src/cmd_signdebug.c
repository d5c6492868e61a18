/*
 * cmd_signdebug.c - sign-debug: show every step of signing an operation
 * (optionally send it), or sign a raw HTTP request and check the signature
 * it carries, naming the common mistake that reproduces a wrong one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agcod.h"
#include "api.h"
#include "cli.h"
#include "ctx.h"
#include "guard.h"
#include "json.h"
#include "msg.h"
#include "outcome.h"
#include "output.h"
#include "rawreq.h"
#include "report.h"
#include "send.h"
#include "trace.h"

#define RAW_MAX	(1024 * 1024)

/*
 * The report is made to be attached to a support case, so 'sign-debug >
 * case.txt' gives the readable text, as support-draft does; JSON only when
 * -o json asks for it (issue 19).
 */
static void
emit(const struct cmd_ctx *c, const struct report *r)
{
	if (c->out == OUT_JSON && c->args.val[O_OUTPUT] != NULL) {
		json_t *j = report_json(r);

		if (output_json(stdout, j) == -1)
			msg_err("cannot write the report");
		json_decref(j);
	} else
		report_text(stdout, r);
}

static int
signing_key_hex(const struct cmd_ctx *c, const char *date8,
    const char *region, const char *service, char hex[SIGV4_HEX_LEN + 1])
{
	unsigned char k[SIGV4_KEY_LEN];
	int r;

	r = sigv4_signing_key(c->prof.secret, c->prof.secret_len, date8,
	    region, service, 0, k);
	sigv4_hex(k, sizeof(k), hex);
	explicit_bzero(k, sizeof(k));
	if (r == 0)
		msg_warn("the signing key printed below can sign any request "
		    "for %s, %s and %s: do not share it", date8, region,
		    service);
	return r;
}

/* ---- operation mode ---- */

#define DERIVED_DIGITS	24

/*
 * With --date and no --request-id the same input must give the same output
 * (agcod(1), sign-debug), so the request id cannot be random: derive it from the
 * partner id, the operation, the date and every option value.  The id is
 * the partner id and base-62 digits of their SHA-256: alphanumeric, at most
 * REQID_MAX characters, starting with the partner id, as reqid_check wants.
 */
static int
derive_request_id(const struct cmd_ctx *c, const struct op *op,
    const char *date, char out[REQID_MAX + 1])
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct buf in = BUF_INIT(64 * 1024);
	char hex[SIGV4_HEX_LEN + 1];
	size_t plen = strlen(c->prof.partner_id), n, i;
	int id, e = 0;

	if (plen + 8 > REQID_MAX)
		return -1;
	n = REQID_MAX - plen < DERIVED_DIGITS ? REQID_MAX - plen :
	    DERIVED_DIGITS;
	e |= buf_adds(&in, "agcod sign-debug request id\n");
	e |= buf_adds(&in, c->prof.partner_id);
	e |= buf_addc(&in, '\n');
	e |= buf_adds(&in, op->name);
	e |= buf_addc(&in, '\n');
	e |= buf_adds(&in, date);
	/* the operation's own options, by name: -o or -v change nothing */
	for (i = 0; i < nop_options; i++) {
		const char *name = op_options[i].name;

		if (!op_takes(op, name) || strcmp(name, "request-id") == 0 ||
		    (id = opt_id(name)) < 0 || c->args.val[id] == NULL)
			continue;
		e |= buf_addc(&in, '\n');
		e |= buf_adds(&in, name);
		e |= buf_addc(&in, '=');
		e |= buf_adds(&in, c->args.val[id]);
	}
	if (e || sigv4_sha256_hex(in.data, in.len, hex) == -1) {
		buf_free(&in);
		return -1;
	}
	buf_free(&in);
	memcpy(out, c->prof.partner_id, plen);
	for (i = 0; i < n; i++) {
		unsigned v = (unsigned)strtoul((char[3]){ hex[2 * i],
		    hex[2 * i + 1], '\0' }, NULL, 16);

		out[plen + i] = b62[v % 62];
	}
	out[plen + n] = '\0';
	return 0;
}

/* sign (and with --send, send) a prepared request, and report it */
static int
sign_or_send(struct cmd_ctx *c, const struct op *op, struct opreq *req,
    time_t when)
{
	struct buf body = BUF_INIT(64 * 1024);
	char keyhex[SIGV4_HEX_LEN + 1], date8[9];
	struct signed_req sreq;
	struct api_result res;
	struct report rep;
	struct sender *s = NULL;
	int rc;

	if (api_body(&c->prof, req, &body) == -1) {
		buf_free(&body);
		return EX_SOFTWARE;
	}
	memset(&rep, 0, sizeof(rep));
	memset(&res, 0, sizeof(res));
	if (c->args.seen[O_SEND] && ((rc = exit_code(guard_request(&c->prof,
	    c->args.seen[O_YES], req))) != 0 ||
	    (rc = ctx_sender(c, &s)) != 0)) {
		buf_free(&body);
		return rc;
	}
	if (c->args.seen[O_SEND]) {
		rc = exit_code(op_send(s, req, &body, &res));
		sreq = res.sreq;
		when = res.when;
		rep.attempt = res.attempts;
		if (res.have_resp && res.resp.status)
			rep.resp = &res.resp;
		else
			rep.transport_error = res.why;
	} else if (api_sign(&c->prof, op, body.data, body.len, when,
	    &sreq) == -1) {
		buf_free(&body);
		return EX_SOFTWARE;
	} else
		rc = 0;
	rep.operation = op->name;
	rep.endpoint = sreq.url;
	rep.method = "POST";
	rep.path = sreq.path;
	rep.headers = sreq.headers;
	rep.nheaders = API_NHEADERS;
	rep.body = body.data;
	rep.body_len = body.len;
	rep.sig = &sreq.sig;
	rep.when = when;
	rep.partner_id = c->prof.partner_id;
	rep.access_key_id = c->prof.access_key_id;
	rep.region = c->prof.region->signing_region;
	rep.service = "AGCODService";
	memcpy(date8, sreq.sig.amz_date, 8);
	date8[8] = '\0';
	if (c->args.seen[O_SHOW_KEY]) {
		if (signing_key_hex(c, date8, rep.region, rep.service,
		    keyhex) == -1)
			rc = EX_SOFTWARE;
		rep.signing_key = keyhex;
	}
	emit(c, &rep);
	explicit_bzero(keyhex, sizeof(keyhex));
	if (c->args.seen[O_SEND]) {
		if (rc)
			msg_err("%s: %s", op->cmd, res.why);
		outcome_notice_sent(c->prof.production, req, &res);
		api_result_free(&res);
	} else
		api_signed_free(&sreq);
	buf_free(&body);
	return rc;
}

static int
op_mode(struct cmd_ctx *c, const struct op *op, time_t when)
{
	char derived[REQID_MAX + 1];
	struct opreq req;
	int rc;

	if (op->id_field && c->args.val[O_REQUEST_ID] == NULL &&
	    c->args.val[O_DATE] != NULL) {
		if (derive_request_id(c, op, c->args.val[O_DATE], derived) == -1)
			return usage_error(c->cmd, "partner id too long to derive "
			    "a request id: give --request-id");
		c->args.val[O_REQUEST_ID] = derived;
	}
	/* --send: the journal and a --trace that cannot be written refuse
	 * before anything else, as for the sending commands */
	if (c->args.seen[O_SEND] && ((rc = ctx_open_state(c, 1)) != 0 ||
	    (rc = trace_prepare(c)) != 0))
		return rc;
	if ((rc = ctx_prepare(c, op, &req)) != 0)
		return rc;
	rc = sign_or_send(c, op, &req, when);
	opreq_free(&req);
	return rc;
}

/* ---- raw request mode ---- */

struct rawsign {
	const struct rawreq	*rq;
	struct sigv4_header	 h[RAWREQ_MAX_HEADERS];
	size_t			 nh;
	struct sigv4_input	 in;
};

static int
sign_variant(const struct rawsign *rs, unsigned mistakes, const char *region,
    const char *service, const char *scope_date, const char *body,
    size_t body_len, const char *want)
{
	struct sigv4_input in = rs->in;
	struct sigv4_output o;
	int same;

	in.mistakes = mistakes;
	if (region)
		in.region = region;
	if (service)
		in.service = service;
	if (scope_date)
		in.scope_date = scope_date;
	if (body) {
		in.body = body;
		in.body_len = body_len;
	}
	if (sigv4_sign(&in, &o) == -1)
		return 0;
	same = strcmp(o.signature, want) == 0;
	sigv4_output_free(&o);
	return same;
}

static const char *const step_name[6] = { "", "kDate", "kRegion",
    "kService", "kSigning", "the signature" };

/* "1 (kDate), 2 (kRegion) and 5 (the signature)" */
static int
say_steps(struct buf *b, unsigned bits, int keys_fed)
{
	int n, total = 0, done = 0, e = 0;
	char num[32];

	for (n = 1; n <= 5; n++)
		total += (bits & SIGV4_STEP(n)) != 0;
	for (n = 1; n <= 5; n++) {
		if (!(bits & SIGV4_STEP(n)))
			continue;
		if (done > 0)
			e |= buf_adds(b, done + 1 == total ? " and " : ", ");
		done++;
		if (keys_fed) {
			/* the key fed into step n is step n-1's result */
			e |= buf_adds(b, step_name[n - 1]);
			snprintf(num, sizeof(num), " (into step %d)", n);
			e |= buf_adds(b, num);
		} else {
			snprintf(num, sizeof(num), "%d (", n);
			e |= buf_adds(b, num);
			e |= buf_adds(b, step_name[n]);
			e |= buf_addc(b, ')');
		}
	}
	return e;
}

struct found {
	int		 ok;
	int		 count;		/* how many mistakes: the fewest wins */
	unsigned	 headers;	/* SIGV4_M_UNSORTED | _NAME_CASE | _UNTRIMMED */
	int		 no_prefix;
	unsigned	 swap, hex;	/* SIGV4_STEP bits */
};

static int
bits(unsigned v)
{
	int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/*
 * Every combination of the key-chain mistakes (no "AWS4" prefix; key and
 * data swapped in any of the five HMAC steps; any derived key passed on as
 * hex text, the final signing key included), over every string to sign the
 * header mistakes give: 1024 signing keys' worth of HMACs, then one HMAC
 * per (string to sign, key, final-step variant), a few thousand in all.
 */
static void
search_chain(const struct rawsign *rs, const char *want, struct found *best)
{
	static const unsigned hdr[] = { 0, SIGV4_M_UNSORTED, SIGV4_M_NAME_CASE,
	    SIGV4_M_NAME_CASE | SIGV4_M_UNSORTED, SIGV4_M_UNTRIMMED,
	    SIGV4_M_UNTRIMMED | SIGV4_M_UNSORTED,
	    SIGV4_M_UNTRIMMED | SIGV4_M_NAME_CASE,
	    SIGV4_M_UNTRIMMED | SIGV4_M_NAME_CASE | SIGV4_M_UNSORTED };
	enum { NKEYS = 2 * 16 * 8 };
	unsigned char (*keys)[SIGV4_KEY_LEN];
	char *sts[sizeof(hdr) / sizeof(hdr[0])], date8[9], sig[SIGV4_HEX_LEN + 1];
	size_t h, g, k, nsts = 0;
	unsigned fin;

	memset(best, 0, sizeof(*best));
	if ((keys = calloc(NKEYS, SIGV4_KEY_LEN)) == NULL)
		return;
	for (h = 0; h < sizeof(hdr) / sizeof(hdr[0]); h++) {
		struct sigv4_input in = rs->in;
		struct sigv4_output o;

		sts[h] = NULL;
		in.mistakes = hdr[h];
		if (sigv4_sign(&in, &o) == -1)
			continue;
		if (h == 0)
			memcpy(date8, o.amz_date, 8);
		for (g = 0; g < h; g++)
			if (sts[g] && strcmp(sts[g], o.string_to_sign) == 0)
				break;
		if (g == h) {
			sts[h] = o.string_to_sign;
			o.string_to_sign = NULL;
			nsts++;
		}
		sigv4_output_free(&o);
	}
	date8[8] = '\0';
	if (rs->in.scope_date)
		memcpy(date8, rs->in.scope_date, 8);
	/* key index: no_prefix * 128 + swap(steps 1-4) * 8 + hex(steps 2-4) */
	for (k = 0; k < NKEYS && nsts > 0; k++)
		if (sigv4_key_chain(rs->in.secret, rs->in.secret_len,
		    (int)(k / 128), date8, rs->in.region, rs->in.service,
		    (unsigned)(k / 8 % 16), (unsigned)(k % 8) << 1,
		    keys[k]) == -1)
			goto done;
	for (h = 0; h < sizeof(hdr) / sizeof(hdr[0]); h++) {
		if (sts[h] == NULL)
			continue;
		for (k = 0; k < NKEYS; k++)
			for (fin = 0; fin < 4; fin++) {
				struct found f;

				f.ok = 1;
				f.headers = hdr[h];
				f.no_prefix = (int)(k / 128);
				f.swap = (unsigned)(k / 8 % 16) |
				    (fin & 1 ? SIGV4_STEP(5) : 0);
				f.hex = ((unsigned)(k % 8) << 1) |
				    (fin & 2 ? SIGV4_STEP(5) : 0);
				f.count = bits(f.headers) + f.no_prefix +
				    bits(f.swap) + bits(f.hex);
				if (f.count == 0 ||
				    (best->ok && f.count >= best->count))
					continue;
				if (sigv4_final_step(keys[k], sts[h],
				    strlen(sts[h]), f.swap, f.hex, sig) == 0 &&
				    strcmp(sig, want) == 0)
					*best = f;
			}
	}
done:
	explicit_bzero(keys, (size_t)NKEYS * SIGV4_KEY_LEN);
	explicit_bzero(sig, sizeof(sig));
	free(keys);
	for (h = 0; h < sizeof(hdr) / sizeof(hdr[0]); h++)
		free(sts[h]);
}

/* the mistakes found, named step by step */
static void
describe(const struct found *f, char *out, size_t n)
{
	struct buf b = BUF_INIT(4096);
	int e = 0, parts = 0;

#define SEP() do { if (parts++) e |= buf_adds(&b, "; "); } while (0)
	if (f->no_prefix) {
		SEP();
		e |= buf_adds(&b, "the secret was used without the \"AWS4\" "
		    "prefix for the first key");
	}
	if (f->swap) {
		SEP();
		e |= buf_adds(&b, "key and data swapped in ");
		if (f->swap == SIGV4_CHAIN_STEPS)
			e |= buf_adds(&b, "the HMAC calls that derive the "
			    "signing key: steps ");
		else
			e |= buf_adds(&b, bits(f->swap) > 1 ? "HMAC steps " :
			    "HMAC step ");
		e |= say_steps(&b, f->swap, 0);
	}
	if (f->hex) {
		SEP();
		e |= buf_adds(&b, "keys passed on as hex text instead of raw "
		    "binary: ");
		e |= say_steps(&b, f->hex, 1);
	}
	if ((f->headers & (SIGV4_M_UNSORTED | SIGV4_M_NAME_CASE)) ==
	    (SIGV4_M_UNSORTED | SIGV4_M_NAME_CASE)) {
		SEP();
		e |= buf_adds(&b, "header names neither lower-cased nor sorted "
		    "in the canonical request");
	} else if (f->headers & SIGV4_M_UNSORTED) {
		SEP();
		e |= buf_adds(&b, "header names not sorted in the canonical "
		    "request");
	} else if (f->headers & SIGV4_M_NAME_CASE) {
		SEP();
		e |= buf_adds(&b, "header names not lower-cased in the "
		    "canonical request");
	}
	if (f->headers & SIGV4_M_UNTRIMMED) {
		SEP();
		e |= buf_adds(&b, "header values not trimmed (spaces kept "
		    "around or inside values)");
	}
#undef SEP
	snprintf(out, n, "%s", e ? "several signing mistakes" : buf_str(&b));
	buf_free(&b);
}

/* which common mistakes reproduce the provided signature */
static void
diagnose(const struct rawsign *rs, const struct sigv4_authz *z,
    char *out, size_t n)
{
	const char *want = z->signature, *b = rs->in.body;
	size_t bl = rs->in.body_len, i;
	struct buf alt = BUF_INIT(RAW_MAX + 2);
	struct found f;

	if (strcmp(z->region, rs->in.region) && sign_variant(rs, 0, z->region,
	    NULL, NULL, NULL, 0, want)) {
		snprintf(out, n, "wrong region in the credential scope: "
		    "signed for '%s', the endpoint expects '%s'", z->region,
		    rs->in.region);
		return;
	}
	if (strcmp(z->service, rs->in.service) && sign_variant(rs, 0, NULL,
	    z->service, NULL, NULL, 0, want)) {
		snprintf(out, n, "wrong service in the credential scope: "
		    "signed for '%s', expected '%s'", z->service,
		    rs->in.service);
		return;
	}
	{
		char d[17];

		sigv4_format_date(rs->in.when, d);
		if (strncmp(d, z->date, 8) && sign_variant(rs, 0, NULL, NULL,
		    z->date, NULL, 0, want)) {
			snprintf(out, n, "wrong date in the credential scope: "
			    "'%s', but x-amz-date is %s", z->date, d);
			return;
		}
	}
	search_chain(rs, want, &f);
	if (f.ok) {
		describe(&f, out, n);
		return;
	}
	/* the payload hash of other bytes than the body sent */
	{
		const char *what[4] = { "an empty body",
		    "the body with a trailing newline",
		    "the body without its trailing white space",
		    "the body with white space removed (minified JSON)" };

		for (i = 0; i < 4; i++) {
			buf_reset(&alt);
			if (i == 1) {
				/* a body this large cannot be the one sent */
				if (buf_add(&alt, b, bl) == -1 ||
				    buf_addc(&alt, '\n') == -1)
					continue;
			} else if (i == 2) {
				size_t l = bl;

				while (l && strchr(" \t\r\n", b[l - 1]))
					l--;
				if (l == bl || buf_add(&alt, b, l) == -1)
					continue;
			} else if (i == 3 && (json_minify(b, bl, &alt) == -1 ||
			    (alt.len == bl)))
				continue;
			if (sign_variant(rs, 0, NULL, NULL, NULL,
			    alt.data ? alt.data : "", alt.len, want)) {
				snprintf(out, n, "the payload hash is of other "
				    "bytes than the body sent: it matches %s; "
				    "hash exactly the bytes you send", what[i]);
				buf_free(&alt);
				return;
			}
		}
	}
	buf_free(&alt);
	if (strcmp(z->access_key_id, rs->in.access_key_id))
		snprintf(out, n, "signed with access key id '%s', but the "
		    "profile uses '%s': a different secret key", z->access_key_id,
		    rs->in.access_key_id);
	else
		snprintf(out, n, "no common mistake reproduces it: check that "
		    "the secret key is the one for access key id '%s'",
		    z->access_key_id);
}

/* FILE as a raw request, and its Authorization header; 0, or an exit */
static int
raw_read(struct cmd_ctx *c, const char *file, struct rawreq *rq,
    struct sigv4_authz *z)
{
	char *text, err[256];
	size_t len;

	if ((text = buf_slurp(strcmp(file, "-") ? file : NULL,
	    RAW_MAX, &len)) == NULL) {
		return usage_error(c->cmd, "cannot read '%s': %s", file,
		    strerror(errno));
	}
	if (rawreq_parse(text, len, rq, err, sizeof(err)) == -1) {
		free(text);
		return usage_error(c->cmd, "'%s' is not a raw HTTP request: %s",
		    file, err);
	}
	free(text);
	if (rq->authorization && sigv4_parse_authz(rq->authorization,
	    z) == -1) {
		rawreq_free(rq);
		return usage_error(c->cmd, "'%s': the Authorization header is "
		    "not an AWS4-HMAC-SHA256 header", file);
	}
	if (rq->authorization && strcmp(z->access_key_id,
	    c->prof.access_key_id) != 0)
		msg_warn("the request's Authorization names access key id "
		    "'%s', but profile '%s' uses '%s': it is checked with that "
		    "profile's secret key, not the one for '%s'",
		    z->access_key_id, c->prof.name, c->prof.access_key_id,
		    z->access_key_id);
	return 0;
}

/* the request's X-Amz-Date, when --date is not given; 0, or an exit */
static int
raw_date(struct cmd_ctx *c, const char *file, struct rawreq *rq,
    time_t *when)
{
	const char *d;
	int rc;

	if ((d = rawreq_header(rq, "x-amz-date")) == NULL) {
		rawreq_free(rq);
		return usage_error(c->cmd, "'%s' has no X-Amz-Date "
		    "header; give --date", file);
	}
	while (*d == ' ' || *d == '\t')
		d++;
	if (sigv4_parse_date(d, when) == -1) {
		rc = usage_error(c->cmd, "'%s': X-Amz-Date '%s' is not "
		    "YYYYMMDDTHHMMSSZ", file, d);
		rawreq_free(rq);
		return rc;
	}
	return 0;
}

/* what a verifier signs: the headers Authorization lists, the profile */
static void
raw_sign_input(struct cmd_ctx *c, struct rawreq *rq,
    const struct sigv4_authz *z, struct rawsign *rs, time_t when)
{
	const char *region = c->args.val[O_REGION];
	size_t i;

	if (region == NULL)
		region = c->prof.region->signing_region;
	else if (region_find(region))
		region = region_find(region)->signing_region;

	memset(rs, 0, sizeof(*rs));
	rs->rq = rq;
	/* a verifier signs the headers the Authorization header lists */
	for (i = 0; i < rq->nheaders; i++)
		if (!rq->authorization ||
		    sigv4_header_listed(z->signed_headers, rq->headers[i].name))
			rs->h[rs->nh++] = rq->headers[i];
	rawreq_sigv4_input(rq, &rs->in);
	rs->in.headers = rs->h;
	rs->in.nheaders = rs->nh;
	rs->in.access_key_id = c->prof.access_key_id;
	rs->in.secret = c->prof.secret;
	rs->in.secret_len = c->prof.secret_len;
	rs->in.region = region;
	rs->in.service = c->args.val[O_SERVICE] ? c->args.val[O_SERVICE] :
	    "AGCODService";
	rs->in.when = when;
}

/* the report of a raw request signed as o; 0, or EX_DATAERR on a mismatch */
static int
raw_report(struct cmd_ctx *c, struct rawreq *rq, struct rawsign *rs,
    const struct sigv4_authz *z, const struct sigv4_output *o)
{
	char url[600], diag[512];
	struct report rep;
	const char *d;
	int rc = 0;

	d = rawreq_header(rq, "host");
	while (d && (*d == ' ' || *d == '\t'))
		d++;
	snprintf(url, sizeof(url), "https://%s%s%s%s", d ? d : "?", rq->path,
	    rq->query ? "?" : "", rq->query ? rq->query : "");

	memset(&rep, 0, sizeof(rep));
	rep.operation = "raw request";
	rep.endpoint = url;
	rep.method = rq->method;
	rep.path = rq->path;
	rep.query = rq->query;
	rep.headers = rs->h;
	rep.nheaders = rs->nh;
	rep.body = rq->body;
	rep.body_len = rq->body_len;
	rep.sig = o;
	rep.when = rs->in.when;
	rep.access_key_id = c->prof.access_key_id;
	rep.region = rs->in.region;
	rep.service = rs->in.service;
	if (rq->authorization) {
		rep.verified = 1;
		rep.provided = z->signature;
		rep.match = strcmp(z->signature, o->signature) == 0;
		if (!rep.match) {
			diagnose(rs, z, diag, sizeof(diag));
			rep.diagnosis = diag;
			rc = EX_DATAERR;
		}
	}
	emit(c, &rep);
	if (rc)
		msg_err("signature mismatch: %s", diag);
	return rc;
}

static int
raw_mode(struct cmd_ctx *c, int have_date, time_t when)
{
	const char *file = c->args.val[O_REQUEST_FILE];
	struct sigv4_authz z;
	struct sigv4_output o;
	struct rawsign rs;
	struct rawreq rq;
	int rc;

	if ((rc = raw_read(c, file, &rq, &z)) != 0)
		return rc;
	if (!have_date && (rc = raw_date(c, file, &rq, &when)) != 0)
		return rc;
	raw_sign_input(c, &rq, &z, &rs, when);
	if (sigv4_sign(&rs.in, &o) == -1) {
		rawreq_free(&rq);
		return EX_SOFTWARE;
	}
	rc = raw_report(c, &rq, &rs, &z, &o);
	sigv4_output_free(&o);
	rawreq_free(&rq);
	return rc;
}

int
cmd_sign_debug(struct cmd_ctx *c)
{
	const struct args *a = &c->args;
	const struct cmd *opcmd = NULL;
	const struct op *op = NULL;
	time_t when = time(NULL);
	size_t i;
	int id;

	if (a->val[O_REQUEST_FILE]) {
		if (a->npos > 0)
			return usage_error(c->cmd, "give either OPERATION or "
			    "--request, not both");
		if (a->seen[O_SEND] || a->seen[O_SHOW_KEY])
			return usage_error(c->cmd, "--send and "
			    "--show-signing-key go with OPERATION, not "
			    "--request");
	} else {
		if (a->npos == 0) {
			char all[256];
			size_t n = 0;

			for (i = 0; i < nops && n < sizeof(all); i++)
				n += (size_t)snprintf(all + n, sizeof(all) - n,
				    "%s, ", ops[i].cmd);
			return usage_error(c->cmd, "no OPERATION: give one of "
			    "%sor --request FILE", all);
		}
		if (a->npos > 1)
			return usage_error(c->cmd, "unexpected argument '%s'",
			    a->pos[1]);
		if ((op = op_find(a->pos[0])) == NULL)
			return usage_error(c->cmd, "'%s' is not an operation",
			    a->pos[0]);
		opcmd = cmd_find(op->cmd);
		if (a->seen[O_SERVICE])
			return usage_error(c->cmd, "--service goes with "
			    "--request");
	}
	for (id = 1; id < O_COUNT; id++)
		if (a->seen[id] && !opt_applies(id, c->cmd) &&
		    !(opcmd && opt_applies(id, opcmd)))
			return usage_error(c->cmd, "'--%s' does not apply to "
			    "'%s'", opt_name(id), opcmd ? opcmd->name :
			    "sign-debug --request");
	if (a->val[O_DATE]) {
		if (a->seen[O_SEND])
			return usage_error(c->cmd, "--date and --send do not "
			    "go together: a sent request is signed now");
		if (sigv4_parse_date(a->val[O_DATE], &when) == -1)
			return usage_error(c->cmd, "--date '%s' is not "
			    "YYYYMMDDTHHMMSSZ", a->val[O_DATE]);
	}
	if (op == NULL)
		return raw_mode(c, a->val[O_DATE] != NULL, when);
	return op_mode(c, op, when);
}
