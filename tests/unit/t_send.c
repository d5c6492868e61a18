/*
 * t_send.c - the operation table, request building from named inputs, and
 * the send path (journal -> api_call -> journal) with a scripted transfer
 * standing in for libcurl: what is journaled before anything leaves, and
 * what each sequence of answers is recorded as.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sqlite3.h>

#include "../../src/agcod.h"
#include "../../src/api.h"
#include "../../src/ratelimit.h"
#include "../../src/send.h"
#include "unit.h"

/* ---- the operation table ---- */

/*
 * How a synopsis line names option `name`: 2 required (--name), 1 optional
 * ([--name ...]), 0 not at all; -1 twice
 */
static int
synopsis_names(const char *line, const char *name)
{
	const char *p;
	size_t len = strlen(name);
	int found = 0;

	for (p = strstr(line, "--"); p; p = strstr(p + 2, "--")) {
		if (strncmp(p + 2, name, len) != 0 ||
		    (p[2 + len] != ' ' && p[2 + len] != ']' &&
		    p[2 + len] != '\0' && p[2 + len] != '\n'))
			continue;
		if (found)
			return -1;
		found = p > line && p[-1] == '[' ? 1 : 2;
	}
	return found;
}

static void
test_table(void)
{
	size_t i, k;

	for (i = 0; i < nops; i++) {
		const struct op *op = &ops[i], *u, *o;
		char syn[512], *second;
		int want;

		CHECK(op_find(op->cmd) == op && op_by_name(op->name) == op,
		    "%s: found by command and by name", op->cmd);
		CHECK(op_synopsis(op, syn, sizeof(syn)) == 0 &&
		    strncmp(syn, op->cmd, strlen(op->cmd)) == 0 &&
		    syn[strlen(op->cmd)] <= ' ',
		    "%s: the synopsis starts with the command", op->cmd);
		CHECK(op_synopsis(op, syn, strlen(syn)) == -1,
		    "%s: a synopsis cut short is an error", op->cmd);
		op_synopsis(op, syn, sizeof(syn));
		if ((second = strchr(syn, '\n')) != NULL)
			*second++ = '\0';
		CHECK(!second == !op_by_gc_id(op), "%s: a second form "
		    "exactly when it takes --gc-id for --request-id", op->cmd);
		/* it names exactly the options the operation takes, with []
		 * exactly around those the command line may omit */
		for (k = 0; k < nop_options; k++) {
			want = !op_takes(op, op_options[k].name) ? 0 :
			    op_required(op, k) ? 2 : 1;
			CHECK(synopsis_names(syn, op_options[k].name) == want,
			    "%s: synopsis and table agree on --%s (%d)",
			    op->cmd, op_options[k].name, want);
			if (second == NULL)
				continue;
			want = strcmp(op_options[k].name, "request-id") == 0 ?
			    0 : strcmp(op_options[k].name, "gc-id") == 0 ? 2 :
			    want;
			CHECK(synopsis_names(second, op_options[k].name) == want,
			    "%s: its --gc-id form and the table agree on --%s",
			    op->cmd, op_options[k].name);
		}
		CHECK(!(op->flags & OP_ID_REQUIRED) == !op->refers_to,
		    "%s: refers to a request exactly when it needs its id",
		    op->cmd);
		if (op->refers_to) {
			o = op_by_name(op->refers_to);
			CHECK(o && op_origin(op) == o && op_undoing(o) == op,
			    "%s undoes %s", op->cmd, op->refers_to);
			CHECK(o && o->object && op->object &&
			    strcmp(o->object, op->object) == 0 &&
			    o->id_field && op->id_field &&
			    strcmp(o->id_field, op->id_field) == 0,
			    "%s: the same object and id member as %s", op->cmd,
			    op->refers_to);
		} else {
			CHECK(op->undo_window == 0, "%s: no undo window",
			    op->cmd);
		}
		/* journaled exactly when it makes or undoes an object */
		CHECK(!(op->flags & OP_JOURNAL) == !op->object,
		    "%s: journaled iff it has an object", op->cmd);
		if ((op->flags & OP_MOVES_MONEY) && op->object) {
			u = op_undoing(op);
			CHECK(u != NULL, "%s: money moved can be undone",
			    op->cmd);
		}
	}
	CHECK(op_find("cancel")->undo_window == 15 * 60,
	    "cancel: Amazon's 15 minutes");
	CHECK(op_takes(op_find("funds"), "below") &&
	    !op_takes(op_find("create"), "below") &&
	    op_takes(op_find("activate"), "recover-for") &&
	    !op_takes(op_find("load"), "recover-for") &&
	    op_takes(op_find("void"), "account-id") &&
	    !op_takes(op_find("funds"), "request-id"),
	    "options follow fields and flags");
}

