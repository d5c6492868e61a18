/*
 * ctx.c - what a command's run holds below the dispatcher: the state
 * directory, the journal (opened once, for reading or writing, with agcod
 * 0.1's journal imported on first use), the shared rate limit, and the
 * journal rows a request points into.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agcod.h"
#include "cli.h"
#include "ctx.h"
#include "http.h"
#include "msg.h"
#include "outcome.h"
#include "trace.h"

void
ctx_say_import(const struct journal *j)
{
	if (j->import_renamed[0] == '\0')
		return;
	if (j->import_before) {
		msg_note("agcod 0.1's journal was already imported into '%s'; "
		    "the old file is kept as '%s'", j->path, j->import_renamed);
		return;
	}
	msg_note("imported %ld record%s of agcod 0.1's journal into '%s'; "
	    "the old file is kept as '%s'", j->imported,
	    j->imported == 1 ? "" : "s", j->path, j->import_renamed);
	if (j->import_bad)
		msg_warn("%ld line%s of the old journal could not be read and "
		    "%s skipped", j->import_bad, j->import_bad == 1 ? "" : "s",
		    j->import_bad == 1 ? "was" : "were");
	if (j->import_torn)
		msg_warn("the old journal's last line was incomplete (left by "
		    "a crash?) and was skipped");
}

static int
ctx_state_dir(struct cmd_ctx *c)
{
	if (c->state_dir[0] == '\0' &&
	    state_dir_resolve(c->args.val[O_STATE_DIR], c->state_dir,
	    sizeof(c->state_dir)) == -1) {
		msg_err("the state directory path is too long");
		return -1;
	}
	return 0;
}

/*
 * Where the journal is, for journal_open_at: the profile's journal =, with
 * AGCOD_JOURNAL over it ("": the state directory's).  A command that loads
 * no profile before it reads the journal (journal, history
 * --all-environments) reads that key alone: of the -p profile, or of the
 * default one if the file has it.  NULL after a message: the profile
 * cannot be read (78).
 */
const char *
ctx_journal_where(struct cmd_ctx *c)
{
	const struct args *a = &c->args;
	struct profile_opts po = {
		a->val[O_PROFILE], a->val[O_CONFIG], a->val[O_REGION],
		a->val[O_ENVIRONMENT], a->val[O_ENDPOINT], a->val[O_CACERT],
		NULL
	};
	struct profile p;
	int rc;

	if (c->prof.name[0] || c->journal_where)
		return c->prof.journal;
	memset(&p, 0, sizeof(p));
	rc = profile_load_journal(&p, &po);
	if (rc == 0)
		memcpy(c->prof.journal, p.journal, sizeof(p.journal));
	profile_free(&p);
	if (rc != 0) {
		c->journal_res = AGCOD_E_CONFIG;
		return NULL;
	}
	c->journal_where = 1;
	return c->prof.journal;
}

/* which setting named the database, for a message (never its text) */
static const char *
db_named(const char *where)
{
	const char *env = getenv("AGCOD_JOURNAL");

	return env && strcmp(where, env) == 0 ? "AGCOD_JOURNAL's database" :
	    "the profile's journal database";
}

int
ctx_journal_failed(const struct cmd_ctx *c)
{
	return exit_code(c->journal_res);
}

/* ratelimit.h's shared slots: the PostgreSQL journal's, for every host */
static int
rate_shared(void *arg, int cls, int max_rps, int64_t max_wait_ns,
    int64_t *wait_ns, char *why, size_t n)
{
	struct cmd_ctx *c = arg;
	int rc;

	rc = journal_rate_reserve(&c->journal, c->prof.partner_id,
	    c->prof.production ? "production" : "sandbox", cls, max_rps,
	    max_wait_ns, wait_ns);
	if (rc == 0 || rc == 1)
		return rc;
	snprintf(why, n, "cannot take a rate slot in the PostgreSQL journal: "
	    "%s", rc == -1 ? c->journal.err : "it keeps none");
	return -1;
}

/*
 * The journal, where the profile puts it (a command that does not journal
 * opens a PostgreSQL one all the same: it keeps every host's rate slots).
 * 0, or an exit status after a message.
 */
static int
open_journal(struct cmd_ctx *c, int journal)
{
	const char *where;

	if (journal_is_open(&c->journal) ||
	    (!journal && c->prof.partner_id[0] == '\0'))
		return 0;
	if ((where = ctx_journal_where(c)) == NULL)
		return EX_CONFIG;
	if (!journal && *where == '\0')
		return 0;
	if ((c->journal_res = journal_open_at(&c->journal, c->state_dir,
	    where, JOURNAL_WRITE)) != AGCOD_OK) {
		msg_err("cannot open the journal in %s%s%s: %s; "
		    "nothing was sent", *where ? "" : "'", *where ?
		    db_named(where) : c->state_dir, *where ? "" : "'",
		    c->journal.err);
		return exit_code(c->journal_res);
	}
	c->journal_read = 1;
	ctx_say_import(&c->journal);
	return 0;
}

