/*
 * output.c - stdout carries the result only.  JSON output is the service's
 * own body, minified byte for byte (numbers exactly as sent, unknown members
 * passed through); table output flattens it into "key  value" rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "msg.h"
#include "output.h"

void
output_rows(FILE *f, const char *const *kv, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i += 2)
		if (strlen(kv[i]) > w)
			w = strlen(kv[i]);
	/* keys and values come from the service: shown, never obeyed */
	for (i = 0; i + 1 < n; i += 2) {
		msg_put_shown(f, kv[i], strlen(kv[i]));
		fprintf(f, "%*s", (int)(w - strlen(kv[i]) + 2), "");
		msg_put_shown(f, kv[i + 1], strlen(kv[i + 1]));
		putc('\n', f);
	}
}

struct rows {
	struct buf	 text;	/* key\0value\0 pairs */
	size_t		 n;
};

static void
flatten(struct rows *r, const char *prefix, json_t *v)
{
	const char *k;
	json_t *m;
	char key[256];
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, m) {
			if (strcmp(k, "__type") == 0)
				continue;
			snprintf(key, sizeof(key), "%s%s%s", prefix,
			    *prefix ? "." : "", k);
			flatten(r, key, m);
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			flatten(r, key, m);
		}
		return;
	}
	buf_add(&r->text, prefix, strlen(prefix) + 1);
	if (json_is_string(v))	/* numbers are strings in an exact parse */
		buf_add(&r->text, json_string_value(v),
		    json_string_length(v) + 1);
	else if (json_is_true(v))
		buf_add(&r->text, "true", 5);
	else if (json_is_false(v))
		buf_add(&r->text, "false", 6);
	else
		buf_add(&r->text, "-", 2);
	r->n++;
}

int
output_body(const struct cmd_ctx *c, const struct buf *raw, json_t *exact)
{
	struct rows r;
	const char **kv;
	const char *p;
	size_t i;

	if (c->out == OUT_JSON) {
		struct buf m = BUF_INIT(raw->len + 1);

		if (json_minify(buf_str(raw), raw->len, &m) == -1) {
			buf_free(&m);
			return -1;
		}
		printf("%s\n", buf_str(&m));
		buf_free(&m);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	buf_init(&r.text, raw->len * 4 + 4096);
	buf_add(&r.text, "environment", 12);
	buf_adds(&r.text, c->prof.production ? "PRODUCTION" : "SANDBOX");
	buf_addc(&r.text, '\0');
	r.n = 1;
	flatten(&r, "", exact);
	if ((kv = calloc(r.n * 2, sizeof(*kv))) == NULL) {
		buf_free(&r.text);
		return -1;
	}
	for (p = buf_str(&r.text), i = 0; i < r.n * 2; i++) {
		kv[i] = p;
		p += strlen(p) + 1;
	}
	output_rows(stdout, kv, r.n * 2);
	free(kv);
	buf_free(&r.text);
	return 0;
}
