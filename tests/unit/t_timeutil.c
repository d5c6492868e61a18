/* t_timeutil.c - the time formats agcod reads, one parser each, and its clock */
#include <time.h>

#include "../../src/timeutil.h"
#include "unit.h"

void
test_timeutil(void)
{
	static const struct {
		int (*parse)(const char *, time_t *);
		const char *name, *text;
		int rc;
		time_t want;
	} cases[] = {
		{ time_parse_iso, "iso", "2026-05-01T00:00:00Z", 0, 1777593600 },
		{ time_parse_iso, "iso", "2026-11-22T14:01:15Z", 0, 1795356075 },
		{ time_parse_iso, "iso", "2026-05-01", -1, 0 },
		{ time_parse_iso, "iso", "2026-05-01T00:00:00Zjunk", -1, 0 },
		{ time_parse_iso, "iso", "2026-05-01T00:00:00", -1, 0 },
		{ time_parse_iso, "iso", "", -1, 0 },
		{ time_parse_iso, "iso", NULL, -1, 0 },
		{ time_parse_day, "day", "2026-05-01", 0, 1777593600 },
		{ time_parse_day, "day", "2026-05-01T00:00:00Z", -1, 0 },
		{ time_parse_day, "day", "2026-5", -1, 0 },
		{ time_parse_day, "day", "20260501", -1, 0 },
		{ time_parse_day, "day", NULL, -1, 0 },
		{ time_parse_http, "http", "Sun, 22 Nov 2026 14:01:15 GMT", 0,
		    1795356075 },
		{ time_parse_http, "http", "22 Nov 2026", -1, 0 },
		{ time_parse_http, "http", "Sun, 22 Nov 2026 14:01:15 GMT x", -1,
		    0 },
		{ time_parse_http, "http", NULL, -1, 0 },
	};
	long long a, b;
	time_t t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = 0;
		CHECK(cases[i].parse(cases[i].text, &t) == cases[i].rc &&
		    (cases[i].rc != 0 || t == cases[i].want), "%s '%s': %lld",
		    cases[i].name, cases[i].text ? cases[i].text : "(null)",
		    (long long)t);
	}
	a = mono_ms();
	b = mono_ms();
	CHECK(a > 0 && b >= a, "the monotonic clock does not go back");
}
