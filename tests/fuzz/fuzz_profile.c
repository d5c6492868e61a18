/* fuzz_profile.c - the INI profile reader */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile p;
	char err[512];
	int found, holds;

	memset(&p, 0, sizeof(p));
	profile_parse(&p, (const char *)data, size, "fuzz.ini", "default",
	    &found, &holds, err, sizeof(err));
	free(p.secret);
	return 0;
}
