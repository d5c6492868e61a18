/*
 * cmd_history.c - history: one row per money object with its current
 * state (--requests: every request with its own outcome; --pending: the
 * requests whose outcome is not known yet), filtered, as JSON lines, a
 * table or CSV.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "msg.h"
#include "rows.h"
#include "suggest.h"

static const struct rows_col object_cols[] = {
	{ "time", "CREATED", 20 }, { "updated", "UPDATED", 20 },
	{ "kind", "KIND", 8 }, { "state", "STATE", 11 },
	{ "request_id", "REQUEST ID", 32 }, { "amount", "AMOUNT", 10 },
	{ "currency", "CUR", 3 }, { "gc_id", "GC ID", 16 },
	{ "card_number", "CARD", 8 }, { "account", "ACCOUNT", 8 },
	{ "external_reference", "EXTERNAL REFERENCE", 18 },
	{ "partner", "PARTNER", 8 }, { "environment", "ENV", 10 },
	{ "error_code", "ERROR", 5 }, { "error_type", "ERROR TYPE", 0 },
};

/* a table for people: what fits a wide terminal */
static const struct rows_col object_table[] = {
	{ "time", "CREATED", 20 }, { "environment", "ENV", 10 },
	{ "state", "STATE", 11 }, { "kind", "KIND", 8 }, { "request_id", "REQUEST ID", 32 },
	{ "amount", "AMOUNT", 10 }, { "currency", "CUR", 3 },
	{ "gc_id", "GC ID", 16 }, { "external_reference", "REFERENCE", 16 },
	{ "error_type", "ERROR", 0 },
};

static const struct rows_col request_table[] = {
	{ "time", "TIME", 20 }, { "environment", "ENV", 10 },
	{ "state", "STATE", 9 },
	{ "operation", "OPERATION", 21 }, { "request_id", "REQUEST ID", 32 },
	{ "amount", "AMOUNT", 10 }, { "currency", "CUR", 3 },
	{ "gc_id", "GC ID", 16 }, { "error_type", "ERROR", 0 },
};

static const struct rows_col request_cols[] = {
	{ "time", "TIME", 20 }, { "state", "STATE", 9 },
	{ "operation", "OPERATION", 21 }, { "request_id", "REQUEST ID", 32 },
	{ "amount", "AMOUNT", 10 }, { "currency", "CUR", 3 },
	{ "gc_id", "GC ID", 16 }, { "card_number", "CARD", 8 },
	{ "external_reference", "EXTERNAL REFERENCE", 18 },
	{ "partner", "PARTNER", 8 }, { "environment", "ENV", 10 },
	{ "http_status", "HTTP", 4 }, { "error_code", "ERROR", 5 },
	{ "error_type", "ERROR TYPE", 0 },
};

static int
put(json_t *row, void *arg)
{
	/* the journal's own bookkeeping is not the operator's business */
	json_object_del(row, "id");
	json_object_del(row, "pid");
	json_object_del(row, "open");
	rows_put(arg, row);
	return ferror(stdout) ? -1 : 0;
}

/* --operation create or CreateGiftCard */
static const char *
op_arg(const char *s)
{
	const struct op *op;

	if ((op = op_find(s)) != NULL || (op = op_by_name(s)) != NULL)
		return op->name;
	return NULL;
}

/* the nearest operation to a mistyped one, in the form it was typed in */
static const char *
op_near(const char *s)
{
	struct suggest sg = { s, NULL, 0 };
	size_t i;

	for (i = 0; i < nops; i++)
		if (ops[i].flags & OP_JOURNAL) {
			suggest_consider(&sg, ops[i].cmd);
			suggest_consider(&sg, ops[i].name);
		}
	return sg.best;
}

enum { OBJ = 1, REQ = 2 };
static const struct {
	const char	*name;
	unsigned	 of;	/* OBJ: an object's, REQ: a request's */
} states[] = {
	{ "issued", OBJ }, { "cancelled", OBJ | REQ }, { "loaded", OBJ },
	{ "voided", OBJ }, { "activated", OBJ }, { "deactivated", OBJ },
	{ "succeeded", REQ }, { "failed", OBJ | REQ },
	{ "unknown", OBJ | REQ }, { "pending", OBJ | REQ },
	{ "not sent", OBJ | REQ },
};
#define NSTATES	(sizeof(states) / sizeof(states[0]))

const char *
history_state(size_t i)
{
	return i < NSTATES ? states[i].name : NULL;
}

/* 1: s is a state of `of`; else 0, with the nearest one of `of` in *near */
static int
state_ok(const char *s, unsigned of, const char **near)
{
	struct suggest sg = { s, NULL, 0 };
	size_t i;

	for (i = 0; i < NSTATES; i++) {
		if (!(states[i].of & of))
			continue;
		if (strcmp(s, states[i].name) == 0)
			return 1;
		suggest_consider(&sg, states[i].name);
	}
	*near = sg.best;
	return 0;
}

/* "issued, cancelled, ..." */
static const char *
state_list(unsigned of, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NSTATES && n < len; i++)
		if (states[i].of & of)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n ? ", " : "", states[i].name);
	return buf;
}

