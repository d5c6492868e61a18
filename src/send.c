/*
 * send.c - one path for every request that leaves the machine:
 * journal -> rate limit -> sign -> send -> classify -> retry -> journal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "msg.h"
#include "send.h"
#include "timeutil.h"

enum agcod_result
op_prepare(const struct profile *p, struct journal *j, const struct op *op,
    const struct opreq_in *given, time_t now, struct opreq *r, char *why,
    size_t n)
{
	const struct op *undone = op_origin(op);
	struct opreq_in in = *given;
	json_t *e = NULL;
	char msg[512];

	if (op->refers_to && in.request_id && j &&
	    (e = journal_lookup(j, op->refers_to, in.request_id)) == NULL &&
	    j->err[0]) {
		/* an error is not "not found": never sent without its gcId */
		snprintf(why, n, "cannot read the journal '%s': %s; nothing "
		    "was sent", j->path, j->err);
		return AGCOD_E_JOURNAL_IO;
	}
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
		return AGCOD_E_BAD_INPUT;
	}
	r->from = e;
	/* sources disagree on whether the service needs the gcId */
	if ((op->fields & F_GCID) && r->text.gc_id == NULL)
		msg_warn("no gcId for request id '%s' (neither --gc-id nor the "
		    "journal has it): sending %s without it", r->request_id,
		    op->name);
	if (e && op->undo_window > 0) {
		const char *t = json_str(e, "time");
		time_t sent;

		if (time_parse_iso(t, &sent) == 0 &&
		    now - sent > op->undo_window)
			msg_warn("the journal says %s '%s' was created at %s, more "
			    "than %ld minutes ago: Amazon will likely refuse "
			    "to %s it", undone->object ? undone->object :
			    "request", r->request_id, t,
			    op->undo_window / 60, op->cmd);
	}
	return AGCOD_OK;
}

int
op_rebuild(const struct profile *p, const struct op *op, json_t *row,
    struct opreq *r, struct buf *body, char *why, size_t n)
{
	struct opreq_in in;

