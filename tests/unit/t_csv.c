/* t_csv.c - the batch CSV reader: records, and its edges: counts, quotes, the end */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/csv.h"
#include "../../src/rows.h"
#include "unit.h"

static int
parse(const char *text, size_t n, struct csv *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return csv_parse(text, n, c, err, errlen);
}

void
test_csv(void)
{
	static const char ok[] = "\xef\xbb\xbf" "amount,external_reference\r\n"
	    "19.99,\"a, b\"\r\n\r\n0.15,\"say \"\"hi\"\"\"\n"
	    "25,\"two\nlines\"\n7,";
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "a\n\"x\n", "line 2: unterminated" },
		{ "a\n\"x\"y\n", "line 2: text after a closing quote" },
		{ "a\nx\"y\n", "line 2: a quote inside" },
		{ "a\0b", "NUL" },
	};
	struct csv c;
	char err[256];
	size_t i;

	CHECK(csv_parse(ok, sizeof(ok) - 1, &c, err, sizeof(err)) == 0,
	    "parses: %s", err);
	CHECK(c.nrows == 5, "rows %zu (blank line skipped)", c.nrows);
	if (c.nrows == 5) {
		CHECK_STR(c.rows[0].fields[0], "amount", "BOM stripped");
		CHECK_STR(c.rows[1].fields[1], "a, b", "quoted comma");
		CHECK_STR(c.rows[2].fields[1], "say \"hi\"", "doubled quote");
		CHECK(c.rows[2].line == 4, "line numbers count blank lines");
		CHECK_STR(c.rows[3].fields[1], "two\nlines", "newline in quotes");
		CHECK(c.rows[4].line == 7, "line after a multi-line field");
		CHECK(c.rows[4].nfields == 2 && c.rows[4].fields[1][0] == '\0',
		    "trailing empty field, no final newline");
	}
	csv_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = i == 3 ? 3 : strlen(bad[i].text);

		CHECK(csv_parse(bad[i].text, n, &c, err, sizeof(err)) == -1 &&
		    strstr(err, bad[i].want), "bad csv %zu: %s", i, err);
	}
}

void
test_csv_edges(void)
{
	static const struct {
		const char	*text;
		const char	*want;	/* error text, or NULL: parses */
		int		 nfields;	/* of the last row */
		const char	*last;	/* its last field */
	} cases[] = {
		/* more fields than the header: kept, for batch to refuse */
		{ "amount\n19,99\n", NULL, 2, "99" },
		{ "amount\n19,99", NULL, 2, "99" },
		/* text after a closing quote, at the very end, no newline */
		{ "amount\n\"19\"99", "line 2: text after a closing", 0, NULL },
		{ "amount\n\"19\" ", "line 2: text after a closing", 0, NULL },
		{ "amount\n\"19\"x\n", "line 2: text after a closing", 0,
		    NULL },
		{ "amount\n\"19\"", NULL, 1, "19" },
		{ "amount\n\"19\"\r", NULL, 1, "19" },
		{ "amount\n\"19\"\r\n", NULL, 1, "19" },
		{ "amount\n19\r", NULL, 1, "19" },
		/* a lone CR is data, not a line end */
		{ "amount\n1\r2\n", NULL, 1, "1\r2" },
		{ "amount\n\"1", "line 2: unterminated", 0, NULL },
		{ "a,b\n,\n", NULL, 2, "" },
	};
	char err[256], big[CSV_FIELD_MAX + 16], many[CSV_MAX_FIELDS * 2 + 8];
	struct csv c;
	size_t i, n;
	char *text;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].text, strlen(cases[i].text), &c, err,
		    sizeof(err));

		if (cases[i].want) {
			CHECK(r == -1 && strstr(err, cases[i].want),
			    "csv case %zu refused: [%s]", i, err);
			continue;
		}
		CHECK(r == 0 && c.nrows == 2, "csv case %zu parses: %s", i,
		    err);
		if (r == 0 && c.nrows == 2) {
			CHECK(c.rows[1].nfields == cases[i].nfields,
			    "csv case %zu: %d fields", i, c.rows[1].nfields);
			CHECK_STR(c.rows[1].fields[c.rows[1].nfields - 1],
			    cases[i].last, "csv case %zu: last field", i);
		}
		if (r == 0)
			csv_free(&c);
	}

	/* a field of CSV_FIELD_MAX bytes is the longest */
	memset(big, 'x', sizeof(big));
	memcpy(big, "a\n", 2);
	CHECK(parse(big, 2 + CSV_FIELD_MAX, &c, err, sizeof(err)) == 0,
	    "longest field: %s", err);
	if (c.nrows)
		csv_free(&c);
	CHECK(parse(big, 2 + CSV_FIELD_MAX + 1, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "longer than"), "field too long: %s", err);

	/* CSV_MAX_FIELDS fields, then one more */
	for (n = 0, i = 0; i < CSV_MAX_FIELDS; i++) {
		many[n++] = 'f';
		many[n++] = ',';
	}
	many[n - 1] = '\n';
	CHECK(parse(many, n, &c, err, sizeof(err)) == 0 &&
	    c.rows[0].nfields == CSV_MAX_FIELDS, "%d fields", CSV_MAX_FIELDS);
	if (c.nrows)
		csv_free(&c);
	many[n - 1] = ',';
	many[n++] = 'g';
	CHECK(parse(many, n, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "more than"), "too many fields: %s", err);

	/* a header and 999,999 rows (batch's maximum), then one row more */
	n = 2 + 2 * 999999;
	if ((text = malloc(n + 2)) != NULL) {
		memcpy(text, "a\n", 2);
		for (i = 2; i < n; i += 2)
			memcpy(text + i, "1\n", 2);
		CHECK(parse(text, n, &c, err, sizeof(err)) == 0 &&
		    c.nrows == 1000000, "999,999 rows: %s", err);
		if (c.nrows)
			csv_free(&c);
		memcpy(text + n, "1\n", 2);
		CHECK(parse(text, n + 2, &c, err, sizeof(err)) == -1 &&
		    strstr(err, "too many rows"), "1,000,000 rows: %s", err);
		free(text);
	}
}