int
ctx_open_state(struct cmd_ctx *c, int journal)
{
	char why[200];
	int rc;

	if (ctx_state_dir(c) == -1)
		return EX_IOERR;
	if ((rc = open_journal(c, journal)) != 0)
		return rc;
	/*
	 * The database's slots, for every host.  The state directory has no
	 * part in sending then; it keeps the failures for support-draft if
	 * it is safe (state_dir_make checks it as ever), and nothing if not.
	 */
	if (!c->rl_ready && c->prof.partner_id[0] && c->prof.journal[0] &&
	    journal_is_open(&c->journal)) {
		ratelimit_init(&c->rl, NULL, "", c->prof.max_rps);
		c->rl.shared = rate_shared;
		c->rl.shared_arg = c;
		c->rl_ready = 1;
		if (state_dir_make(c->state_dir, why, sizeof(why)) == -1)
			msg_verbose("the state directory '%s' cannot be used "
			    "(%s): failures are not kept for support-draft",
			    c->state_dir, why);
	}
	/* without a usable state directory the rate is this process's own */
	if (!c->rl_ready && c->prof.partner_id[0] &&
	    state_dir_make(c->state_dir, why, sizeof(why)) == 0 &&
	    ratelimit_init(&c->rl, c->state_dir, c->prof.partner_id,
	    c->prof.max_rps) == 0)
		c->rl_ready = 1;
	else if (!c->rl_ready)
		msg_verbose("no shared rate limit in '%s'", c->state_dir);
	return 0;
}

struct journal *
ctx_journal(struct cmd_ctx *c)
{
	const char *where;

	if (c->journal_read)
		return &c->journal;
	if (ctx_state_dir(c) == -1) {
		c->journal_res = AGCOD_E_JOURNAL_IO;
		return NULL;
	}
	if ((where = ctx_journal_where(c)) == NULL)
		return NULL;
	if ((c->journal_res = journal_open_at(&c->journal, c->state_dir,
	    where, JOURNAL_READ)) != AGCOD_OK) {
		msg_err("cannot read the journal in %s%s%s: %s", *where ? "" :
		    "'", *where ? db_named(where) : c->state_dir,
		    *where ? "" : "'", c->journal.err);
		return NULL;
	}
	c->journal_read = 1;
	ctx_say_import(&c->journal);
	return &c->journal;
}

json_t *
ctx_lookup(struct cmd_ctx *c, const char *op, const char *rid)
{
	struct journal *j;
	json_t *e;

	if (rid == NULL || (j = ctx_journal(c)) == NULL ||
	    (e = journal_lookup(j, op, rid)) == NULL)
		return NULL;
	ctx_keep(c, e);
	return e;
}

void
ctx_keep(struct cmd_ctx *c, json_t *row)
{
	if (c->kept == NULL)
		c->kept = json_array();
	json_array_append_new(c->kept, row);
}

static void
trace_hook(void *arg, const struct op *op, const char *body, size_t len,
    const struct api_result *r)
{
	trace_attempt(arg, op, body, len, r);
}

int
ctx_sender(struct cmd_ctx *c, struct sender **out)
{
	struct sender *s = &c->send;
	int rc;

	/* a sending command started it before (main.c); sign-debug --send not */
	if (s->api.http == NULL && (rc = exit_code(http_start(&s->api.http,
	    &c->prof, c->timeout))) != 0)
		return rc;
	if (!c->rl_ready) {	/* no state directory: this process's own */
		ratelimit_init(&c->rl, NULL, "", c->prof.max_rps);
		c->rl_ready = 1;
	}
	s->api.prof = &c->prof;
	s->api.pace = ratelimit_pace;
	s->api.pace_arg = &c->rl;
	s->api.retry_for = c->retry_for;
	s->api.trace = trace_hook;
	s->api.trace_arg = c;
	s->journal = &c->journal;
	*out = s;
	return 0;
}

