/* t_json.c - numbers stay text; minify keeps bytes; redaction */
#include <string.h>

#include "../../src/json.h"
#include "../../src/report.h"
#include "unit.h"

static void
test_text(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;	/* the string's UTF-8 */
	} t[] = {
		{ "plain", 5, "plain" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },		/* UTF-8 stays */
		{ "caf\xe9", 4, "caf\\xE9" },			/* Latin-1 shown */
		{ "\xc0\xaf", 2, "\\xC0\\xAF" },		/* overlong '/' */
		{ "\xed\xa0\x80", 3, "\\xED\\xA0\\x80" },	/* surrogate */
		{ "\xf0\x9f\x98", 3, "\\xF0\\x9F\\x98" },	/* cut short */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },	/* U+1F600 */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *j = json_text(t[i].in, t[i].len);

		CHECK(j && strcmp(json_string_value(j), t[i].want) == 0,
		    "json_text case %zu", i);
		json_decref(j);
	}
	CHECK(!utf8_valid("\xc0\xaf") && !utf8_valid("\xe0\x80\xaf") &&
	    utf8_valid("\xe2\x82\xac"), "utf8_valid refuses overlong forms");
}

void
test_json(void)
{
	test_text();
	static const char body[] = "{ \"availableFunds\" : {\"amount\": 19.99, "
	    "\"currencyCode\":\"USD\"},\n \"status\":\"SUCCESS\", \"n\": -1.50e2,"
	    " \"s\": \"a \\\" 1.5 \", \"arr\": [1, 2.0], \"new\": null}";
	struct buf b = BUF_INIT(4096);
	char err[128];
	json_t *j;

	j = json_parse_exact(body, strlen(body), err, sizeof(err));
	CHECK(j != NULL, "parses: %s", err);
	if (j) {
		CHECK_STR(json_string_value(json_path(j,
		    "availableFunds.amount")), "19.99", "number kept as text");
		CHECK_STR(json_string_value(json_object_get(j, "n")), "-1.50e2",
		    "exponent kept");
		CHECK_STR(json_str(j, "s"), "a \" 1.5 ", "string untouched");
		CHECK_STR(json_str(j, "status"), "SUCCESS", "status");
		CHECK(json_path(j, "availableFunds.missing") == NULL, "missing");
		/* one helper for a string member, one convention: NULL, or
		 * the default the caller names */
		CHECK(json_str(j, "missing") == NULL && json_str(j, "arr") ==
		    NULL && json_str(NULL, "s") == NULL, "json_str: NULL");
		CHECK_STR(json_str_or(j, "status", "?"), "SUCCESS", "present");
		CHECK_STR(json_str_or(j, "missing", "?"), "?", "absent: default");
		CHECK_STR(json_str_or(j, "arr", ""), "", "not a string: default");
		CHECK(json_str_or(j, "missing", NULL) == NULL, "default NULL");
		json_decref(j);
	}
	CHECK(json_minify(body, strlen(body), &b) == 0, "minify");
	CHECK_STR(b.data, "{\"availableFunds\":{\"amount\":19.99,"
	    "\"currencyCode\":\"USD\"},\"status\":\"SUCCESS\",\"n\":-1.50e2,"
	    "\"s\":\"a \\\" 1.5 \",\"arr\":[1,2.0],\"new\":null}",
	    "minified bytes");
	buf_free(&b);

	CHECK(json_parse_exact("{\"a\":", 5, err, sizeof(err)) == NULL,
	    "truncated JSON refused");
	CHECK(json_parse_exact("<html>", 6, err, sizeof(err)) == NULL,
	    "HTML refused");
	CHECK(json_parse_exact("{\"a\":1,\"a\":2}", 13, err, sizeof(err)) ==
	    NULL, "duplicate keys refused");

	/* claim codes never reach a report */
	{
		static const char r[] = "{\"gcClaimCode\": \"ABCD-EFGHIJ-KLMN\","
		    "\"gcId\":\"X1\",\"inner\":{\"gcClaimCode\":\"Q\\\"RS\"},"
		    "\"gcClaimCodeNot\":\"keep\",\"x\":\"gcClaimCode\"}";
		static const char x[] = "<r><gcClaimCode>W3GU-YD4NGH-88C8"
		    "</gcClaimCode><gcId>A</gcId></r>";

		buf_init(&b, 4096);
		CHECK(report_redact(r, strlen(r), &b) == 0, "redact json");
		CHECK(strstr(b.data, "ABCD") == NULL &&
		    strstr(b.data, "RS") == NULL, "claim codes gone: %s",
		    b.data);
		CHECK(strstr(b.data, "X1") && strstr(b.data, "keep") &&
		    strstr(b.data, "\"x\":\"gcClaimCode\""), "rest kept: %s",
		    b.data);
		buf_free(&b);
		/* the key as JSON means it, not as its bytes are spelled */
		{
			static const char e[] = "{\"gcClaim\\u0043ode\": "
			    "\"SECRET-ONE\",\"x\":{\"gc\\u0043laimCode\":"
			    "{\"v\":\"SECRET-TWO\"}},\"gcClaimCode\":12345,"
			    "\"ok\":\"kept\"}";

			buf_init(&b, 4096);
			CHECK(report_redact(e, strlen(e), &b) == 0 &&
			    strstr(b.data, "SECRET") == NULL &&
			    strstr(b.data, "12345") == NULL &&
			    strstr(b.data, "\"ok\":\"kept\"") != NULL,
			    "escaped keys, any value type: %s", b.data);
			buf_free(&b);
		}
		buf_init(&b, 4096);
		CHECK(report_redact(x, strlen(x), &b) == 0 &&
		    strstr(b.data, "W3GU") == NULL &&
		    strstr(b.data, "<gcId>A</gcId>"), "redact xml: %s", b.data);
		buf_free(&b);
	}

	/* the body writer escapes */
	{
		struct jw w;

		buf_init(&b, 4096);
		jw_begin(&w, &b);
		jw_open(&w, NULL);
		jw_str(&w, "k", "a\"b\\c\n\x01");
		jw_num(&w, "n", "1.00");
		jw_open(&w, "o");
		jw_str(&w, "x", "\xc3\xa9");
		jw_close(&w);
		jw_close(&w);
		CHECK_STR(b.data, "{\"k\": \"a\\\"b\\\\c\\n\\u0001\", \"n\": 1.00, "
		    "\"o\": {\"x\": \"\xc3\xa9\"}}", "writer");
		buf_free(&b);
	}
	CHECK(utf8_valid("abc\xc3\xa9") && !utf8_valid("\xc3") &&
	    !utf8_valid("\xed\xa0\x80") && !utf8_valid("\xc0\xaf"), "utf8");
}