/* --since, --until and --limit into q (since and until hold the times) */
static int
history_range(struct cmd_ctx *c, struct journal_query *q, char *since,
    char *until)
{
	const struct args *a = &c->args;
	const char *why = NULL;

	if (a->val[O_SINCE]) {
		if (journal_parse_time(a->val[O_SINCE], time(NULL), since))
			return usage_error(c->cmd, "--since '%s' is not a date "
			    "(2026-11-22, 2026-11-22T10:00:00Z) or an age "
			    "(90m, 12h, 7d)", a->val[O_SINCE]);
		q->since = since;
	}
	if (a->val[O_UNTIL]) {
		if (journal_parse_time(a->val[O_UNTIL], time(NULL), until))
			return usage_error(c->cmd, "--until '%s' is not a date "
			    "(2026-11-22, 2026-11-22T10:00:00Z) or an age "
			    "(90m, 12h, 7d)", a->val[O_UNTIL]);
		q->until = until;
	}
	if (a->val[O_LIMIT]) {
		q->limit = (long)strtonum(a->val[O_LIMIT], 1, 100000000, &why);
		if (why)
			return usage_error(c->cmd, "--limit '%s' is %s (1 to "
			    "100000000)", a->val[O_LIMIT], why);
	}
	return 0;
}

/* --state and --operation into q, each checked against the view */
static int
history_filters(struct cmd_ctx *c, struct journal_query *q)
{
	const struct args *a = &c->args;
	const char *near = NULL;
	char list[160];
	unsigned of;

	of = q->view == VIEW_OBJECTS ? OBJ : REQ;
	if ((q->state = a->val[O_STATE]) && !state_ok(q->state, of, &near)) {
		if (near)
			return usage_error(c->cmd, "--state '%s' is not a state "
			    "of %s (did you mean '%s'?)", q->state, of == OBJ ?
			    "a card, load or physical card" : "a request",
			    near);
		return usage_error(c->cmd, "--state '%s' is not a state of %s: "
		    "%s%s", q->state, of == OBJ ?
		    "a card, load or physical card" : "a request",
		    state_list(of, list, sizeof(list)),
		    of == OBJ ? "; see --requests for request states" : "");
	}
	if (a->val[O_OPERATION] &&
	    (q->operation = op_arg(a->val[O_OPERATION])) == NULL) {
		if ((near = op_near(a->val[O_OPERATION])) != NULL)
			return usage_error(c->cmd, "--operation '%s' is not an "
			    "operation (did you mean '%s'?)",
			    a->val[O_OPERATION], near);
		return usage_error(c->cmd, "--operation '%s' is not an "
		    "operation (create, cancel, load, void, activate, "
		    "deactivate, or their AGCOD names)", a->val[O_OPERATION]);
	}
	if (q->operation && q->view == VIEW_OBJECTS &&
	    journal_kind(q->operation) == NULL)
		return usage_error(c->cmd, "--operation '%s' makes no money "
		    "object: use it with --requests", a->val[O_OPERATION]);
	return 0;
}

int
cmd_history(struct cmd_ctx *c)
{
	const struct args *a = &c->args;
	struct journal_query q;
	char since[32], until[32];
	struct journal *j;
	struct rows rows;
	int rc;

	memset(&q, 0, sizeof(q));
	/* like git log: the newest first, so --limit 1 is the latest */
	q.newest_first = !a->seen[O_REVERSE];
	q.view = a->seen[O_PENDING] ? VIEW_OPEN : a->seen[O_REQUESTS] ?
	    VIEW_REQUESTS : VIEW_OBJECTS;
	if (a->seen[O_PENDING] && a->seen[O_REQUESTS])
		return usage_error(c->cmd, "--pending lists requests already; "
		    "give one of --pending and --requests");
	if ((rc = history_range(c, &q, since, until)) != 0 ||
	    (rc = history_filters(c, &q)) != 0)
		return rc;
	q.request_id = a->val[O_REQUEST_ID];
	q.extref = a->val[O_EXTREF];
	if ((rc = ctx_scope(c, &q)) != 0)
		return rc;
	if ((j = ctx_journal(c)) == NULL)
		return ctx_journal_failed(c);
#define COLS(t)	(t), sizeof(t) / sizeof((t)[0])
	if (q.view == VIEW_OBJECTS && c->out == OUT_TABLE)
		rows_begin(&rows, stdout, c->out, COLS(object_table));
	else if (q.view == VIEW_OBJECTS)
		rows_begin(&rows, stdout, c->out, COLS(object_cols));
	else if (c->out == OUT_TABLE)
		rows_begin(&rows, stdout, c->out, COLS(request_table));
	else
		rows_begin(&rows, stdout, c->out, COLS(request_cols));
#undef COLS
	rc = journal_query(j, &q, put, &rows);
	if (rc < 0 && j->err[0]) {
		msg_err("cannot read the journal '%s': %s", j->path, j->err);
		return EX_IOERR;
	}
	/* a closed stdout ends a reader quietly; main says the rest */
	if (rows.n == 0 && rc == 0)
		msg_note("no matching journal entries in '%s'%s",
		    c->prof.journal[0] ? j->path : c->state_dir,
		    q.environment ? " for this profile's partner and "
		    "environment" : "");
	/* like git diff --exit-code: something to act on is 1 */
	if (a->seen[O_EXIT_CODE] && rows.n > 0)
		return EX_BELOW;
	return 0;
}
