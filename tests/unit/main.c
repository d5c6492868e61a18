/* main.c - runs every unit suite and prints "N passed, N failed" */
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

int unit_passed, unit_failed;
const char *unit_data_dir = "tests/data";

char *
unit_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
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
