/* json.c - exact JSON in and out */
#include <string.h>

#include "json.h"

#define JSON_MAX	(8 * 1024 * 1024)

/*
 * Walk JSON text; outside strings drop white space and, for the exact
 * parse, quote number tokens.  The text is checked by Jansson afterwards, so this only
 * has to be right for valid input and must not crash on invalid input.
 */
static int
rewrite(const char *s, size_t n, struct buf *out, int quote_numbers)
{
	size_t i = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			size_t j = i + 1;

			while (j < n && s[j] != '"')
				j += s[j] == '\\' ? 2 : 1;
			if (j >= n)
				return -1;
			if (buf_add(out, s + i, j + 1 - i) == -1)
				return -1;
			i = j + 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;	/* insignificant outside strings */
		} else if (quote_numbers && (c == '-' || (c >= '0' && c <= '9'))) {
			size_t j = i;

			while (j < n && strchr("+-.eE0123456789", s[j]) != NULL)
				j++;
			if (buf_addc(out, '"') == -1 ||
			    buf_add(out, s + i, j - i) == -1 ||
			    buf_addc(out, '"') == -1)
				return -1;
			i = j;
		} else {
			if (buf_addc(out, c) == -1)
				return -1;
			i++;
		}
	}
	return 0;
}

json_t *
json_parse_exact(const char *s, size_t n, char *err, size_t errlen)
{
	struct buf q = BUF_INIT(JSON_MAX);
	json_error_t e;
	json_t *j;

	/* Jansson judges the original text; the rewrite only keeps numbers */
	if ((j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		snprintf(err, errlen, "%s at offset %d", e.text, e.position);
		return NULL;
	}
	json_decref(j);
	j = NULL;
	if (rewrite(s, n, &q, 1) == 0)
		j = json_loadb(q.data, q.len, 0, &e);
	if (j == NULL)
		snprintf(err, errlen, "cannot read numbers");
	buf_free(&q);
	return j;
}

int
json_minify(const char *s, size_t n, struct buf *out)
{
	return rewrite(s, n, out, 0);
}

const char *
json_str(json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *
json_str_or(json_t *o, const char *key, const char *dflt)
{
	const char *v = json_str(o, key);

	return v ? v : dflt;
}

json_t *
json_path(json_t *o, const char *path)
{
	char key[128];
	const char *dot;

	while (o && (dot = strchr(path, '.')) != NULL) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_is_object(o) ? json_object_get(o, key) : NULL;
		path = dot + 1;
	}
	return json_is_object(o) ? json_object_get(o, path) : NULL;
}

/* the length of the valid UTF-8 sequence at p (at most left bytes); 0: none */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	static const unsigned least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned cp;
	size_t n, i;

	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0) {
		n = 2;
		cp = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 3;
		cp = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 4;
		cp = *p & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if (cp < least[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

int
utf8_valid(const char *s)
{
	size_t left = strlen(s), n;
	const unsigned char *p = (const unsigned char *)s;

	for (; left; p += n, left -= n)
		if ((n = utf8_seq(p, left)) == 0)
			return 0;
	return 1;
}

json_t *
json_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf b = BUF_INIT(len * 4 + 1);
	size_t i, n;
	json_t *j;

	for (i = 0; i < len; i += n)
		if ((n = utf8_seq(p + i, len - i)) == 0)
			break;
	if (i == len)
		return json_stringn(s, len);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			n = 1;
			if (buf_printf(&b, "\\x%02X", p[i]) == -1)
				break;
		} else if (buf_add(&b, s + i, n) == -1)
			break;
	}
	j = i >= len ? json_stringn(buf_str(&b), b.len) : NULL;
	buf_free(&b);
	return j;
}

int
json_escape(struct buf *b, const char *s)
{
	if (buf_addc(b, '"') == -1)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int r;

		if (c == '"' || c == '\\')
			r = buf_printf(b, "\\%c", c);
		else if (c == '\n')
			r = buf_adds(b, "\\n");
		else if (c == '\t')
			r = buf_adds(b, "\\t");
		else if (c == '\r')
			r = buf_adds(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			r = buf_printf(b, "\\u%04x", c);
		else
			r = buf_addc(b, (char)c);
		if (r == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

void
jw_begin(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static int
jw_key(struct jw *w, const char *key)
{
	if (w->depth > 0 && w->count[w->depth - 1]++ > 0 &&
	    buf_adds(w->b, ", ") == -1)
		return -1;
	if (key && (json_escape(w->b, key) == -1 || buf_adds(w->b, ": ") == -1))
		return -1;
	return 0;
}

int
jw_open(struct jw *w, const char *key)
{
	if (w->depth == (int)(sizeof(w->count) / sizeof(w->count[0])) ||
	    jw_key(w, key) == -1 || buf_addc(w->b, '{') == -1)
		return -1;
	w->count[w->depth++] = 0;
	return 0;
}

int
jw_close(struct jw *w)
{
	if (w->depth == 0)
		return -1;
	w->depth--;
	return buf_addc(w->b, '}');
}

int
jw_str(struct jw *w, const char *key, const char *val)
{
	return jw_key(w, key) == -1 ? -1 : json_escape(w->b, val);
}

int
jw_num(struct jw *w, const char *key, const char *text)
{
	return jw_key(w, key) == -1 ? -1 : buf_adds(w->b, text);
}
