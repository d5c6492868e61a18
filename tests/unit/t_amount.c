/* t_amount.c - exact money: what is typed is what is sent */
#include <string.h>

#include "../../src/amount.h"
#include "unit.h"

void
test_amount(void)
{
	static const struct {
		const char *text, *cur, *want;	/* want NULL: refused */
	} cases[] = {
		{ "19.99", "USD", "19.99" }, { "0.15", "USD", "0.15" },
		{ "25", "USD", "25" }, { "25.00", "USD", "25.00" },
		{ "1.00", "USD", "1.00" }, { "25.5", "EUR", "25.5" },
		{ "007", "USD", "7" }, { "0.01", "GBP", "0.01" },
		{ "10000", "USD", "10000" }, { "1000", "JPY", "1000" },
		{ "1500000", "JPY", "1500000" },
		{ "1000.5", "JPY", NULL }, { "100.0", "JPY", NULL },
		{ "19.999", "USD", NULL }, { "0", "USD", NULL },
		{ "0.00", "USD", NULL }, { "-5", "USD", NULL },
		{ "+5", "USD", NULL }, { "", "USD", NULL }, { "abc", "USD", NULL },
		{ "1e3", "USD", NULL }, { "1,5", "USD", NULL },
		{ "25.", "USD", NULL }, { ".5", "USD", NULL },
		{ "1.2.3", "USD", NULL }, { " 5", "USD", NULL },
		{ "5 ", "USD", NULL }, { "10000.01", "USD", NULL },
		{ "99999999999999999999", "USD", NULL },
		{ "1500001", "JPY", NULL }, { "0x10", "USD", NULL },
		{ "NaN", "USD", NULL }, { "Infinity", "USD", NULL },
	};
	const struct currency *c;
	struct amount a, b;
	char out[AMOUNT_TEXT_MAX];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = currency_find(cases[i].cur);
		CHECK(c != NULL, "currency %s", cases[i].cur);
		if (c == NULL)
			continue;
		why = NULL;
		if (cases[i].want == NULL) {
			CHECK(amount_parse(cases[i].text, c, &a, &why) == -1 &&
			    why != NULL, "'%s' %s refused", cases[i].text,
			    cases[i].cur);
			continue;
		}
		CHECK(amount_parse(cases[i].text, c, &a, &why) == 0,
		    "'%s' %s accepted (%s)", cases[i].text, cases[i].cur,
		    why ? why : "");
		amount_format(&a, out, sizeof(out));
		CHECK_STR(out, cases[i].want, "'%s' formats back",
		    cases[i].text);
	}
	CHECK(currency_find("XYZ") == NULL, "unknown currency");
	CHECK(currency_find("usd") == currency_find("USD") &&
	    currency_find("USD") != NULL, "a lower-case code is the ISO code");
	CHECK(currency_find("us") == NULL && currency_find("usdx") == NULL &&
	    currency_find("") == NULL && currency_find("US\xc4") == NULL,
	    "only a whole code matches");
	CHECK(currency_find("JPY")->exponent == 0, "JPY has no decimals");
	/* inferred from the EU endpoint's countries and ISO 4217 */
	CHECK(currency_find("EGP") && currency_find("EGP")->exponent == 2 &&
	    strcmp(currency_find("EGP")->region, "eu") == 0, "EGP: eu, 2");
	CHECK(currency_find("ZAR") && currency_find("ZAR")->exponent == 2 &&
	    strcmp(currency_find("ZAR")->region, "eu") == 0, "ZAR: eu, 2");
	CHECK(strstr(currency_list(), "USD") != NULL, "currency list");

	/* numbers from responses, compared exactly */
	CHECK(amount_parse_number("1000.0", &a) == 0 &&
	    amount_parse_number("999.99", &b) == 0 && amount_cmp(&a, &b) > 0,
	    "1000.0 > 999.99");
	CHECK(amount_parse_number("0.0", &a) == 0 &&
	    amount_parse_number("0", &b) == 0 && amount_cmp(&a, &b) == 0,
	    "0.0 == 0");
	CHECK(amount_parse_number("19.99", &a) == 0 &&
	    amount_parse_number("19.990", &b) == 0 && amount_cmp(&a, &b) == 0,
	    "19.99 == 19.990");
	CHECK(amount_parse_number("-1.5", &a) == 0 &&
	    amount_parse_number("1", &b) == 0 && amount_cmp(&a, &b) < 0,
	    "-1.5 < 1");
	CHECK(amount_parse_number("0.1", &a) == 0 &&
	    amount_parse_number("0.09", &b) == 0 && amount_cmp(&a, &b) > 0,
	    "0.1 > 0.09");
	/* the service's Java doubles, read exactly */
	{
		static const struct {
			const char *text, *want;	/* want NULL: refused */
		} nums[] = {
			{ "0.0", "0" }, { "1000.0", "1000" }, { "19.99", "19.99" },
			{ "1.0E7", "10000000" }, { "1.2345678E7", "12345678" },
			{ "1.23456789E8", "123456789" },
			{ "9.99999999999E10", "99999999999.9" },
			{ "1.5E-2", "0.015" }, { "1.0E-3", "0.001" },
			{ "2.5e+3", "2500" }, { "-1.5E3", "-1500" },
			{ "19.990", "19.99" }, { "0.015", "0.015" },
			{ "1E0", "1" }, { "0E10", "0" }, { "0.0E-400", "0" },
			{ "123456789012345678", "123456789012345678" },
			{ "1.0E17", "100000000000000000" },
			{ "1234567890123456789", NULL }, { "1.0E18", NULL },
			{ "1.0E-19", NULL }, { "1E999999999999", NULL },
			{ "1.E5", NULL }, { "1e", NULL }, { "1e+", NULL },
			{ "E5", NULL }, { ".5E1", NULL }, { "1.5E2.5", NULL },
			{ "1.0E7 ", NULL }, { "+1", NULL }, { "0x1p3", NULL },
			{ "NaN", NULL }, { "Infinity", NULL }, { "", NULL },
		};

		for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			if (nums[i].want == NULL) {
				CHECK(amount_parse_number(nums[i].text, &a) == -1,
				    "number '%s' refused", nums[i].text);
				continue;
			}
			CHECK(amount_parse_number(nums[i].text, &a) == 0,
			    "number '%s' read", nums[i].text);
			amount_format(&a, out, sizeof(out));
			CHECK_STR(out, nums[i].want, "number '%s' exactly",
			    nums[i].text);
		}
	}
	CHECK(amount_parse_number("1.0E7", &a) == 0 &&
	    amount_parse_number("20000000", &b) == 0 && amount_cmp(&a, &b) < 0,
	    "1.0E7 < 20000000");
	CHECK(amount_parse_number("1.0E7", &a) == 0 &&
	    amount_parse_number("9999999.99", &b) == 0 &&
	    amount_cmp(&a, &b) > 0, "1.0E7 > 9999999.99");
	CHECK(amount_parse_number("1.0E7", &a) == 0 &&
	    amount_parse_number("10000000.000", &b) == 0 &&
	    amount_cmp(&a, &b) == 0, "1.0E7 == 10000000.000");
	CHECK(amount_parse_number("1.5E-2", &a) == 0 &&
	    amount_parse_number("0.015000000000000001", &b) == 0 &&
	    amount_cmp(&a, &b) < 0, "1.5E-2 < 0.015000000000000001");
	/* typed amounts stay plain decimals */
	CHECK(amount_parse("1e3", currency_find("USD"), &a, &why) == -1,
	    "no exponent in a typed amount");
	/* the ceiling holds whatever the scale typed (issue 13) */
	{
		static const struct {
			const char *text, *cur;
		} over[] = {
			{ "50000", "USD" }, { "10000.5", "EUR" },
			{ "10000.01", "USD" }, { "10000.10", "GBP" },
			{ "1500001", "JPY" }, { "015000010", "JPY" },
			{ "10001", "USD" }, { "000010000.01", "USD" },
		};

		for (i = 0; i < sizeof(over) / sizeof(over[0]); i++)
			CHECK(amount_parse(over[i].text, currency_find(over[i].cur),
			    &a, &why) == -1 && strstr(why, "ceiling") != NULL,
			    "'%s' %s above the ceiling", over[i].text,
			    over[i].cur);
		CHECK(amount_parse("10000.00", currency_find("EUR"), &a,
		    &why) == 0, "10000.00 EUR is the ceiling itself");
	}
	amount_parse_number("-0.05", &a);
	amount_format(&a, out, sizeof(out));
	CHECK_STR(out, "-0.05", "negative formats");
	/* minor units of a currency: the one conversion, overflow checked */
	{
		static const struct {
			int64_t units;
			int scale;
			const char *cur;
			int rc;
			int64_t want;
		} minor[] = {
			{ 1999, 2, "USD", 0, 1999 },
			{ 5, 0, "USD", 0, 500 },
			{ 19999, 3, "USD", 0, 1999 },	/* truncated */
			{ -19999, 3, "USD", 0, -1999 },	/* toward zero */
			{ 1500, 0, "JPY", 0, 1500 },
			{ 15009, 1, "JPY", 0, 1500 },
			{ 0, 18, "EUR", 0, 0 },
			{ INT64_MAX / 10, 0, "USD", -1, 0 },
			{ INT64_MIN / 10, 0, "USD", -1, 0 },
			{ INT64_MAX / 100, 0, "USD", 0, INT64_MAX / 100 * 100 },
			{ INT64_MAX, 18, "USD", 0, INT64_MAX / 10000000000000000LL },
		};
		int64_t m;

		for (i = 0; i < sizeof(minor) / sizeof(minor[0]); i++) {
			struct amount x = { minor[i].units, minor[i].scale };

			m = 0;
			CHECK(amount_minor(&x, currency_find(minor[i].cur), &m) ==
			    minor[i].rc && (minor[i].rc || m == minor[i].want),
			    "minor %zu: %lld", i, (long long)m);
		}
	}
}
