/*
 * cmd_verify.c - verify: one harmless signed call (GetAvailableFunds) with
 * the profile's key, and what it proved: the service accepted this key for
 * this partner at this endpoint, how far the local clock is from the
 * service's, and how old the key is.  The step Amazon's key rotation
 * checklist asks for after switching keys and after deactivating the old
 * one; 'agcod verify -p new-key' checks a key before switching to it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "msg.h"
#include "output.h"
#include "rotation.h"
#include "send.h"

/* the report as (key, value) pairs; values point into `text` or the profile */
struct report_rows {
	const char	*kv[32];
	size_t		 n;
	char		 text[8][160];
	size_t		 nt;
};

static void
row(struct report_rows *r, const char *k, const char *v)
{
	if (r->n + 2 <= sizeof(r->kv) / sizeof(r->kv[0])) {
		r->kv[r->n++] = k;
		r->kv[r->n++] = v;
	}
}

static void
rowf(struct report_rows *r, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rowf(struct report_rows *r, const char *k, const char *fmt, ...)
{
	va_list ap;

	if (r->nt >= sizeof(r->text) / sizeof(r->text[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(r->text[r->nt], sizeof(r->text[0]), fmt, ap);
	va_end(ap);
	row(r, k, r->text[r->nt++]);
}

static int
print_json(const struct cmd_ctx *c, const struct api_result *res, long age)
{
	const struct profile *p = &c->prof;
	json_t *o = json_object(), *funds = json_object_get(res->json,
	    "availableFunds");
	char created[16], by[16];
	int rc;
	struct tm tm;

	json_object_set_new(o, "verified", json_true());
	json_object_set_new(o, "operation", json_string("GetAvailableFunds"));
	json_object_set_new(o, "access_key_id", json_string(p->access_key_id));
	json_object_set_new(o, "partner_id", json_string(p->partner_id));
	json_object_set_new(o, "environment", json_string(p->production ?
	    "production" : "sandbox"));
	json_object_set_new(o, "region", json_string(p->region->name));
	json_object_set_new(o, "signing_region",
	    json_string(p->region->signing_region));
	json_object_set_new(o, "endpoint", json_string(p->endpoint));
	if (res->have_skew)
		json_object_set_new(o, "clock_offset_s",
		    json_integer(res->skew));
	else
		json_object_set_new(o, "clock_offset_s", json_null());
	if (age >= 0) {
		gmtime_r(&p->key_created, &tm);
		strftime(created, sizeof(created), "%Y-%m-%d", &tm);
		key_rotate_by(p->key_created, by);
		json_object_set_new(o, "key_created", json_string(created));
		json_object_set_new(o, "key_age_days", json_integer(age));
		json_object_set_new(o, "rotate_by", json_string(by));
	} else {
		json_object_set_new(o, "key_created", json_null());
		json_object_set_new(o, "key_age_days", json_null());
	}
	if (funds)
		json_object_set(o, "available_funds", funds);
	json_object_set_new(o, "http_status",
	    json_integer(res->resp.status));
	if (res->resp.request_id[0])
		json_object_set_new(o, "amazon_request_id",
		    json_string(res->resp.request_id));
	rc = output_json(stdout, o) == -1 ? EX_SOFTWARE : 0;
	json_decref(o);
	return rc;
}

static void
print_table(const struct cmd_ctx *c, const struct api_result *res, long age)
{
	const struct profile *p = &c->prof;
	struct report_rows r;
	const char *amt = json_string_value(json_path(res->json,
	    "availableFunds.amount"));
	const char *cur = json_string_value(json_path(res->json,
	    "availableFunds.currencyCode"));
	char created[16], by[16];
	struct tm tm;

	memset(&r, 0, sizeof(r));
	row(&r, "verified", "yes: the service accepted a request signed with "
	    "this key");
	row(&r, "environment", p->production ? "PRODUCTION" : "SANDBOX");
	row(&r, "access_key_id", p->access_key_id);
	row(&r, "partner_id", p->partner_id);
	rowf(&r, "region", "%s (signing region %s)", p->region->name,
	    p->region->signing_region);
	row(&r, "endpoint", p->endpoint);
	if (res->have_skew)
		rowf(&r, "clock_offset", "%+ld s (the service's clock minus "
		    "this machine's, from its Date header, to 1 s)", res->skew);
	else
		row(&r, "clock_offset", "unknown (no Date header)");
	if (age >= 0) {
		gmtime_r(&p->key_created, &tm);
		strftime(created, sizeof(created), "%Y-%m-%d", &tm);
		key_rotate_by(p->key_created, by);
		rowf(&r, "key_age", "%ld days (created %s; rotate by %s)", age,
		    created, by);
	} else
		row(&r, "key_age", "unknown: set key_created in the profile");
	if (amt && cur)
		rowf(&r, "available_funds", "%s %s", amt, cur);
	if (res->resp.request_id[0])
		row(&r, "amazon_request_id", res->resp.request_id);
	output_rows(stdout, r.kv, r.n);
}

int
cmd_verify(struct cmd_ctx *c)
{
	const struct op *op = op_find("funds");
	struct buf body = BUF_INIT(4096);
	struct api_result res;
	struct sender *s;
	struct opreq req;
	long age = key_age_days(c->prof.key_created, time(NULL));
	int rc;

	if (op == NULL)
		return EX_SOFTWARE;
	/* the state directory for the shared rate limit; no journal entry */
	if ((rc = ctx_open_state(c, 0)) != 0)
		return rc;
	if ((rc = ctx_sender(c, &s)) != 0 || (rc = ctx_prepare(c, op, &req)))
		return rc;
	if (api_body(&c->prof, &req, &body) == -1) {
		buf_free(&body);
		msg_err("cannot build the request body");
		return EX_SOFTWARE;
	}
	rc = exit_code(op_send(s, &req, &body, &res));
	if (rc == 0)
		rc = c->out == OUT_JSON ? print_json(c, &res, age) :
		    (print_table(c, &res, age), 0);
	else {
		msg_err("verify: the %s service at %s did not accept access key "
		    "'%s' for partner '%s': %s", c->prof.production ?
		    "production" : "sandbox", c->prof.endpoint,
		    c->prof.access_key_id, c->prof.partner_id, res.why);
		if (res.have_skew)
			msg_err("verify: the service's clock is %+ld s from "
			    "this machine's", res.skew);
	}
	api_result_free(&res);
	buf_free(&body);
	return rc;
}
