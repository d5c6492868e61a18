/* fuzz_amount.c - the amount parser: what parses must print back exactly */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/amount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *curs[] = { "USD", "JPY", "EUR" };
	char text[64], back[AMOUNT_TEXT_MAX];
	struct amount a, b;
	const char *why;
	size_t i;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0; i < 3; i++)
		if (amount_parse(text, currency_find(curs[i]), &a, &why) == 0) {
			amount_format(&a, back, sizeof(back));
			/* the round trip is exact, and within the currency */
			if (amount_parse(back, currency_find(curs[i]), &b,
			    &why) != 0 || amount_cmp(&a, &b) != 0 ||
			    a.units <= 0)
				abort();
		}
	if (amount_parse_number(text, &a) == 0) {
		amount_format(&a, back, sizeof(back));
		if (amount_parse_number(back, &b) != 0 || amount_cmp(&a, &b))
			abort();
	}
	return 0;
}
