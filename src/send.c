/*
 * send.c - one path for every request that leaves the machine:
 * journal -> rate limit -> sign -> send -> classify -> retry -> journal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "send.h"

int
op_prepare(const struct profile *p, struct journal *j, const struct op *op,
    const struct opreq_in *given, time_t now, struct opreq *r, char *why,
    size_t n)
{
	const struct op *undone = op_origin(op);
	struct opreq_in in = *given;
	json_t *e = NULL;
	char msg[512];

	if (op->refers_to && in.request_id && j)
		e = journal_lookup(j, op->refers_to, in.request_id);
	if (e)
		opreq_fill_from(&in, e, 0);
	if (opreq_build(p, op, &in, r, msg, sizeof(msg)) == -1) {
		if (op->refers_to && in.request_id && e == NULL)
			snprintf(why, n, "%s (the journal has no %s with request "
			    "id '%.64s%s')", msg, op->refers_to, in.request_id,
			    strlen(in.request_id) > 64 ? "..." : "");
		else
			snprintf(why, n, "%s", msg);
		json_decref(e);
		return -1;
	}
	r->from = e;
	/* sources disagree on whether the service needs the gcId */
	if ((op->fields & F_GCID) && r->gc_id == NULL)
		msg_warn("no gcId for request id '%s' (neither --gc-id nor the "
		    "journal has it): sending %s without it", r->request_id,
		    op->name);
	if (e && op->undo_window > 0) {
		const char *t = json_string_value(json_object_get(e, "time"));
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		if (t && strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm) &&
		    now - timegm(&tm) > op->undo_window)
			msg_warn("the journal says %s '%s' was created at %s, more "
			    "than %ld minutes ago: Amazon will likely refuse "
			    "to %s it", undone->object ? undone->object :
			    "request", r->request_id, t,
			    op->undo_window / 60, op->cmd);
	}
	return 0;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *
pending_record(const struct profile *p, const struct opreq *r)
{
	char t[32], amt[AMOUNT_TEXT_MAX];
	json_t *o = json_object();

	journal_time(time(NULL), t);
	set_str(o, "time", t);
	set_str(o, "state", "pending");
	set_str(o, "operation", r->op->name);
	set_str(o, "request_id", r->request_id);
	set_str(o, "profile", p->name);
	set_str(o, "partner", p->partner_id);
	set_str(o, "environment", p->production ? "production" :
	    "sandbox");
	set_str(o, "endpoint", p->endpoint);
	if (r->cur) {
		amount_format(&r->amount, amt, sizeof(amt));
		set_str(o, "amount", amt);
		set_str(o, "currency", r->cur->code);
	}
	set_str(o, "gc_id", r->gc_id);
	set_str(o, "card_number", r->card_number);
	set_str(o, "account", r->account_id);
	if (r->account_id)
		set_str(o, "account_type", r->account_type);
	set_str(o, "source_id", r->source_id);
	set_str(o, "external_reference", r->extref);
	set_str(o, "program_id", r->program_id);
	set_str(o, "product_type", r->product_type);
	return o;
}

static json_t *
final_record(const struct opreq *r, const struct api_result *res)
{
	static const char *const names[] = {
		[OUTCOME_SUCCEEDED] = "succeeded", [OUTCOME_FAILED] = "failed",
		[OUTCOME_UNKNOWN] = "unknown", [OUTCOME_NOT_SENT] = "not sent",
	};
	const char *gc = json_str(res->json, "gcId");
	char t[32];
	json_t *o = json_object();

	journal_time(time(NULL), t);
	set_str(o, "time", t);
	set_str(o, "state", names[res->outcome]);
	/* a cancel answers with the card's gcId too: keep the create's */
	if (r->op->flags & OP_CLAIM_CODE)
		set_str(o, "gc_id", gc);
	if (res->have_resp) {
		set_str(o, "amazon_request_id", res->resp.request_id);
		if (res->resp.status)
			json_object_set_new(o, "http_status",
			    json_integer(res->resp.status));
	}
	set_str(o, "error_code", res->error_code);
	set_str(o, "error_type", res->error_type);
	if (res->exit)
		set_str(o, "error", res->why);
	set_str(o, "diagnosis", res->diagnosis);
	if (res->have_skew)
		json_object_set_new(o, "clock_skew_s", json_integer(res->skew));
	json_object_set_new(o, "attempts", json_integer(res->attempts));
	return o;
}

int
op_send(struct sender *s, const struct opreq *r, const struct buf *body,
    struct api_result *res)
{
	const struct op *op = r->op;
	int64_t id = 0;
	json_t *rec;
	int rc;

	s->last_record = 0;
	if (op->flags & OP_JOURNAL) {
		rec = pending_record(s->api.prof, r);
		id = journal_begin(s->journal, rec);	/* durable */
		json_decref(rec);
		if (id == -1) {
			memset(res, 0, sizeof(*res));
			res->exit = EX_IOERR;
			res->outcome = OUTCOME_NOT_SENT;
			api_say(res, "cannot write the journal '%s': %s; "
			    "nothing was sent", s->journal->path,
			    s->journal->err);
			return EX_IOERR;
		}
		s->last_record = id;
	}
	rc = api_call(&s->api, op, body->data, body->len, res);
	if (op->flags & OP_JOURNAL) {
		rec = final_record(r, res);
		if (journal_finish(s->journal, id, rec) == -1)
			msg_err("cannot record the outcome of %s %s in the "
			    "journal '%s': %s; 'agcod reconcile' will ask the "
			    "service again", op->name, r->request_id,
			    s->journal->path, s->journal->err);
		json_decref(rec);
	}
	return rc;
}
