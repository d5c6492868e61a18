/* t_suggest.c - "did you mean": edit distances and the nearest name */
#include <string.h>

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
test_suggest(void)
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
}
