/* fuzz_journal.c - the import of agcod 0.1's journal.jsonl */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "../../src/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct journal j;
	static int ready;
	long records, bad;
	int torn;

	if (!ready) {
		const char *t = getenv("TMPDIR");
		char dir[4096];

		/* under make check, in its temporary directory */
		snprintf(dir, sizeof(dir), "%s/agcod-fuzz-XXXXXX",
		    t && *t ? t : "/tmp");
		if (mkdtemp(dir) == NULL ||
		    journal_open(&j, dir, JOURNAL_WRITE) != AGCOD_OK)
			abort();
		ready = 1;
	}
	/* each input on its own, into an empty journal, then forgotten */
	sqlite3_exec(j.db, "BEGIN", NULL, NULL, NULL);
	journal_import_text(&j, (const char *)data, size, &records, &bad,
	    &torn);
	if (journal_check(&j, NULL, NULL) != 0)
		abort();
	sqlite3_exec(j.db, "ROLLBACK", NULL, NULL, NULL);
	return 0;
}