	memset(&in, 0, sizeof(in));
	opreq_fill_from(&in, row, 1);
	/* never a new id: that would be a new request, not this one again */
	if (in.request_id == NULL) {
		snprintf(why, n, "the journal row has no request id");
		return -1;
	}
	if (opreq_build(p, op, &in, r, why, n) == -1)
		return -1;
	if (api_body(p, r, body) == -1) {
		snprintf(why, n, "the request body cannot be built");
		return -1;
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
pending_record(const struct sender *s, const struct opreq *r,
    const struct buf *body)
{
	const struct profile *p = s->api.prof;
	char t[32], amt[AMOUNT_TEXT_MAX], sha[SIGV4_HEX_LEN + 1];
	json_t *o = json_object();
	size_t i;

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
	/* the body's text, each under its journal name (options.h) */
	for (i = 0; i < nop_options; i++)
		if (op_options[i].member)
			set_str(o, op_options[i].member, op_text(&r->text, i));
	/* an F2xx proves a refusal only of the body the earlier ones sent */
	if (sigv4_sha256_hex(body->data, body->len, sha) == 0)
		set_str(o, "body_sha", sha);
	if (s->reserve_refs && r->text.extref && *r->text.extref)
		json_object_set_new(o, "reserved", json_integer(1));
	return o;
}

/* what the answer is evidence of; the journal decides what it proves */
static const char *
evidence(const struct api_result *res)
{
	switch (res->outcome) {
	case OUTCOME_SUCCEEDED:
		return "success";
	case OUTCOME_FAILED:
		return res->error_code && strncmp(res->error_code, "F2", 2) == 0 ?
		    "refused-f2" : "refused";
	case OUTCOME_NOT_SENT:
		return "not-sent";
	default:
		return "no-proof";
	}
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
	set_str(o, "evidence", evidence(res));
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
	if (res->result != AGCOD_OK)
		set_str(o, "error", res->why);
	set_str(o, "diagnosis", res->diagnosis);
	if (res->have_skew)
		json_object_set_new(o, "clock_skew_s", json_integer(res->skew));
	json_object_set_new(o, "attempts", json_integer(res->attempts));
	return o;
}

/* an attempt may have acted: the journal says so before a retry */
static int
mark_acted(void *arg)
{
	struct sender *s = arg;

	s->acted = 1;
	if (journal_acted(s->journal, s->last_record) == -1) {
		msg_err("cannot record in the journal '%s' that an attempt may "
		    "have acted: %s; no more attempts", s->journal->path,
		    s->journal->err);
		return -1;
	}
	return 0;
}

/* refused before anything left: res says why */
static enum agcod_result
not_begun(struct sender *s, const struct opreq *r, int64_t id,
    struct api_result *res)
{
	memset(res, 0, sizeof(*res));
	res->outcome = OUTCOME_NOT_SENT;
	if (id == JOURNAL_HELD || id == JOURNAL_OTHER_TERMS) {
		/* its outcome is the other process's to record, or the
		 * first terms' (not refused: the id may have acted) */
		res->result = AGCOD_E_AGAIN;
		res->outcome = OUTCOME_UNKNOWN;
		api_say(res, "%s; nothing was sent by this run",
		    s->journal->err);
	} else if (id == JOURNAL_MAYBE_OPEN) {
		/* not AGCOD_E_JOURNAL_IO: an open record of the id can still be sent */
		res->result = AGCOD_E_AGAIN;
		res->outcome = OUTCOME_UNKNOWN;
		api_say(res, "cannot write the journal '%s': %s; nothing was "
		    "sent by this run", s->journal->path, s->journal->err);
	} else if (id == JOURNAL_REF_TAKEN || id == JOURNAL_ID_ELSEWHERE) {
		res->result = AGCOD_E_REFUSED;
		api_say(res, "%s; nothing was sent", s->journal->err);
	} else {
		res->result = AGCOD_E_JOURNAL_IO;
		api_say(res, "cannot write the journal '%s': %s; nothing was "
		    "sent", s->journal->path, s->journal->err);
	}
	(void)r;
	return res->result;
}

/* an earlier attempt may have acted: this one's answer is not the outcome */
static enum agcod_result
now_unknown(struct api_result *res)
{
	char last[sizeof(res->why)];

	strlcpy(last, res->why, sizeof(last));
	res->outcome = OUTCOME_UNKNOWN;
	res->result = AGCOD_E_AGAIN;
	api_say(res, "%s; an earlier attempt may have been processed: "
	    "the outcome is unknown", last);
	return AGCOD_E_AGAIN;
}

/*
 * The outcome (rc) could not be journalled: the record stays open, and
 * what that means for this request is said; the result
 */
static enum agcod_result
not_recorded(struct sender *s, const struct opreq *r, struct api_result *res,
    enum agcod_result rc)
{
	const struct op *op = r->op;

	if (s->acted && (res->outcome == OUTCOME_NOT_SENT ||
	    res->outcome == OUTCOME_FAILED)) {
		/* this says nothing of an attempt that may have acted */
		rc = now_unknown(res);
		msg_err("cannot record the outcome of %s %s in the "
		    "journal '%s': %s; its record stays open and "
		    "'agcod reconcile' will ask the service again",
		    op->name, r->request_id, s->journal->path,
		    s->journal->err);
	} else if (res->outcome == OUTCOME_NOT_SENT ||
	    res->outcome == OUTCOME_FAILED) {
		/* still open, so reconcile sends it: not the promise
		 * AGCOD_E_JOURNAL_IO or a refusal makes */
		int sent = res->outcome == OUTCOME_FAILED;

		res->result = rc = AGCOD_E_AGAIN;
		msg_err("%s %s was %s, but the journal '%s' could not "
		    "record that (%s): its pending record stays open "
		    "and 'agcod reconcile' will send it%s; to drop it "
		    "instead run 'agcod journal settle --request-id %s "
		    "--state failed --reason %s'", op->name,
		    r->request_id, sent ? "refused" : "not sent",
		    s->journal->path, s->journal->err,
		    sent ? " again" : "", r->request_id,
		    sent ? "refused" : "\"never sent\"");
	} else
		msg_err("cannot record the outcome of %s %s in the "
		    "journal '%s': %s; 'agcod reconcile' will ask the "
		    "service again", op->name, r->request_id,
		    s->journal->path, s->journal->err);
	return rc;
}

enum agcod_result
op_send(struct sender *s, const struct opreq *r, const struct buf *body,
    struct api_result *res)
{
	const struct op *op = r->op;
	int64_t id = 0;
	json_t *rec;
	enum agcod_result rc;

	s->last_record = 0;
	s->acted = 0;
	s->prior[0] = s->prior_time[0] = '\0';
	if (op->flags & OP_JOURNAL) {
		rec = pending_record(s, r, body);
		id = journal_begin(s->journal, rec);	/* durable */
		json_decref(rec);
		if (id < 0)
			return not_begun(s, r, id, res);
		s->last_record = id;
		strlcpy(s->prior, s->journal->prior, sizeof(s->prior));
		strlcpy(s->prior_time, s->journal->prior_time,
		    sizeof(s->prior_time));
		s->acted = strcmp(s->prior, "unknown") == 0 ||
		    strcmp(s->prior, "pending") == 0;
		s->api.acted = mark_acted;
		s->api.acted_arg = s;
	}
	rc = api_call(&s->api, op, body->data, body->len, res);
	s->api.acted = NULL;
	s->api.acted_arg = NULL;
	if (!(op->flags & OP_JOURNAL))
		return rc;
	rec = final_record(r, res);
	if (journal_finish(s->journal, id, rec) == -1) {
		rc = not_recorded(s, r, res, rc);
	} else if (strcmp(s->journal->decided, "unknown") == 0 &&
	    res->outcome != OUTCOME_UNKNOWN) {
		/* the journal knows an attempt that may have acted */
		rc = now_unknown(res);
	}
	json_decref(rec);
	return rc;
}