/* ---- request building from named inputs ---- */

static void
profile_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	strlcpy(p->name, "unit", sizeof(p->name));
	strlcpy(p->partner_id, "Acme1", sizeof(p->partner_id));
	strlcpy(p->access_key_id, "AKIDEXAMPLE", sizeof(p->access_key_id));
	strlcpy(p->endpoint, "https://127.0.0.1:9", sizeof(p->endpoint));
	strlcpy(p->host, "127.0.0.1:9", sizeof(p->host));
	p->region = region_find("na");
	p->secret = strdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	p->secret_len = strlen(p->secret);
	p->max_rps = 10;
}

static int
build(const char *cmd, const struct opreq_in *in, struct opreq *r,
    char *why, size_t n)
{
	struct profile p;
	int rc;

	profile_init(&p);
	rc = opreq_build(&p, op_find(cmd), in, r, why, n);
	free(p.secret);
	return rc;
}

static void
test_build(void)
{
	struct opreq_in in;
	struct opreq r;
	char why[512], amt[AMOUNT_TEXT_MAX];
	size_t i;

	memset(&in, 0, sizeof(in));
	CHECK(build("create", &in, &r, why, sizeof(why)) == -1 &&
	    strstr(why, "no currency"), "create without a currency: %s", why);
	in.currency = "USD";
	CHECK(build("create", &in, &r, why, sizeof(why)) == -1 &&
	    strstr(why, "'--amount' is required for 'create'"),
	    "create without an amount: %s", why);
	in.amount = "19.99";
	in.extref = "order 7";
	in.card_number = "1234567890";	/* not create's: ignored */
	CHECK(build("create", &in, &r, why, sizeof(why)) == 0,
	    "create: %s", why);
	amount_format(&r.amount, amt, sizeof(amt));
	CHECK_STR(amt, "19.99", "create: the amount as typed");
	CHECK(r.text.card_number == NULL && r.text.extref == in.extref &&
	    strncmp(r.request_id, "Acme1", 5) == 0,
	    "create: its own fields, a generated id");
	in.amount = "50000";
	CHECK(build("create", &in, &r, why, sizeof(why)) == -1 &&
	    strstr(why, "ceiling"), "the amount ceiling: %s", why);
	in.amount = "19.99";
	in.card_number = "12a";
	CHECK(build("activate", &in, &r, why, sizeof(why)) == -1 &&
	    strstr(why, "--card-number '12a' must be digits only"),
	    "activate: a bad card number is named by its option: %s", why);
	in.card_number = "1234567890";
	in.recover_for = "86401";
	CHECK(build("activate", &in, &r, why, sizeof(why)) == -1 &&
	    strstr(why, "--recover-for"), "activate: recover-for range");
	in.recover_for = NULL;
	CHECK(build("activate", &in, &r, why, sizeof(why)) == 0 &&
	    r.recover_for == 120, "activate: 120 s of recovery by default");
	CHECK(build("cancel", &in, &r, why, sizeof(why)) == -1 &&
	    strstr(why, "'--request-id' is required for 'cancel'"),
	    "cancel needs the request id");
	in.extref = "a\x1b[2Jb";
	CHECK(build("load", &in, &r, why, sizeof(why)) == -1,
	    "a control character is refused");
	/* every member of opreq_in is filled by exactly one option */
	{
		struct opreq_in probe;
		const char **slot, **seen[32];
		size_t ns = 0, k;

		memset(&probe, 0, sizeof(probe));
		for (i = 0; i < nop_options; i++) {
			if ((slot = op_input(&probe, i)) == NULL)
				continue;
			for (k = 0; k < ns; k++)
				CHECK(seen[k] != slot, "--%s: a slot of its own",
				    op_options[i].name);
			if (ns < 32)
				seen[ns++] = slot;
		}
		CHECK(ns * sizeof(char *) == sizeof(struct opreq_in),
		    "every member of opreq_in has its option (%zu)", ns);
	}
	/* a built request's text, by option: what the journal records */
	{
		static const struct {
			const char	*opt;
			const char	*want;
		} cases[] = {
			{ "account-id", "amz1.account.1" },
			{ "account-type", "2" },	/* its default */
			{ "source-id", "desk" },
			{ "external-reference", "order 8" },
			{ "card-number", NULL },	/* not load's */
			{ "amount", NULL },		/* checked, beside */
			{ "currency", NULL },
			{ "request-id", NULL },
		};
		size_t k;
		const char *got;

		memset(&in, 0, sizeof(in));
		in.amount = "5";
		in.currency = "USD";
		in.account_id = "amz1.account.1";
		in.source_id = "desk";
		in.extref = "order 8";
		in.card_number = "1234567890";
		CHECK(build("load", &in, &r, why, sizeof(why)) == 0,
		    "load: %s", why);
		for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			for (i = 0; i < nop_options; i++)
				if (strcmp(op_options[i].name, cases[k].opt) == 0)
					break;
			got = op_text(&r.text, i);
			CHECK(cases[k].want ? got && strcmp(got,
			    cases[k].want) == 0 : got == NULL,
			    "load's text for --%s: %s", cases[k].opt,
			    got ? got : "(none)");
		}
		CHECK(op_text(&r.text, nop_options) == NULL,
		    "no text past the options");
	}
}

