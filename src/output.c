/*
 * output.c - stdout carries the result only.  JSON output is the service's
 * own body, minified byte for byte (numbers exactly as sent, unknown members
 * passed through); table output flattens it into "key  value" rows.
 *
 * Every table cell goes through output_cell, which shows text from outside
 * (keys and values come from the service) and never lets it drive the
 * terminal.  The table is streamed in two walks of the parsed body (the
 * first measures the key column, the second prints), so its size is bounded
 * by the body's, not by a buffer that can fill.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "msg.h"
#include "output.h"

void
output_cell(FILE *f, const char *s, size_t len, size_t width)
{
	size_t w = msg_shown_width(s, len, 0);

	msg_show(f, s, len, 0);
	for (; w < width; w++)
		putc(' ', f);
}

void
output_rows(FILE *f, const char *const *kv, size_t n)
{
	size_t i, w = 0, l;

	for (i = 0; i + 1 < n; i += 2)
		if ((l = msg_shown_width(kv[i], strlen(kv[i]), 0)) > w)
			w = l;
	for (i = 0; i + 1 < n; i += 2) {
		output_cell(f, kv[i], strlen(kv[i]), w + 2);
		output_cell(f, kv[i + 1], strlen(kv[i + 1]), 0);
		putc('\n', f);
	}
}

int
output_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = msg_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * JSON text to f, with DEL and the C1 controls written as \u escapes.  JSON
 * lets them stand raw in strings, and a terminal may obey them (8-bit CSI);
 * the escape is the same string to every JSON reader.  Outside strings JSON
 * is ASCII, so the bytes can be replaced wherever they are.
 */
static void
put_json(FILE *f, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		if (u[i] == 0x7f) {
			fwrite(s + from, 1, i - from, f);
			fputs("\\u007f", f);
			from = i + 1;
		} else if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f) {
			fwrite(s + from, 1, i - from, f);
			fprintf(f, "\\u%04x", u[i + 1]);
			from = i + 2;
			i++;
		}
	}
	fwrite(s + from, 1, n - from, f);
}

int
output_json(FILE *f, const json_t *j)
{
	char *s;

	if ((s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		return -1;
	put_json(f, s, strlen(s));
	putc('\n', f);
	free(s);
	return 0;
}

struct table {
	struct buf	 key;	/* the dotted path of the current leaf */
	size_t		 width;	/* of the widest key, after the first walk */
	FILE		*f;	/* NULL in the first walk */
};

static void
row(struct table *t, const char *v, size_t vl)
{
	size_t w;

	if (t->f == NULL) {
		if ((w = msg_shown_width(buf_str(&t->key), t->key.len, 0)) >
		    t->width)
			t->width = w;
		return;
	}
	output_cell(t->f, buf_str(&t->key), t->key.len, t->width + 2);
	output_cell(t->f, v, vl, 0);
	putc('\n', t->f);
}

static int
walk(struct table *t, json_t *v)
{
	size_t mark = t->key.len, i;
	const char *k;
	json_t *m;

	if (json_is_object(v)) {
		json_object_foreach(v, k, m) {
			if (strcmp(k, "__type") == 0)
				continue;
			if ((mark && buf_addc(&t->key, '.') == -1) ||
			    buf_adds(&t->key, k) == -1 || walk(t, m) == -1)
				return -1;
			buf_setlen(&t->key, mark);
		}
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			if (buf_printf(&t->key, "[%zu]", i) == -1 ||
			    walk(t, m) == -1)
				return -1;
			buf_setlen(&t->key, mark);
		}
		return 0;
	}
	if (json_is_string(v))	/* numbers are strings in an exact parse */
		row(t, json_string_value(v), json_string_length(v));
	else if (json_is_true(v))
		row(t, "true", 4);
	else if (json_is_false(v))
		row(t, "false", 5);
	else
		row(t, "-", 1);
	return 0;
}

int
output_body(enum output_fmt fmt, int production, const struct buf *raw,
    json_t *exact)
{
	static const char env[] = "environment";
	struct table t;
	const char *where = production ? "PRODUCTION" : "SANDBOX";

	if (fmt == OUT_JSON) {
		struct buf m = BUF_INIT(raw->len + 1);

		if (json_minify(buf_str(raw), raw->len, &m) == -1) {
			buf_free(&m);
			return -1;
		}
		put_json(stdout, buf_str(&m), m.len);
		putchar('\n');
		buf_free(&m);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	/* keys grow with nesting ("[123]" per level): bounded by the body */
	buf_init(&t.key, raw->len * 4 + 4096);
	t.width = sizeof(env) - 1;
	if (walk(&t, exact) == -1) {
		buf_free(&t.key);
		msg_err("the answer is too large to show as a table; "
		    "use -o json");
		return -1;
	}
	buf_reset(&t.key);
	t.f = stdout;
	output_cell(t.f, env, sizeof(env) - 1, t.width + 2);
	output_cell(t.f, where, strlen(where), 0);
	putc('\n', t.f);
	/* the second walk cannot fail where the first did not */
	if (walk(&t, exact) == -1) {
		buf_free(&t.key);
		return -1;
	}
	buf_free(&t.key);
	return 0;
}
