/*
 * fuzz_csv.c - the batch CSV reader.  Beyond "no crash": every record it
 * returns is well formed (1 to CSV_MAX_FIELDS fields, each a string within
 * CSV_FIELD_MAX bytes, line numbers that never go back), and what it refuses
 * it names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv c;
	char err[256];
	size_t i;
	int j, line = 0;

	err[0] = '\0';
	if (csv_parse((const char *)data, size, &c, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();	/* a refusal without a reason */
		return 0;
	}
	for (i = 0; i < c.nrows; i++) {
		const struct csv_row *r = &c.rows[i];

		if (r->nfields < 1 || r->nfields > CSV_MAX_FIELDS ||
		    r->line < line || r->line < 1)
			abort();
		line = r->line;
		for (j = 0; j < r->nfields; j++)
			if (r->fields[j] == NULL ||
			    strlen(r->fields[j]) > CSV_FIELD_MAX)
				abort();
		/* a blank line is never a record */
		if (r->nfields == 1 && r->fields[0][0] == '\0')
			abort();
	}
	csv_free(&c);
	return 0;
}