/* ---- the send path, with a scripted transfer ---- */

struct step {
	int		 hr;
	long		 status;
	const char	*body;
};

static struct {
	const struct step	*steps;
	size_t			 nsteps, calls;
	char			 dir[64];
	const char		*rid;
	const char		*seen_state;	/* the journal, as a post sees it */
	char			 state_buf[32];
	size_t			 gates;		/* connections up */
} script;

static int
fake_post(struct http *h, const char *url, const struct http_header_out *hd,
    size_t nh, const char *body, size_t len, const struct http_gate *gate,
    struct http_response *resp)
{
	const struct step *s;
	struct journal j;
	json_t *e;

	(void)h; (void)url; (void)hd; (void)nh; (void)body; (void)len;
	/* the connection is up: the gate decides whether the request goes */
	script.gates++;
	if (gate && gate->fn(gate->arg) != 0)
		return HTTP_HELD;
	/* what another process would read now: the pending record */
	memset(&j, 0, sizeof(j));
	script.seen_state = NULL;
	if (script.calls == 0 &&
	    journal_open(&j, script.dir, JOURNAL_READ) == AGCOD_OK) {
		e = journal_lookup(&j, "CreateGiftCard", script.rid);
		if (e && json_string_value(json_object_get(e, "state"))) {
			strlcpy(script.state_buf, json_string_value(
			    json_object_get(e, "state")),
			    sizeof(script.state_buf));
			script.seen_state = script.state_buf;
		}
		json_decref(e);
		journal_close(&j);
	}
	s = &script.steps[script.calls < script.nsteps ? script.calls :
	    script.nsteps - 1];
	script.calls++;
	resp->status = s->status;
	if (s->hr != HTTP_OK)
		strlcpy(resp->error, "connection reset (scripted)",
		    sizeof(resp->error));
	if (s->body && buf_adds(&resp->body, s->body) == -1)
		return HTTP_FAILED;
	return s->hr;
}

struct rig {
	struct profile		 prof;
	struct ratelimit	 rl;
	struct journal		 j;
	struct sender		 s;
};

static int
rig_open(struct rig *g, long retry_for)
{
	memset(g, 0, sizeof(*g));
	profile_init(&g->prof);
	strlcpy(script.dir, "/tmp/agcod-unit-send.XXXXXX", sizeof(script.dir));
	if (mkdtemp(script.dir) == NULL ||
	    journal_open(&g->j, script.dir, JOURNAL_WRITE) != AGCOD_OK)
		return -1;
	ratelimit_init(&g->rl, NULL, "", g->prof.max_rps);
	g->s.api.prof = &g->prof;
	g->s.api.pace = ratelimit_pace;
	g->s.api.pace_arg = &g->rl;
	g->s.api.retry_for = retry_for;
	g->s.api.post = fake_post;
	g->s.journal = &g->j;
	return 0;
}

static void
rig_close(struct rig *g)
{
	char cmd[128];

	journal_close(&g->j);
	free(g->prof.secret);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", script.dir);
	if (system(cmd) != 0)
		CHECK(0, "cleanup %s", script.dir);
}

/* create RID with the answers in steps: the exit status, journal row */
static int
send_create(struct rig *g, const char *rid, const struct step *steps,
    size_t n, json_t **row)
{
	struct buf body = BUF_INIT(4096);
	struct api_result res;
	struct opreq_in in;
	struct opreq r;
	char why[256];
	int rc;

	memset(&in, 0, sizeof(in));
	in.amount = "25";
	in.currency = "USD";
	in.request_id = rid;
	script.steps = steps;
	script.nsteps = n;
	script.calls = 0;
	script.rid = rid;
	if (op_prepare(&g->prof, &g->j, op_find("create"), &in, 0, &r, why,
	    sizeof(why)) != AGCOD_OK || api_body(&g->prof, &r, &body) == -1) {
		buf_free(&body);
		return -1;
	}
	rc = exit_code(op_send(&g->s, &r, &body, &res));
	api_result_free(&res);
	buf_free(&body);
	opreq_free(&r);
	*row = journal_lookup(&g->j, "CreateGiftCard", rid);
	return rc;
}

