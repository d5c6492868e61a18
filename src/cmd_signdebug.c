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
#include "json.h"
#include "msg.h"
#include "output.h"
#include "rawreq.h"
#include "report.h"
#include "send.h"

#define RAW_MAX	(1024 * 1024)

static void
emit(const struct cmd_ctx *c, const struct report *r)
{
	if (c->out == OUT_JSON) {
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

static int
op_mode(struct cmd_ctx *c, const struct op *op, time_t when)
{
	struct buf body = BUF_INIT(64 * 1024);
	char keyhex[SIGV4_HEX_LEN + 1], date8[9];
	struct signed_req sreq;
	struct api_result res;
	struct report rep;
	struct opreq req;
	int rc;

	if ((rc = op_prepare(c, op, &req)) != 0)
		return rc;
	if (c->args.seen[O_SEND] && (rc = ctx_open_state(c, 1)) != 0)
		return rc;
	if (api_body(&c->prof, &req, &body) == -1) {
		buf_free(&body);
		return EX_SOFTWARE;
	}
	memset(&rep, 0, sizeof(rep));
	memset(&res, 0, sizeof(res));
	if (c->args.seen[O_SEND]) {
		rc = op_send(c, &req, &body, &res);
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
		api_result_free(&res);
	} else
		api_signed_free(&sreq);
	buf_free(&body);
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

/* which common mistake reproduces the provided signature */
static void
diagnose(const struct rawsign *rs, const struct sigv4_authz *z,
    char *out, size_t n)
{
	static const struct {
		unsigned	 m;
		const char	*what;
	} mistakes[] = {
		{ SIGV4_M_SWAPPED_HMAC, "key and data swapped in the HMAC "
		    "calls that derive the signing key" },
		{ SIGV4_M_NO_AWS4_PREFIX, "the secret was used without the "
		    "\"AWS4\" prefix for the first key" },
		{ SIGV4_M_HEX_KEYS, "intermediate keys were passed on as hex "
		    "text instead of raw binary" },
		{ SIGV4_M_UNSORTED, "header names not sorted in the canonical "
		    "request" },
		{ SIGV4_M_NAME_CASE, "header names not lower-cased in the "
		    "canonical request" },
		{ SIGV4_M_NAME_CASE | SIGV4_M_UNSORTED, "header names neither "
		    "lower-cased nor sorted in the canonical request" },
		{ SIGV4_M_UNTRIMMED, "header values not trimmed (spaces kept "
		    "around or inside values)" },
	};
	const char *want = z->signature, *b = rs->in.body;
	size_t bl = rs->in.body_len, i;
	struct buf alt = BUF_INIT(RAW_MAX + 2);

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
	for (i = 0; i < sizeof(mistakes) / sizeof(mistakes[0]); i++)
		if (sign_variant(rs, mistakes[i].m, NULL, NULL, NULL, NULL, 0,
		    want)) {
			snprintf(out, n, "%s", mistakes[i].what);
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

static int
raw_mode(struct cmd_ctx *c, int have_date, time_t when)
{
	const char *file = c->args.val[O_REQUEST_FILE], *d, *region;
	char *text, err[256], url[600], diag[512];
	struct sigv4_authz z;
	struct sigv4_output o;
	struct rawsign rs;
	struct rawreq rq;
	struct report rep;
	size_t len, i;
	int rc = 0;

	if ((text = buf_slurp(strcmp(file, "-") ? file : NULL,
	    RAW_MAX, &len)) == NULL) {
		return usage_error(c->cmd, "cannot read '%s': %s", file,
		    strerror(errno));
	}
	if (rawreq_parse(text, len, &rq, err, sizeof(err)) == -1) {
		free(text);
		return usage_error(c->cmd, "'%s' is not a raw HTTP request: %s",
		    file, err);
	}
	free(text);
	if (rq.authorization && sigv4_parse_authz(rq.authorization, &z) == -1) {
		rawreq_free(&rq);
		return usage_error(c->cmd, "'%s': the Authorization header is "
		    "not an AWS4-HMAC-SHA256 header", file);
	}
	if (!have_date) {
		if ((d = rawreq_header(&rq, "x-amz-date")) == NULL) {
			rawreq_free(&rq);
			return usage_error(c->cmd, "'%s' has no X-Amz-Date "
			    "header; give --date", file);
		}
		while (*d == ' ' || *d == '\t')
			d++;
		if (sigv4_parse_date(d, &when) == -1) {
			rc = usage_error(c->cmd, "'%s': X-Amz-Date '%s' is not "
			    "YYYYMMDDTHHMMSSZ", file, d);
			rawreq_free(&rq);
			return rc;
		}
	}
	region = c->args.val[O_REGION];
	if (region == NULL)
		region = c->prof.region->signing_region;
	else if (region_find(region))
		region = region_find(region)->signing_region;

	memset(&rs, 0, sizeof(rs));
	rs.rq = &rq;
	/* a verifier signs the headers the Authorization header lists */
	for (i = 0; i < rq.nheaders; i++)
		if (!rq.authorization ||
		    sigv4_header_listed(z.signed_headers, rq.headers[i].name))
			rs.h[rs.nh++] = rq.headers[i];
	rawreq_sigv4_input(&rq, &rs.in);
	rs.in.headers = rs.h;
	rs.in.nheaders = rs.nh;
	rs.in.access_key_id = c->prof.access_key_id;
	rs.in.secret = c->prof.secret;
	rs.in.secret_len = c->prof.secret_len;
	rs.in.region = region;
	rs.in.service = c->args.val[O_SERVICE] ? c->args.val[O_SERVICE] :
	    "AGCODService";
	rs.in.when = when;
	if (sigv4_sign(&rs.in, &o) == -1) {
		rawreq_free(&rq);
		return EX_SOFTWARE;
	}
	d = rawreq_header(&rq, "host");
	while (d && (*d == ' ' || *d == '\t'))
		d++;
	snprintf(url, sizeof(url), "https://%s%s%s%s", d ? d : "?", rq.path,
	    rq.query ? "?" : "", rq.query ? rq.query : "");

	memset(&rep, 0, sizeof(rep));
	rep.operation = "raw request";
	rep.endpoint = url;
	rep.method = rq.method;
	rep.path = rq.path;
	rep.query = rq.query;
	rep.headers = rs.h;
	rep.nheaders = rs.nh;
	rep.body = rq.body;
	rep.body_len = rq.body_len;
	rep.sig = &o;
	rep.when = when;
	rep.access_key_id = c->prof.access_key_id;
	rep.region = rs.in.region;
	rep.service = rs.in.service;
	if (rq.authorization) {
		rep.verified = 1;
		rep.provided = z.signature;
		rep.match = strcmp(z.signature, o.signature) == 0;
		if (!rep.match) {
			diagnose(&rs, &z, diag, sizeof(diag));
			rep.diagnosis = diag;
			rc = EX_DATAERR;
		}
	}
	emit(c, &rep);
	if (rc)
		msg_err("signature mismatch: %s", diag);
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
		if (a->npos == 0)
			return usage_error(c->cmd, "no OPERATION: give one of "
			    "create, cancel, funds, load, void, activate, "
			    "deactivate, activation-status, or --request FILE");
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
