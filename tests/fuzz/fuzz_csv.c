/* fuzz_csv.c - the batch CSV reader */
#include <stdint.h>

#include "../../src/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv c;
	char err[256];

	if (csv_parse((const char *)data, size, &c, err, sizeof(err)) == 0)
		csv_free(&c);
	return 0;
}