static const char *
row_str(json_t *row, const char *k)
{
	return json_string_value(json_object_get(row, k));
}

static void
test_send_path(void)
{
	static const struct step ok[] = {
		{ HTTP_OK, 200, "{\"creationRequestId\":\"Acme1S1\","
		    "\"status\":\"SUCCESS\",\"gcId\":\"GC9\","
		    "\"gcClaimCode\":\"CLAIM-NEVER-JOURNALED\"}" },
	};
	static const struct step lost_then_throttled[] = {
		{ HTTP_LOST, 0, NULL },
		{ HTTP_OK, 400, "{\"__type\":\"ThrottlingException\","
		    "\"message\":\"Rate exceeded\"}" },
	};
	static const struct step json_5xx[] = {
		{ HTTP_OK, 503, "{\"message\":\"Service Unavailable\"}" },
	};
	static const struct step refused[] = {
		{ HTTP_OK, 400, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
		    "\"errorCode\":\"F200\",\"errorType\":\"InvalidAmountValue\","
		    "\"status\":\"FAILURE\"}" },
	};
	struct rig g;
	json_t *row = NULL;
	char *dump;
	int rc;

	if (rig_open(&g, 0) == -1) {
		CHECK(0, "send rig: %s", g.j.err);
		return;
	}
	rc = send_create(&g, "Acme1S1", ok, 1, &row);
	CHECK(rc == 0 && script.calls == 1, "a SUCCESS: exit %d, %zu sends",
	    rc, script.calls);
	CHECK_STR(script.seen_state, "pending",
	    "the pending record is committed before the transfer");
	CHECK_STR(row_str(row, "state"), "succeeded", "journaled succeeded");
	CHECK_STR(row_str(row, "gc_id"), "GC9", "the gcId journaled");
	dump = json_dumps(row, 0);
	CHECK(dump && strstr(dump, "CLAIM-NEVER") == NULL,
	    "the claim code is never journaled");
	free(dump);
	CHECK(g.s.api.sent && g.s.last_record > 0, "sent, and its record id");
	json_decref(row);

	/* dropped after sending, then throttled until the budget is gone */
	g.s.api.retry_for = 2;
	rc = send_create(&g, "Acme1S2", lost_then_throttled, 2, &row);
	CHECK(rc == 75 && script.calls >= 2,
	    "lost then throttled: exit %d after %zu attempts (75)", rc,
	    script.calls);
	CHECK_STR(row_str(row, "state"), "unknown",
	    "an unknown attempt stays unknown through throttling");
	json_decref(row);
	g.s.api.retry_for = 0;

	rc = send_create(&g, "Acme1S3", json_5xx, 1, &row);
	CHECK(rc == 75, "a JSON 5xx without an AGCOD status: exit %d", rc);
	CHECK_STR(row_str(row, "state"), "unknown", "a JSON 5xx is unknown");
	json_decref(row);

	rc = send_create(&g, "Acme1S4", refused, 1, &row);
	CHECK(rc == 65, "an F200 refusal: exit %d", rc);
	CHECK_STR(row_str(row, "state"), "failed", "an F200 is failed");
	CHECK_STR(row_str(row, "error_code"), "F200", "its code journaled");
	json_decref(row);

	/* the journal cannot be written: 74, and nothing leaves */
	journal_close(&g.j);
	script.calls = 0;
	g.s.api.sent = 0;
	rc = send_create(&g, "Acme1S5", ok, 1, &row);
	CHECK(rc == 74 && script.calls == 0 && !g.s.api.sent,
	    "no journal: exit %d (74), %zu sends (0)", rc, script.calls);
	json_decref(row);
	rig_close(&g);
}

/* between attempts: break the rate-limit file, and the journal too */
static struct {
	struct rig	*g;
	int		 journal_too;
} breaker;

static void
break_after(void *arg, const struct op *op, const char *body, size_t len,
    const struct api_result *r)
{
	(void)arg; (void)op; (void)body; (void)len; (void)r;
	strlcpy(breaker.g->rl.path, "/nonexistent-agcod-dir/ratelimit",
	    sizeof(breaker.g->rl.path));
	if (breaker.journal_too)
		sqlite3_exec(breaker.g->j.db, "PRAGMA query_only = 1", NULL,
		    NULL, NULL);
}

