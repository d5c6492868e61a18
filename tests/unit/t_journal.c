/* t_journal.c - journal folding, CSV records, rate-limit slots */
#include <string.h>

#include "../../src/csv.h"
#include "../../src/journal.h"
#include "../../src/ratelimit.h"
#include "unit.h"

static const char *
member(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

void
test_journal(void)
{
	static const char text[] =
	    "{\"time\":\"T1\",\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A1\",\"amount\":\"19.99\"}\n"
	    "{\"time\":\"T2\",\"state\":\"pending\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A2\"}\n"
	    "not json\n"
	    "{\"time\":\"T3\",\"state\":\"succeeded\",\"operation\":\"CreateGiftCard\","
	    "\"request_id\":\"A1\",\"gc_id\":\"G1\"}\n"
	    "{\"time\":\"T4\",\"state\":\"pending\",\"operation\":\"CancelGiftCard\","
	    "\"request_id\":\"A1\"}\n"
	    "[1]\n"
	    "{\"time\":\"T5\",\"state\":\"succ";
	json_t *list, *e;
	int bad, torn;

	list = journal_fold(text, strlen(text), &bad, &torn);
	CHECK(json_array_size(list) == 3, "three entries");
	CHECK(bad == 2 && torn == 1, "bad %d torn %d", bad, torn);
	e = journal_find(list, "CreateGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "succeeded") == 0, "latest state");
	CHECK(e && strcmp(member(e, "amount"), "19.99") == 0, "pending fields kept");
	CHECK(e && strcmp(member(e, "gc_id"), "G1") == 0, "final fields added");
	CHECK(e && strcmp(member(e, "time"), "T1") == 0 &&
	    strcmp(member(e, "updated"), "T3") == 0, "time kept, updated moves");
	e = journal_find(list, "CancelGiftCard", "A1");
	CHECK(e && strcmp(member(e, "state"), "pending") == 0,
	    "cancel is its own entry");
	CHECK(journal_find(list, "CreateGiftCard", "A9") == NULL, "absent");
	CHECK(strcmp(member(json_array_get(list, 1), "request_id"), "A2") == 0,
	    "order of first appearance");
	json_decref(list);
	list = journal_fold("", 0, &bad, &torn);
	CHECK(json_array_size(list) == 0 && !bad && !torn, "empty journal");
	json_decref(list);
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
		struct rl_state s = { 0, 0 };
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
