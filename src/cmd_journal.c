/*
 * cmd_journal.c - journal export | check | prune | settle | copy: the
 * journal's upkeep, for operators and finance.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "msg.h"
#include "output.h"
#include "rows.h"
#include "statedir.h"

static const struct rows_col export_cols[] = {
	{ "time", "TIME", 20 }, { "updated", "UPDATED", 20 },
	{ "state", "STATE", 9 }, { "operation", "OPERATION", 21 },
	{ "request_id", "REQUEST ID", 32 }, { "profile", "PROFILE", 8 },
	{ "partner", "PARTNER", 8 }, { "environment", "ENV", 10 },
	{ "endpoint", "ENDPOINT", 24 }, { "amount", "AMOUNT", 10 },
	{ "currency", "CUR", 3 }, { "gc_id", "GC ID", 16 },
	{ "card_number", "CARD", 8 }, { "account", "ACCOUNT", 8 },
	{ "account_type", "TYPE", 4 }, { "source_id", "SOURCE", 8 },
	{ "external_reference", "REFERENCE", 16 },
	{ "program_id", "PROGRAM", 8 }, { "amazon_request_id", "AMAZON ID", 8 },
	{ "http_status", "HTTP", 4 }, { "error_code", "ERROR", 5 },
	{ "error_type", "ERROR TYPE", 16 }, { "attempts", "TRIES", 5 },
	{ "delivered", "DELIVERED", 9 }, { "settled", "SETTLED", 8 },
	{ "settle_reason", "REASON", 0 },
};

static int
put(json_t *row, void *arg)
{
	rows_put(arg, row);
	return ferror(stdout) ? -1 : 0;
}

static int
export(struct cmd_ctx *c, struct journal *j)
{
	struct journal_query q;
	struct rows rows;
	int rc;

	memset(&q, 0, sizeof(q));
	q.view = VIEW_REQUESTS;
	if ((rc = ctx_scope(c, &q)) != 0)
		return rc;
	/* everything, for a machine: JSON lines unless asked otherwise */
	rows_begin(&rows, stdout, c->args.val[O_OUTPUT] ? c->out : OUT_JSON,
	    export_cols, sizeof(export_cols) / sizeof(export_cols[0]));
	if (journal_query(j, &q, put, &rows) < 0 && j->err[0]) {
		msg_err("cannot read the journal '%s': %s", j->path, j->err);
		return EX_IOERR;
	}
	return 0;
}

static void
say_problem(const char *m, void *arg)
{
	(void)arg;
	/* it names states and keys read from the database: shown, not obeyed */
	msg_show(stdout, m, strlen(m), 0);
	putchar('\n');
}

static int
check(struct journal *j)
{
	int n = journal_check(j, say_problem, NULL);

	if (n < 0) {
		msg_err("cannot check the journal '%s': %s", j->path, j->err);
		return EX_IOERR;
	}
	if (n > 0) {
		msg_err("the journal '%s' has %d problem%s", j->path, n,
		    n == 1 ? "" : "s");
		return EX_DATAERR;
	}
	msg_note("the journal '%s' is consistent", journal_is_open(j) ?
	    j->path : "(none yet)");
	return 0;
}

static int
prune(struct cmd_ctx *c, struct journal *j)
{
	const char *v = c->args.val[O_BEFORE];
	int dry = c->args.seen[O_DRY_RUN] > 0;
	char before[32];
	long n;

	if (v == NULL)
		return usage_error(c->cmd, "'journal prune' needs --before DATE");
	if (journal_parse_time(v, time(NULL), before) == -1)
		return usage_error(c->cmd, "--before '%s' is not a date "
		    "(2026-11-22, 2026-11-22T10:00:00Z) or an age (90m, 12h, "
		    "7d)", v);
	if ((n = journal_prune(j, before, dry)) < 0) {
		msg_err("cannot prune the journal '%s': %s", j->path, j->err);
		return EX_IOERR;
	}
	printf("%ld\n", n);
	msg_note("%s %ld settled record%s older than %s; pending and unknown "
	    "ones are kept, and each card's request id, state and time stay "
	    "for the batch guards", dry ? "would delete" : "deleted", n,
	    n == 1 ? "" : "s", before);
	return 0;
}

struct one_open {
	const char	*op;
	int		 n;
	char		 name[64];
};