/* issue 18: what earlier attempts may have done is the journal's to say */
static void
test_evidence_across_sends(void)
{
	static const struct step lost[] = { { HTTP_LOST, 0, NULL } };
	static const struct step denied[] = {
		{ HTTP_OK, 403, "{\"message\":\"The security token included "
		    "in the request is invalid.\"}" },
	};
	static const struct step refused_conn[] = {
		{ HTTP_NOT_SENT, 0, NULL },
	};
	static const struct step general[] = {
		{ HTTP_OK, 500, "{\"errorCode\":\"F100\",\"errorType\":"
		    "\"GeneralError\",\"message\":\"General Error\","
		    "\"status\":\"FAILURE\"}" },
	};
	struct rig g;
	json_t *row = NULL;
	int rc;

	if (rig_open(&g, 0) == -1) {
		CHECK(0, "evidence rig: %s", g.j.err);
		return;
	}
	/* defect 1: one process loses the answer, the next is refused */
	rc = send_create(&g, "Acme1E1", lost, 1, &row);
	CHECK(rc == 75, "lost: exit %d", rc);
	json_decref(row);
	rc = send_create(&g, "Acme1E1", denied, 1, &row);
	CHECK(rc == 75, "a 403 after an unknown send: exit %d (75)", rc);
	CHECK_STR(row_str(row, "state"), "unknown",
	    "the 403 leaves the request unknown");
	CHECK_STR(row_str(row, "object_state"), "unknown",
	    "and its card unknown");
	CHECK(json_integer_value(json_object_get(row, "open")) == 1,
	    "and open for reconcile");
	json_decref(row);

	/* defect 3: an unknown attempt, then the rate-limit file fails */
	breaker.g = &g;
	breaker.journal_too = 0;
	g.s.api.trace = break_after;
	g.s.api.retry_for = 3;
	rc = send_create(&g, "Acme1E2", lost, 1, &row);
	CHECK(rc == 75 && script.calls == 1, "lost, then no rate slot: exit %d "
	    "(75), %zu sends", rc, script.calls);
	CHECK_STR(row_str(row, "state"), "unknown", "still unknown");
	CHECK(row_str(row, "error") && !strstr(row_str(row, "error"),
	    "nothing sent"), "never 'nothing sent' after an unknown attempt: "
	    "%s", row_str(row, "error") ? row_str(row, "error") : "-");
	json_decref(row);

	/* nothing sent, but the pending record cannot be closed: not 74 */
	g.rl.path[0] = '\0';
	breaker.journal_too = 1;
	rc = send_create(&g, "Acme1E3", refused_conn, 1, &row);
	CHECK(rc == 75, "never sent, record left open: exit %d (75, not 74: "
	    "reconcile would send it)", rc);
	json_decref(row);

	/* refused, but that cannot be recorded: the record stays open and
	 * reconcile asks again, so not "refused" (sim 811) */
	sqlite3_exec(g.j.db, "PRAGMA query_only = 0", NULL, NULL, NULL);
	g.rl.path[0] = '\0';
	rc = send_create(&g, "Acme1E4", general, 1, &row);
	CHECK(rc == 75, "a refusal the journal could not record: exit %d (75, "
	    "not 69)", rc);
	json_decref(row);
	g.s.api.trace = NULL;
	rig_close(&g);
}