/* the separator: given, or taken from the header line; BOM and CRLF kept */
void
test_csv_sep(void)
{
	static const struct {
		const char	*text;
		char		 sep;	/* csv_sniff's answer */
	} sniff[] = {
		{ "amount;email\n5;a@x\n", ';' },
		{ "amount,email\n5,a@x\n", ',' },
		{ "amount\n5\n", ',' },
		/* a semicolon inside quotes is text */
		{ "\"a;b\",amount\n1,2\n", ',' },
		{ "\"a,b\";amount\n1;2\n", ';' },
		/* both outside quotes: the comma, as RFC 4180 says */
		{ "a;b,amount\n1,2\n", ',' },
		{ "\xef\xbb\xbf" "Name;Amount\r\n", ';' },
		{ "name\tamount\n", '\t' },
	};
	char err[256];
	struct csv c;
	size_t i;

	for (i = 0; i < sizeof(sniff) / sizeof(sniff[0]); i++)
		CHECK(csv_sniff(sniff[i].text, strlen(sniff[i].text)) ==
		    sniff[i].sep, "csv sniff %zu", i);

	CHECK(csv_parse_sep("amount;note\r\n19.99;\"a;b\"\r\n", 26, ';', &c,
	    err, sizeof(err)) == 0, "semicolons: %s", err);
	if (c.nrows == 2) {
		CHECK(c.rows[1].nfields == 2, "semicolons: 2 fields");
		CHECK_STR(c.rows[1].fields[0], "19.99", "semicolons: amount");
		CHECK_STR(c.rows[1].fields[1], "a;b", "semicolons: quoted");
		CHECK(c.crlf == 1 && c.bom == 0, "semicolons: CRLF, no BOM");
	}
	csv_free(&c);
	CHECK(csv_parse("\xef\xbb\xbf" "amount\n1\n", 12, &c, err,
	    sizeof(err)) == 0 && c.bom == 1 && c.crlf == 0,
	    "BOM and LF: %s", err);
	csv_free(&c);
	CHECK(csv_parse("amount\n1,2\n", 11, &c, err, sizeof(err)) == 0 &&
	    c.rows[1].nfields == 2, "commas stay the default");
	csv_free(&c);
}

/* rows.c's CSV cell, the one writer of CSV: formulas defused, quoting */
void
test_csv_cell(void)
{
	static const struct {
		const char	*in;
		char		 sep;
		const char	*want;
	} cases[] = {
		{ "=1+2", ',', "\"'=1+2\"" },
		{ "+1", ',', "\"'+1\"" },
		{ "-1", ',', "\"'-1\"" },
		{ "@SUM(A1)", ',', "\"'@SUM(A1)\"" },
		{ "\tx", ',', "\"'\\x09x\"" },
		{ "a,b", ',', "\"a,b\"" },
		{ "a;b", ',', "a;b" },
		{ "a;b", ';', "\"a;b\"" },
		{ "a,b", ';', "a,b" },
		{ "say \"hi\"", ';', "\"say \"\"hi\"\"\"" },
		{ "Garc\xc3\xad" "a", ';', "Garc\xc3\xad" "a" },
		{ "", ',', "" },
	};
	char out[128];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0, sizeof(out));
		if ((f = fmemopen(out, sizeof(out) - 1, "w")) == NULL)
			continue;
		rows_csv_cell_sep(f, cases[i].in, cases[i].sep);
		fclose(f);
		CHECK_STR(out, cases[i].want, "csv cell %zu", i);
	}
}
