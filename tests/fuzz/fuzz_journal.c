/* fuzz_journal.c - the journal reader */
#include <stdint.h>

#include "../../src/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int bad, torn;
	json_t *j = journal_fold((const char *)data, size, &bad, &torn);

	json_decref(j);
	return 0;
}