/* cancel takes what the journal knows of the card it refers to */
static void
test_prepare_from_journal(void)
{
	static const struct step ok[] = {
		{ HTTP_OK, 200, "{\"creationRequestId\":\"Acme1C1\","
		    "\"status\":\"SUCCESS\",\"gcId\":\"GCJ\","
		    "\"gcClaimCode\":\"X\"}" },
	};
	struct opreq_in in;
	struct opreq r;
	struct rig g;
	json_t *row = NULL;
	char why[256];

	if (rig_open(&g, 0) == -1) {
		CHECK(0, "prepare rig");
		return;
	}
	CHECK(send_create(&g, "Acme1C1", ok, 1, &row) == 0, "issued");
	json_decref(row);
	memset(&in, 0, sizeof(in));
	in.request_id = "Acme1C1";
	CHECK(op_prepare(&g.prof, &g.j, op_find("cancel"), &in, 0, &r, why,
	    sizeof(why)) == AGCOD_OK && r.text.gc_id &&
	    strcmp(r.text.gc_id, "GCJ") == 0 && r.from != NULL, "cancel takes the gcId from the journal");
	opreq_free(&r);
	CHECK(r.from == NULL, "opreq_free lets the row go");
	in.gc_id = "GCOWN";
	CHECK(op_prepare(&g.prof, &g.j, op_find("cancel"), &in, 0, &r, why,
	    sizeof(why)) == AGCOD_OK && strcmp(r.text.gc_id, "GCOWN") == 0,
	    "a given --gc-id wins over the journal's");
	opreq_free(&r);
	memset(&in, 0, sizeof(in));
	in.request_id = "Acme1NONE";
	CHECK(op_prepare(&g.prof, &g.j, op_find("void"), &in, 0, &r, why,
	    sizeof(why)) == AGCOD_E_BAD_INPUT && strstr(why, "the journal has no "
	    "LoadAmazonBalance with request id 'Acme1NONE'"),
	    "void of an unknown load says the journal has none: %s", why);
	/* issue 18 defect 7: an error is not "not found", so a cancel is
	 * never sent without the gcId the journal could not be asked for */
	sqlite3_exec(g.j.db, "ALTER TABLE requests RENAME TO gone", NULL, NULL,
	    NULL);
	memset(&in, 0, sizeof(in));
	in.request_id = "Acme1C1";
	CHECK(op_prepare(&g.prof, &g.j, op_find("cancel"), &in, 0, &r, why,
	    sizeof(why)) == AGCOD_E_JOURNAL_IO && strstr(why, "cannot read the "
	    "journal"), "a journal error is the journal's, not a cancel "
	    "without its gcId: %s", why);
	rig_close(&g);
}

/* what op_prepare comes to: bad input (the usage line), or a journal that
 * cannot be read, each its own result (exit_code maps them: 64, 74) */
static void
test_prepare_results(void)
{
	static const struct step ok[] = {
		{ HTTP_OK, 200, "{\"creationRequestId\":\"Acme1P1\","
		    "\"status\":\"SUCCESS\",\"gcId\":\"GCP\","
		    "\"gcClaimCode\":\"X\"}" },
	};
	static const struct {
		const char		*op, *rid, *amount, *account, *card;
		int			 no_journal, broken;
		enum agcod_result	 want;
		const char		*why;	/* in why, or NULL */
	} t[] = {
		{ "create", NULL, "5", NULL, NULL, 0, 0, AGCOD_OK, NULL },
		{ "create", NULL, "5", NULL, NULL, 1, 0, AGCOD_OK, NULL },
		{ "cancel", "Acme1P1", NULL, NULL, NULL, 0, 0, AGCOD_OK, NULL },
		{ "create", NULL, NULL, NULL, NULL, 0, 0, AGCOD_E_BAD_INPUT,
		    "amount" },
		{ "create", NULL, "abc", NULL, NULL, 0, 0, AGCOD_E_BAD_INPUT,
		    NULL },
		{ "create", NULL, "-1", NULL, NULL, 1, 0, AGCOD_E_BAD_INPUT,
		    NULL },
		{ "cancel", NULL, NULL, NULL, NULL, 0, 0, AGCOD_E_BAD_INPUT,
		    NULL },
		{ "load", NULL, "5", NULL, NULL, 0, 0, AGCOD_E_BAD_INPUT,
		    NULL },
		{ "void", "Acme1NONE", NULL, NULL, NULL, 0, 0,
		    AGCOD_E_BAD_INPUT, "the journal has no LoadAmazonBalance "
		    "with request id 'Acme1NONE'" },
		/* another operation's request id */
		{ "void", "Acme1P1", NULL, NULL, NULL, 0, 0, AGCOD_E_BAD_INPUT,
		    "the journal has no LoadAmazonBalance" },
		{ "activate", NULL, "5", NULL, NULL, 0, 0, AGCOD_E_BAD_INPUT,
		    NULL },
		{ "deactivate", NULL, NULL, NULL, "1234", 0, 0,
		    AGCOD_E_BAD_INPUT, NULL },
		{ "activation-status", NULL, NULL, NULL, NULL, 0, 0,
		    AGCOD_E_BAD_INPUT, NULL },
		/* an error is not "not found": never sent without its gcId */
		{ "cancel", "Acme1P1", NULL, NULL, NULL, 0, 1,
		    AGCOD_E_JOURNAL_IO, "cannot read the journal" },
		{ "void", "Acme1L1", NULL, NULL, NULL, 0, 1,
		    AGCOD_E_JOURNAL_IO, "cannot read the journal" },
	};
	struct opreq_in in;
	struct opreq r;
	struct rig g;
	json_t *row = NULL;
	enum agcod_result got;
	char why[256];
	size_t i;

	if (rig_open(&g, 0) == -1) {
		CHECK(0, "prepare results rig");
		return;
	}
	CHECK(send_create(&g, "Acme1P1", ok, 1, &row) == 0, "issued");
	json_decref(row);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].broken)
			sqlite3_exec(g.j.db, "ALTER TABLE requests RENAME TO "
			    "gone", NULL, NULL, NULL);
		memset(&in, 0, sizeof(in));
		in.request_id = t[i].rid;
		in.amount = t[i].amount;
		in.currency = "USD";
		in.account_id = t[i].account;
		in.card_number = t[i].card;
		why[0] = '\0';
		got = op_prepare(&g.prof, t[i].no_journal ? NULL : &g.j,
		    op_find(t[i].op), &in, 0, &r, why, sizeof(why));
		CHECK(got == t[i].want && (t[i].why == NULL ||
		    strstr(why, t[i].why)), "%s %s: result %d, want %d: %s",
		    t[i].op, t[i].rid ? t[i].rid : "", (int)got, (int)t[i].want,
		    why);
		if (got == AGCOD_OK)
			opreq_free(&r);
	}
	rig_close(&g);
}

