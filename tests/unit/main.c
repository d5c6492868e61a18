/* main.c - runs every unit suite and prints "N passed, N failed" */
#include <stdio.h>
#include <stdlib.h>

#include "../../src/buf.h"
#include "unit.h"

int unit_passed, unit_failed;
const char *unit_data_dir = "tests/data";

char *
unit_slurp(const char *path, size_t *len)
{
	size_t n;

	return buf_slurp(path, 64 * 1024 * 1024, len ? len : &n);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} suites[] = {
		{ "sigv4", test_sigv4 },
		{ "amount", test_amount },
		{ "reqid", test_reqid },
		{ "profile", test_profile },
		{ "json", test_json },
		{ "api", test_api },
		{ "journal", test_journal },
		{ "csv", test_csv },
		{ "triage", test_triage },
		{ "buf", test_buf },
		{ "classify", test_classify },
		{ "guard", test_guard },
		{ "msg", test_msg },
		{ "ratelimit", test_ratelimit },
		{ "suggest", test_suggest },
		{ "rotation", test_rotation },
		{ "csvedge", test_csv_edges },
		{ "csvsep", test_csv_sep },
		{ "csvcell", test_csv_cell },
		{ "attack", test_attack },
		{ "send", test_send },
		{ "pins", test_pins },
		{ "timeutil", test_timeutil },
		{ "statedir", test_statedir },
		{ "exitcode", test_exitcode },
	};
	size_t i;

	if (argc > 1)
		unit_data_dir = argv[1];
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		int before = unit_failed;

		suites[i].fn();
		printf("unit %-8s %s\n", suites[i].name,
		    unit_failed == before ? "ok" : "FAILED");
	}
	printf("unit: %d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}