/* the request id of the card the journal knows by in->gc_id, into rid */
static int
by_gc_id(struct cmd_ctx *c, const struct op *op, struct opreq_in *in,
    char *rid, size_t len)
{
	const char *kind = journal_kind(op->refers_to);
	const char *env = c->prof.production ? "production" : "sandbox";
	struct journal *j;
	int n;

	if ((j = ctx_journal(c)) == NULL)
		return EX_IOERR;
	if ((n = journal_find_gc(j, kind, in->gc_id, c->prof.partner_id, env,
	    rid, len)) < 0) {
		msg_err("cannot read the journal '%s': %s", j->path, j->err);
		return EX_IOERR;
	}
	if (n == 0)
		return usage_error(c->cmd, "the journal has no %s with gcId "
		    "'%.64s' of partner '%s' in %s: give '--request-id ID' "
		    "too", kind, in->gc_id, c->prof.partner_id, env);
	if (n > 1)
		return usage_error(c->cmd, "the journal has more than one %s "
		    "with gcId '%.64s': give '--request-id ID' too", kind,
		    in->gc_id);
	msg_verbose("gcId %s is the %s of request id %s", in->gc_id, kind,
	    rid);
	in->request_id = rid;
	return 0;
}

int
ctx_prepare(struct cmd_ctx *c, const struct op *op, struct opreq *r)
{
	struct opreq_in in;
	struct journal *j = NULL;
	enum agcod_result res;
	char why[1024], rid[128];
	int rc;

	cli_opreq_in(&c->args, &in);
	/* cancel --gc-id G: a support ticket's gcId names the card */
	if (op_by_gc_id(op) && in.request_id == NULL &&
	    in.gc_id && (rc = by_gc_id(c, op, &in, rid, sizeof(rid))) != 0)
		return rc;
	if (op->refers_to && in.request_id && (j = ctx_journal(c)) == NULL)
		return EX_IOERR;
	res = op_prepare(&c->prof, j, op, &in, time(NULL), r, why,
	    sizeof(why));
	if (res == AGCOD_OK)
		return 0;
	if (res == AGCOD_E_BAD_INPUT)	/* with the usage line */
		return usage_error(c->cmd, "%s", why);
	msg_err("%s", why);
	return exit_code(res);
}

int
ctx_resend(struct cmd_ctx *c, const struct op *op, json_t *e,
    const struct resend *how)
{
	struct buf body = BUF_INIT(64 * 1024);
	struct api_result r;
	struct sender *s;
	struct opreq req;
	enum agcod_result res;
	char why[512];
	int rc;

	if ((rc = ctx_sender(c, &s)) != 0)
		return rc;
	if (op_rebuild(&c->prof, op, e, &req, &body, why, sizeof(why)) == -1) {
		msg_err("cannot rebuild %s %s from the journal: %s", op->name,
		    json_str_or(e, "request_id", "?"), why);
		buf_free(&body);
		return EX_SOFTWARE;
	}
	how->say("%s %s %s", how->verb, op->name, req.request_id);
	res = op_send(s, &req, &body, &r);
	/* Amazon's activation recovery goes on, within its 24 hours */
	if (res != AGCOD_OK && how->recover_for &&
	    activation_recover_applies(&req, &r) &&
	    (req.recover_for = how->recover_for(c, e)) > 0)
		res = activation_recover(s, &req, &r);
	/* printed as the original command would; a claim code that cannot
	 * be delivered, or a cancelled card, is said and recorded */
	rc = ctx_deliver(c, &req, &r, e, res);
	api_result_free(&r);
	buf_free(&body);
	opreq_free(&req);
	return rc;
}

int
ctx_deliver(struct cmd_ctx *c, const struct opreq *req, struct api_result *r,
    json_t *before, enum agcod_result rc)
{
	struct outcome_env e = { &c->send, c->out, c->prof.production, 0 };

	rc = outcome_deliver(&e, req, r, before, rc);
	if (e.out_said)
		c->out_checked = 1;
	return exit_code(rc);
}

int
ctx_scope(struct cmd_ctx *c, struct journal_query *q)
{
	const struct args *a = &c->args;
	int rc;

	if (a->seen[O_ALL_ENVIRONMENTS])
		return 0;
	if (c->prof.partner_id[0] == '\0') {
		struct profile_opts po = {
			a->val[O_PROFILE], a->val[O_CONFIG], a->val[O_REGION],
			a->val[O_ENVIRONMENT], a->val[O_ENDPOINT],
			a->val[O_CACERT], NULL
		};

		if ((rc = exit_code(profile_load(&c->prof, &po))) != 0) {
			msg_note("the journal is read for the profile's partner "
			    "and environment; '--all-environments' reads all "
			    "of it without a profile");
			return rc;
		}
	}
	q->partner = c->prof.partner_id;
	q->environment = c->prof.production ? "production" : "sandbox";
	return 0;
}