/* ---- pacing: a slot per attempt, taken once the connection is up ---- */

static struct {
	size_t	 calls;
	size_t	 inside;	/* calls made while a transfer was under way */
	size_t	 refuse_from;	/* the first call refused (1-based), 0: none */
	int	 refusal;	/* what a refused call returns: 1 or -1 */
	int	 cls;
	long	 max_wait_ms;	/* the last call's */
} pacer;

static int
scripted_pace(void *arg, int cls, long max_wait_ms, long *wait_ms, char *why,
    size_t n)
{
	(void)arg;
	pacer.calls++;
	pacer.max_wait_ms = max_wait_ms;
	pacer.cls = cls;
	if (script.gates == pacer.calls)
		pacer.inside++;
	*wait_ms = 0;
	if (pacer.refuse_from && pacer.calls >= pacer.refuse_from) {
		*wait_ms = 61500;
		snprintf(why, n, "the rate limit file is unusable (scripted)");
		return pacer.refusal;
	}
	return 0;
}

static void
pacer_reset(size_t refuse_from, int refusal)
{
	memset(&pacer, 0, sizeof(pacer));
	pacer.refuse_from = refuse_from;
	pacer.refusal = refusal;
	script.gates = 0;
}

static void
test_pacing(void)
{
	static const struct step lost_then_ok[] = {
		{ HTTP_LOST, 0, NULL },
		{ HTTP_OK, 200, "{\"creationRequestId\":\"Acme1P1\","
		    "\"status\":\"SUCCESS\",\"gcId\":\"GC1\","
		    "\"gcClaimCode\":\"C\"}" },
	};
	static const struct step lost[] = {
		{ HTTP_LOST, 0, NULL },
	};
	struct rig g;
	json_t *row = NULL;
	int rc;

	if (rig_open(&g, 3) == -1) {
		CHECK(0, "pacing rig: %s", g.j.err);
		return;
	}
	g.s.api.pace = scripted_pace;

	/* a retry takes a new slot the same way: in the transfer, once up */
	pacer_reset(0, 0);
	rc = send_create(&g, "Acme1P1", lost_then_ok, 2, &row);
	CHECK(rc == 0 && script.calls == 2, "lost, then SUCCESS: exit %d, "
	    "%zu sends", rc, script.calls);
	CHECK(pacer.calls == 2 && pacer.inside == 2, "a slot for each attempt, "
	    "taken inside its transfer: %zu slots, %zu inside", pacer.calls,
	    pacer.inside);
	CHECK(pacer.cls == RL_ANY, "a create's class is the general rate");
	CHECK(pacer.max_wait_ms > 0 && pacer.max_wait_ms <= 3000,
	    "a slot by the --retry-for deadline: %ld ms", pacer.max_wait_ms);
	json_decref(row);

	/* signed before the wait: never more than 240 s of it */
	pacer_reset(1, 1);
	g.s.api.retry_for = 3600;
	rc = send_create(&g, "Acme1P5", lost, 1, &row);
	CHECK(rc == 75 && pacer.max_wait_ms <= 240000 &&
	    pacer.max_wait_ms > 230000, "a long budget: %ld ms of waiting",
	    pacer.max_wait_ms);
	CHECK(row_str(row, "error") && strstr(row_str(row, "error"),
	    "past the 240 s a signed request may wait for it"),
	    "says why: %s", row_str(row, "error"));
	g.s.api.retry_for = 3;
	json_decref(row);

	/* no slot in time: nothing sent, 75, and the journal says not sent */
	pacer_reset(1, 1);
	g.s.api.sent = 0;
	rc = send_create(&g, "Acme1P2", lost, 1, &row);
	CHECK(rc == 75 && script.calls == 0 && !g.s.api.sent,
	    "no slot: exit %d (75), %zu sends (0)", rc, script.calls);
	CHECK_STR(row_str(row, "state"), "not sent", "no slot: not sent");
	CHECK(row_str(row, "error") && strstr(row_str(row, "error"),
	    "61.5 s away, past the --retry-for budget; nothing sent"),
	    "no slot: says how far: %s", row_str(row, "error"));
	CHECK(json_integer_value(json_object_get(row, "attempts")) == 0,
	    "no slot: no attempt counted");
	json_decref(row);

	/* the rate's state unusable: 74 */
	pacer_reset(1, -1);
	rc = send_create(&g, "Acme1P3", lost, 1, &row);
	CHECK(rc == 74 && script.calls == 0, "rate file unusable: exit %d "
	    "(74), %zu sends", rc, script.calls);
	CHECK_STR(row_str(row, "state"), "not sent", "unusable: not sent");
	json_decref(row);

	/* the first attempt may have acted; the retry finds no slot: unknown */
	pacer_reset(2, 1);
	rc = send_create(&g, "Acme1P4", lost, 1, &row);
	CHECK(rc == 75 && script.calls == 1 && pacer.calls == 2,
	    "lost, then no slot: exit %d, %zu sends, %zu slots asked", rc,
	    script.calls, pacer.calls);
	CHECK_STR(row_str(row, "state"), "unknown", "lost, no slot: unknown");
	json_decref(row);
	rig_close(&g);
}

