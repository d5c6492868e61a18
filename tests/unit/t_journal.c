/* t_journal.c - journal folding, CSV records, rate-limit slots */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/csv.h"
#include "../../src/journal.h"
#include "../../src/ratelimit.h"
#include "unit.h"

static const char *
member(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

/* how requests move money objects: the one table of it */
static void
test_next_state(void)
{
	static const struct {
		const char *op, *cur, *outcome;
		int same;
		const char *want;
	} t[] = {
		{ "CreateGiftCard", NULL, "pending", 1, "pending" },
		{ "CreateGiftCard", "pending", "succeeded", 1, "issued" },
		{ "CreateGiftCard", "pending", "failed", 1, "failed" },
		{ "CreateGiftCard", "pending", "unknown", 1, "unknown" },
		{ "CreateGiftCard", "pending", "not sent", 1, "not sent" },
		{ "CreateGiftCard", "pending", "pending", 1, "unknown" },
		{ "CreateGiftCard", "unknown", "succeeded", 1, "issued" },
		{ "CreateGiftCard", "unknown", "failed", 1, "failed" },
		/* a refusal of other terms settles nothing */
		{ "CreateGiftCard", "unknown", "failed", 0, "unknown" },
		{ "CreateGiftCard", "unknown", "not sent", 1, "unknown" },
		{ "CreateGiftCard", "failed", "succeeded", 1, "issued" },
		{ "CreateGiftCard", "failed", "unknown", 1, "unknown" },
		/* a refused repeat never changes an issued card */
		{ "CreateGiftCard", "issued", "failed", 0, "issued" },
		{ "CreateGiftCard", "issued", "failed", 1, "issued" },
		{ "CreateGiftCard", "issued", "unknown", 1, "issued" },
		{ "CreateGiftCard", "issued", "pending", 1, "issued" },
		{ "CreateGiftCard", "issued", "cancelled", 1, "cancelled" },
		{ "CreateGiftCard", "cancelled", "succeeded", 1, "cancelled" },
		{ "CancelGiftCard", "issued", "succeeded", 1, "cancelled" },
		{ "CancelGiftCard", "issued", "failed", 1, "issued" },
		{ "CancelGiftCard", "issued", "unknown", 1, "issued" },
		{ "CancelGiftCard", NULL, "succeeded", 1, "cancelled" },
		{ "CancelGiftCard", NULL, "failed", 1, NULL },
		{ "LoadAmazonBalance", NULL, "pending", 1, "pending" },
		{ "LoadAmazonBalance", "pending", "succeeded", 1, "loaded" },
		{ "VoidAmazonBalanceLoad", "loaded", "succeeded", 1, "voided" },
		{ "VoidAmazonBalanceLoad", "loaded", "failed", 1, "loaded" },
		{ "ActivateGiftCard", "pending", "succeeded", 1, "activated" },
		{ "DeactivateGiftCard", "activated", "succeeded", 1,
		    "deactivated" },
		{ "ActivateGiftCard", "deactivated", "succeeded", 1, "activated" },
		{ "ActivateGiftCard", "deactivated", "failed", 1, "deactivated" },
		{ "GetAvailableFunds", NULL, "succeeded", 1, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = journal_next_state(t[i].op, t[i].cur,
		    t[i].outcome, t[i].same);

		CHECK((got == NULL && t[i].want == NULL) || (got && t[i].want &&
		    strcmp(got, t[i].want) == 0), "%s %s + %s (same %d): %s, "
		    "want %s", t[i].op, t[i].cur ? t[i].cur : "-", t[i].outcome,
		    t[i].same, got ? got : "-", t[i].want ? t[i].want : "-");
	}
	CHECK_STR(journal_kind("VoidAmazonBalanceLoad"), "load", "kind");
	CHECK(journal_kind("ActivationStatusCheck") == NULL, "no kind");
}

static int
count_row(json_t *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

void
test_journal(void)
{
	/* agcod 0.1's records: a bad line, a torn last line */
	static const char text[] =
	    "{\"time\":\"T1\",\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A1\",\"amount\":\"19.99\",\"currency\":\"USD\"}\n"
	    "{\"time\":\"T2\",\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A2\",\"amount\":\"1\",\"currency\":\"USD\"}\n"
	    "not json\n"
	    "{\"time\":\"T3\",\"state\":\"succeeded\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A1\",\"gc_id\":\"G1\"}\n"
	    "{\"time\":\"T4\",\"state\":\"pending\",\"operation\":\"CancelGiftCard\","
	    "\"request_id\":\"A1\"}\n"
	    "[1]\n"
	    "{\"time\":\"T5\",\"state\":\"succ";
	char dir[] = "/tmp/agcod-unit-XXXXXX", path[64];
	struct journal_query q;
	struct journal j;
	json_t *e, *rec;
	long records, bad;
	int torn, n;
	int64_t id;

	test_next_state();
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	CHECK(journal_open(&j, dir, JOURNAL_READ) == 0 && j.db == NULL,
	    "no journal yet reads as empty");
	CHECK(journal_open(&j, dir, JOURNAL_WRITE) == 0 && j.db != NULL,
	    "open: %s", j.err);
	CHECK(journal_import_text(&j, text, strlen(text), &records, &bad,
	    &torn) == 0, "import: %s", j.err);
	CHECK(records == 4 && bad == 2 && torn == 1, "records %ld bad %ld "
	    "torn %d", records, bad, torn);
	e = journal_lookup(&j, "CreateGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "succeeded") == 0, "outcome");
	CHECK(e && strcmp(member(e, "amount"), "19.99") == 0, "pending fields");
	CHECK(e && strcmp(member(e, "gc_id"), "G1") == 0, "outcome fields");
	CHECK(e && strcmp(member(e, "time"), "T1") == 0 &&
	    strcmp(member(e, "updated"), "T3") == 0, "time kept, updated moves");
	CHECK(e && strcmp(member(e, "object_state"), "issued") == 0, "issued");
	json_decref(e);
	e = journal_lookup(&j, "CancelGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "pending") == 0 &&
	    strcmp(member(e, "gc_id"), "G1") == 0, "cancel: its own record, "
	    "the card's gc id");
	json_decref(e);
	CHECK(journal_lookup(&j, "CreateGiftCard", "A9") == NULL, "absent");

	/* a live send: pending, then its outcome */
	rec = json_pack("{s:s, s:s, s:s, s:s}", "operation", "CreateGiftCard",
	    "request_id", "A2", "amount", "1", "currency", "USD");
	id = journal_begin(&j, rec);
	json_decref(rec);
	CHECK(id > 0, "begin: %s", j.err);
	memset(&q, 0, sizeof(q));
	q.view = VIEW_OPEN;
	n = 0;
	CHECK(journal_query(&j, &q, count_row, &n) == 0 && n == 2,
	    "open: the new A2 and the cancel, not the older A2 (%d)", n);
	rec = json_pack("{s:s, s:s}", "state", "failed", "error_code", "F200");
	CHECK(journal_finish(&j, id, rec) == 0, "finish: %s", j.err);
	json_decref(rec);
	q.view = VIEW_OBJECTS;
	q.state = "failed";
	n = 0;
	CHECK(journal_query(&j, &q, count_row, &n) == 0 && n == 1, "failed %d",
	    n);
	CHECK(journal_check(&j, NULL, NULL) == 0, "consistent");
	journal_close(&j);
	snprintf(path, sizeof(path), "%s/journal.db", dir);
	unlink(path);
	rmdir(dir);
}

void
test_csv(void)
{
	static const char ok[] = "\xef\xbb\xbf" "amount,external_reference\r\n"
	    "19.99,\"a, b\"\r\n\r\n0.15,\"say \"\"hi\"\"\"\n"
	    "25,\"two\nlines\"\n7,";
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "a\n\"x\n", "line 2: unterminated" },
		{ "a\n\"x\"y\n", "line 2: text after a closing quote" },
		{ "a\nx\"y\n", "line 2: a quote inside" },
		{ "a\0b", "NUL" },
	};
	struct csv c;
	char err[256];
	size_t i;

	CHECK(csv_parse(ok, sizeof(ok) - 1, &c, err, sizeof(err)) == 0,
	    "parses: %s", err);
	CHECK(c.nrows == 5, "rows %zu (blank line skipped)", c.nrows);
	if (c.nrows == 5) {
		CHECK_STR(c.rows[0].fields[0], "amount", "BOM stripped");
		CHECK_STR(c.rows[1].fields[1], "a, b", "quoted comma");
		CHECK_STR(c.rows[2].fields[1], "say \"hi\"", "doubled quote");
		CHECK(c.rows[2].line == 4, "line numbers count blank lines");
		CHECK_STR(c.rows[3].fields[1], "two\nlines", "newline in quotes");
		CHECK(c.rows[4].line == 7, "line after a multi-line field");
		CHECK(c.rows[4].nfields == 2 && c.rows[4].fields[1][0] == '\0',
		    "trailing empty field, no final newline");
	}
	csv_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = i == 3 ? 3 : strlen(bad[i].text);

		CHECK(csv_parse(bad[i].text, n, &c, err, sizeof(err)) == -1 &&
		    strstr(err, bad[i].want), "bad csv %zu: %s", i, err);
	}

	/* rate-limit slots: 1.01/max_rps apart, funds 1.01 s apart */
	{
		struct rl_state s = { 0, 0, 0 };
		const long long NS = 1000000000LL;
		long long t0 = 1000 * NS, a, b, f1, f2;

		a = rl_reserve(&s, t0, 10, 0);
		b = rl_reserve(&s, t0, 10, 0);
		CHECK(a == t0 && b == t0 + 101000000LL, "10 rps slots");
		f1 = rl_reserve(&s, t0, 10, 1);
		f2 = rl_reserve(&s, t0, 10, 1);
		CHECK(f1 == t0 + 202000000LL && f2 == f1 + 1010000000LL,
		    "funds 1.01 s apart");
		CHECK(rl_reserve(&s, t0 + 500 * NS, 10, 0) == t0 + 500 * NS,
		    "idle: now");
		s.next_ns = t0 + 10000 * NS;	/* a clock step backwards */
		CHECK(rl_reserve(&s, t0, 10, 0) == t0, "stale state is reset");
	}
}
