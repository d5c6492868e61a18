/*
 * msg.c - messages on stderr: "agcod: ", lower case, no trailing period.
 * The message is formatted first and then shown through one filter, so no
 * caller has to remember to clean what it quotes.
 */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "msg.h"

int msg_verbosity;

/* length of the valid UTF-8 sequence at s (1..4), or 0 */
static size_t
utf8_len(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * One unit of s[i..n) as shown: its bytes copied, or \xNN per byte.  Writes
 * at most 16 bytes to out; returns how many, and the input used in *used.
 */
static size_t
show_unit(const unsigned char *s, size_t n, size_t i, int flags, char *out,
    size_t *used)
{
	static const char hx[] = "0123456789ABCDEF";
	unsigned char c = s[i];
	unsigned long cp = 0;
	size_t len = 1, k, o = 0;
	int esc;

	if (c < 0x80) {
		esc = c < 0x20 || c == 0x7f;
		if ((flags & SHOW_LINES) && (c == '\n' || c == '\t' ||
		    (c == '\r' && i + 1 < n && s[i + 1] == '\n')))
			esc = 0;
	} else if ((len = utf8_len(s + i, n - i, &cp)) != 0)
		/* C1; bidi embeddings, overrides and isolates; U+2028/9 */
		esc = (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 &&
		    cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
	else {
		len = 1;
		esc = c <= 0x9f;	/* 0xa0-0xff: Latin-1 text, harmless */
	}
	for (k = 0; k < len; k++) {
		if (esc) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[s[i + k] >> 4];
			out[o++] = hx[s[i + k] & 15];
		} else
			out[o++] = (char)s[i + k];
	}
	*used = len;
	return o;
}

void
msg_show(FILE *f, const char *s, size_t n, int flags)
{
	const unsigned char *u = (const unsigned char *)s;
	char out[16];
	size_t i, used, o, from = 0;

	/* runs of text as they are in one write; replacements in between */
	for (i = 0; i < n; i += used) {
		o = show_unit(u, n, i, flags, out, &used);
		if (o == used)
			continue;
		fwrite(s + from, 1, i - from, f);
		fwrite(out, 1, o, f);
		from = i + used;
	}
	fwrite(s + from, 1, n - from, f);
}

size_t
msg_shown_len(const char *s, size_t n, int flags)
{
	const unsigned char *u = (const unsigned char *)s;
	char out[16];
	size_t i, used, w = 0;

	for (i = 0; i < n; i += used)
		w += show_unit(u, n, i, flags, out, &used);
	return w;
}

/*
 * The columns a code point takes on a terminal: wcwidth(3) in C.UTF-8,
 * whatever locale agcod runs in (cron's is often C); 1 if that locale is
 * missing or the character is not printable (it is shown as it is).
 */
static size_t
cp_columns(unsigned long cp)
{
	static locale_t utf8;
	static int tried;
	locale_t old;
	int w;

	if (!tried) {
		tried = 1;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (utf8 == (locale_t)0)
		return 1;
	old = uselocale(utf8);
	w = wcwidth((wchar_t)cp);
	uselocale(old);
	return w < 0 ? 1 : (size_t)w;
}

size_t
msg_shown_width(const char *s, size_t n, int flags)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	char out[16];
	size_t i, used, o, w = 0;

	for (i = 0; i < n; i += used) {
		o = show_unit(u, n, i, flags, out, &used);
		if (o == used && used > 1 && utf8_len(u + i, n - i, &cp))
			w += cp_columns(cp);	/* a character, as it is */
		else
			w += o;			/* ASCII, or \xNN */
	}
	return w;
}

void
msg_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *u = (const unsigned char *)src;
	char out[16];
	size_t i, used, o, d = 0;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen; i += used) {
		o = show_unit(u, srclen, i, 0, out, &used);
		if (d + o >= dstlen)
			break;
		memcpy(dst + d, out, o);
		d += o;
	}
	dst[d] = '\0';
}

int
msg_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char *s = NULL;
	int n;

	if ((n = vasprintf(&s, fmt, ap)) < 0)
		return -1;
	msg_show(f, s, (size_t)n, SHOW_LINES);
	free(s);
	return n;
}

int
msg_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = msg_vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

void
msg_put_shown(FILE *f, const char *s, size_t n)
{
	msg_show(f, s, n, SHOW_LINES);
}

static void
vmsg(const char *prefix, const char *fmt, va_list ap)
{
	static const char more[] = "...";
	char line[2048], out[sizeof(line) * 4 + 64];
	const unsigned char *u = (const unsigned char *)line;
	size_t i, n, used, o;
	int r;

	r = vsnprintf(line, sizeof(line), fmt, ap);
	if (r < 0)
		return;
	n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	/* "agcod: " + prefix, then the message shown, in one write */
	o = (size_t)snprintf(out, sizeof(out), "agcod: %s", prefix);
	for (i = 0; i < n; i += used)
		o += show_unit(u, n, i, 0, out + o, &used);
	if ((size_t)r >= sizeof(line)) {
		memcpy(out + o, more, sizeof(more) - 1);
		o += sizeof(more) - 1;
	}
	out[o++] = '\n';
	fwrite(out, 1, o, stderr);
}

void
msg_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void
msg_note(const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void
msg_verbose(const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}