/* a journal row -> the request again: the body the command line built */
static void
test_rebuild(void)
{
	static const struct {
		const char *cmd, *row;
		struct opreq_in in;
		const char *err;	/* NULL: rebuilt */
	} cases[] = {
		{ "create", "{\"operation\": \"CreateGiftCard\", \"request_id\": "
		    "\"Acme1Row1\", \"amount\": \"7.50\", \"currency\": \"USD\", "
		    "\"external_reference\": \"order 12\", \"state\": \"unknown\"}",
		    { .amount = "7.50", .currency = "USD", .request_id =
		    "Acme1Row1", .extref = "order 12" }, NULL },
		{ "cancel", "{\"operation\": \"CancelGiftCard\", \"request_id\": "
		    "\"Acme1Row1\", \"gc_id\": \"G1\"}",
		    { .request_id = "Acme1Row1", .gc_id = "G1" }, NULL },
		{ "create", "{\"operation\": \"CreateGiftCard\", \"request_id\": "
		    "\"Acme1Row2\", \"currency\": \"USD\"}", { 0 }, "amount" },
		{ "create", "{\"operation\": \"CreateGiftCard\", \"amount\": "
		    "\"1\", \"currency\": \"USD\"}", { 0 }, "request" },
	};
	struct profile p;
	struct opreq r, want;
	char why[512];
	size_t i;

	profile_init(&p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf got = BUF_INIT(64 * 1024), exp = BUF_INIT(64 * 1024);
		json_t *row = json_loads(cases[i].row, 0, NULL);
		const struct op *op = op_find(cases[i].cmd);
		int rc;

		why[0] = '\0';
		rc = op_rebuild(&p, op, row, &r, &got, why, sizeof(why));
		if (cases[i].err) {
			CHECK(rc == -1 && strstr(why, cases[i].err), "rebuild %zu "
			    "refused: %s", i, why);
		} else {
			CHECK(rc == 0, "rebuild %zu: %s", i, why);
			CHECK(opreq_build(&p, op, &cases[i].in, &want, why,
			    sizeof(why)) == 0 && api_body(&p, &want, &exp) == 0,
			    "build %zu: %s", i, why);
			CHECK(rc == 0 && got.len == exp.len && memcmp(got.data,
			    exp.data, got.len) == 0, "rebuild %zu: the same body",
			    i);
			CHECK(rc == 0 && strcmp(r.request_id,
			    cases[i].in.request_id) == 0, "rebuild %zu: its id", i);
		}
		buf_free(&got);
		buf_free(&exp);
		json_decref(row);
	}
	free(p.secret);
}

void
test_send(void)
{
	test_table();
	test_build();
	test_rebuild();
	test_send_path();
	test_prepare_from_journal();
	test_prepare_results();
	test_pacing();
	test_evidence_across_sends();
}
