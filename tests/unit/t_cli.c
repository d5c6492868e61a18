/* t_cli.c - "did you mean" distances and the key rotation schedule */
#include <string.h>

#include "../../src/rotation.h"
#include "../../src/suggest.h"
#include "unit.h"

static const char *
nearest(const char *word)
{
	static const char *const names[] = {
		"create", "cancel", "funds", "load", "void", "activate",
		"deactivate", "activation-status", "history", "help",
	};
	struct suggest s = { word, NULL, 0 };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		suggest_consider(&s, names[i]);
	return s.best;
}

void
test_cli(void)
{
	static const struct {
		const char *a, *b;
		size_t d;
	} dist[] = {
		{ "", "", 0 }, { "abc", "abc", 0 }, { "crate", "create", 1 },
		{ "histroy", "history", 2 }, { "", "abc", 3 }, { "kitten",
		"sitting", 3 }, { "amout", "amount", 1 },
	};
	static const struct {
		const char *word, *want;
	} near[] = {
		{ "crate", "create" }, { "fund", "funds" }, { "histroy", "history" },
		{ "activat", "activate" }, { "deactivat", "deactivate" },
		{ "zzzzzz", NULL }, { "ab", NULL }, { "x", NULL }, { "hlep", "help" },
	};
	char by[16];
	size_t i;

	for (i = 0; i < sizeof(dist) / sizeof(dist[0]); i++)
		CHECK(edit_distance(dist[i].a, dist[i].b) == dist[i].d &&
		    edit_distance(dist[i].b, dist[i].a) == dist[i].d,
		    "distance %s %s", dist[i].a, dist[i].b);
	for (i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		const char *got = nearest(near[i].word);

		CHECK(near[i].want ? got && strcmp(got, near[i].want) == 0 :
		    got == NULL, "nearest to %s: %s", near[i].word,
		    got ? got : "(none)");
	}

	/* 2026-05-01T00:00:00Z */
	CHECK(key_age_days(0, 1800000000) == -1, "not recorded");
	CHECK(key_age_days(1777593600, 1777593600) == 0, "day 0");
	CHECK(key_age_days(1777593600, 1777593600 + 86399) == 0, "still day 0");
	CHECK(key_age_days(1777593600, 1777593600 + 150 * 86400) == 150,
	    "day 150");
	CHECK(key_age_days(1777593600, 1777593600 - 86400) == 0,
	    "created tomorrow: 0");
	key_rotate_by(1777593600, by);
	CHECK_STR(by, "2026-10-28", "180 days after 2026-05-01");
}