static int
find_op(json_t *row, void *arg)
{
	struct one_open *o = arg;
	const char *s = json_string_value(json_object_get(row, "operation"));

	if (s && (o->n == 0 || strcmp(o->name, s) != 0)) {
		snprintf(o->name, sizeof(o->name), "%s", s);
		o->n++;
	}
	return 0;
}

static int
settle(struct cmd_ctx *c, struct journal *j)
{
	const struct args *a = &c->args;
	const char *rid = a->val[O_REQUEST_ID], *st = a->val[O_STATE];
	const struct op *op = NULL;
	struct journal_query q;
	struct one_open o;

	if (rid == NULL || st == NULL || a->val[O_REASON] == NULL)
		return usage_error(c->cmd, "'journal settle' needs --request-id "
		    "ID, --state succeeded|failed and --reason TEXT");
	if (strcmp(st, "succeeded") != 0 && strcmp(st, "failed") != 0)
		return usage_error(c->cmd, "--state '%s' is not succeeded or "
		    "failed", st);
	if (a->val[O_REASON][0] == '\0')
		return usage_error(c->cmd, "--reason must say how the outcome "
		    "was confirmed");
	if (a->val[O_OPERATION] &&
	    (op = op_find(a->val[O_OPERATION])) == NULL &&
	    (op = op_by_name(a->val[O_OPERATION])) == NULL)
		return usage_error(c->cmd, "--operation '%s' is not an "
		    "operation", a->val[O_OPERATION]);
	memset(&o, 0, sizeof(o));
	if (op == NULL) {
		memset(&q, 0, sizeof(q));
		q.view = VIEW_OPEN;
		q.request_id = rid;
		if (journal_query(j, &q, find_op, &o) < 0) {
			msg_err("cannot read the journal '%s': %s", j->path,
			    j->err);
			return EX_IOERR;
		}
		if (o.n == 0) {
			msg_err("request id '%s' has no pending or unknown "
			    "outcome to settle", rid);
			return EX_DATAERR;
		}
		if (o.n > 1)
			return usage_error(c->cmd, "request id '%s' is open for "
			    "more than one operation: give --operation", rid);
		o.op = o.name;
		/* an undo settled as succeeded undoes the card: only on request */
		if ((op = op_by_name(o.op)) != NULL && op->refers_to != NULL)
			return usage_error(c->cmd, "the open request of '%s' is a "
			    "%s, not the %s: give --operation %s to settle it",
			    rid, op->cmd, op_by_name(op->refers_to) ?
			    op_by_name(op->refers_to)->cmd : op->refers_to,
			    op->cmd);
	} else
		o.op = op->name;
	if (journal_settle(j, o.op, rid, st, a->val[O_GC_ID],
	    a->val[O_REASON]) == -1) {
		msg_err("%s", j->err);
		return strstr(j->err, "no pending or unknown") ? EX_DATAERR :
		    strstr(j->err, "another agcod process") ? EX_TEMPFAIL :
		    EX_IOERR;
	}
	msg_note("%s %s settled by hand as %s", o.op, rid, st);
	return 0;
}

static void
say_copied(const struct journal_copied *n)
{
	static const char *const what[3][2] = { { "request", "requests" },
	    { "money object", "money objects" },
	    { "pruned row", "pruned rows" } };
	int i, k;

	for (k = 0; k < 2; k++) {
		printf("%s", k ? "skipped (there already):" : "copied:");
		for (i = 0; i < 3; i++) {
			long v = k ? n->skipped[i] : n->copied[i];

			printf("%s %ld %s", i ? "," : "", v, what[i][v != 1]);
		}
		putchar('\n');
	}
}

/*
 * journal copy's journals: STATE_DIR's, to read, and the one of to (shown
 * so in messages); 0 with both open, or an exit status after a message
 */
static int
copy_open(struct cmd_ctx *c, const char *to, const char *shown,
    struct journal *src, struct journal *dst)
{
	enum agcod_result res;

	if ((res = journal_open_at(src, c->state_dir, NULL, JOURNAL_READ)) !=
	    AGCOD_OK) {
		msg_err("cannot read the journal in '%s': %s", c->state_dir,
		    src->err);
		return exit_code(res);
	}
	ctx_say_import(src);	/* agcod 0.1's journal.jsonl: copied too */
	if (!journal_is_open(src)) {
		msg_err("there is no journal.db in '%s' to copy (give the state "
		    "directory with --state-dir)", c->state_dir);
		journal_close(src);
		return EX_DATAERR;
	}
	if ((res = journal_open_at(dst, c->state_dir, to, JOURNAL_WRITE)) !=
	    AGCOD_OK) {
		msg_err("cannot open the journal '%s': %s", shown, dst->err);
		journal_close(src);
		return exit_code(res);
	}
	return 0;
}

