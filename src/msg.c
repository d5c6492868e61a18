/* msg.c - messages on stderr: "agcod: ", lower case, no trailing period */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

int msg_verbosity;

static void
vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "agcod: %s%s\n", prefix, line);
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

void
msg_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i, o = 0;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[o] = '\0';
}

void
msg_put_shown(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t' && !(c == '\r' &&
		    i + 1 < n && s[i + 1] == '\n')) || c == 0x7f)
			fprintf(f, "\\x%02X", c);
		else
			putc(c, f);
	}
}