/*
 * journal copy: STATE_DIR/journal.db into the PostgreSQL journal of --to
 * (else the profile's journal = or AGCOD_JOURNAL), in one transaction of
 * it: all or nothing, and what it has already is skipped.
 */
static int
copy(struct cmd_ctx *c)
{
	static const char *const tables[3] = { "requests", "objects", "pruned" };
	const char *to = c->args.val[O_TO];
	struct journal src, dst, *failed;
	struct journal_copied n;
	char shown[400];
	json_t *o;
	int rc, i;
	long total = 0;

	if (to && journal_where_password(to) == 1)
		return usage_error(c->cmd, "--to holds a password, which must "
		    "not be on the command line: put it in ~/.pgpass (or "
		    "PGPASSFILE), or in the profile's journal =");
	if (to == NULL && (to = ctx_journal_where(c)) == NULL)
		return EX_CONFIG;
	if (*to == '\0')
		return usage_error(c->cmd, "'journal copy' needs --to DATABASE "
		    "(or journal = in the profile): the PostgreSQL journal to "
		    "copy journal.db into");
	if (state_dir_resolve(c->args.val[O_STATE_DIR], c->state_dir,
	    sizeof(c->state_dir)) == -1) {
		msg_err("the state directory path is too long");
		return EX_IOERR;
	}
	journal_where_shown(to, shown, sizeof(shown));
	if ((rc = copy_open(c, to, shown, &src, &dst)) != 0)
		return rc;
	rc = journal_copy(&dst, &src, &n, &failed);
	if (rc != 0)
		msg_err("cannot copy '%s' into '%s': %s%s", src.path, dst.path,
		    failed->err, rc == JOURNAL_CONFLICT || rc == JOURNAL_HELD ?
		    "" : "; nothing was copied");
	journal_close(&dst);
	journal_close(&src);
	if (rc == JOURNAL_CONFLICT)
		return EX_DATAERR;
	if (rc == JOURNAL_HELD)
		return EX_TEMPFAIL;
	if (rc != 0)
		return EX_IOERR;
	for (i = 0; i < 3; i++)
		total += n.copied[i];
	if (c->out == OUT_JSON) {
		if ((o = json_object()) == NULL)
			return EX_SOFTWARE;
		for (i = 0; i < 3; i++)
			json_object_set_new(o, tables[i], json_pack("{s:I, s:I}",
			    "copied", (json_int_t)n.copied[i], "skipped",
			    (json_int_t)n.skipped[i]));
		rc = output_json(stdout, o);
		json_decref(o);
		if (rc == -1)
			return EX_SOFTWARE;
	} else
		say_copied(&n);
	if (total == 0)
		msg_note("nothing to copy: every record of '%s' is in '%s' "
		    "already", src.path, shown);
	else
		msg_note("copied '%s' into '%s'; set journal = %s in the "
		    "profile (agcod.ini(5)) to use it; journal.db is kept, "
		    "unchanged", src.path, shown, shown);
	return 0;
}

int
cmd_journal(struct cmd_ctx *c)
{
	static const char *const subs[] = { "export", "check", "prune",
	    "settle", "copy" };
	const char *sub = c->args.npos > 0 ? c->args.pos[0] : NULL;
	struct journal *j;
	size_t i;

	if (sub == NULL)
		return usage_error(c->cmd, "give a subcommand: export, check, "
		    "prune, settle or copy");
	if (c->args.npos > 1)
		return usage_error(c->cmd, "unexpected argument '%s'",
		    c->args.pos[1]);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i]) == 0)
			break;
	if (i == sizeof(subs) / sizeof(subs[0]))
		return usage_error(c->cmd, "unknown subcommand '%s' (export, "
		    "check, prune, settle, copy)", sub);
	if (i == 4)
		return copy(c);
	if ((j = ctx_journal(c)) == NULL)
		return ctx_journal_failed(c);
	switch (i) {
	case 0: return export(c, j);
	case 1: return check(j);
	case 2: return prune(c, j);
	default:
		if (!journal_is_open(j)) {
			msg_err("the journal in '%s' is empty", c->state_dir);
			return EX_DATAERR;
		}
		return settle(c, j);
	}
}
