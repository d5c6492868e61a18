/*
 * t_buf.c - buf_slurp: whole files, size caps, missing files; appends at
 * the cap; how msg.c shows text from outside
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/buf.h"
#include "../../src/msg.h"
#include "unit.h"

static void
write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(text, 1, n, f);
		fclose(f);
	}
}

void
test_buf(void)
{
	char path[] = "/tmp/agcod-unit-XXXXXX", *p;
	size_t len = 99;
	int fd;

	if ((fd = mkstemp(path)) == -1) {
		CHECK(0, "mkstemp");
		return;
	}
	close(fd);

	p = buf_slurp(path, 16, &len);
	CHECK(p && len == 0 && p[0] == '\0', "an empty file is an empty string");
	free(p);

	write_file(path, "a\0b\n", 4);
	p = buf_slurp(path, 16, &len);
	CHECK(p && len == 4 && memcmp(p, "a\0b\n", 5) == 0,
	    "bytes as they are, NUL included, NUL-terminated");
	free(p);

	write_file(path, "0123456789abcdef", 16);
	p = buf_slurp(path, 16, &len);
	CHECK(p && len == 16, "a file of exactly max bytes");
	free(p);
	write_file(path, "0123456789abcdefg", 17);
	errno = 0;
	CHECK(buf_slurp(path, 16, &len) == NULL && errno == EFBIG,
	    "a file over max: EFBIG");

	unlink(path);
	errno = 0;
	CHECK(buf_slurp(path, 16, &len) == NULL && errno == ENOENT,
	    "a missing file: ENOENT");

	/* an append that would pass the cap fails and changes nothing */
	{
		struct buf b = BUF_INIT(8);

		CHECK(buf_adds(&b, "abcdef") == 0 && buf_adds(&b, "ghi") ==
		    -1 && b.len == 6 && strcmp(buf_str(&b), "abcdef") == 0,
		    "append past the cap: -1, buffer unchanged");
		CHECK(buf_printf(&b, "%s", "xyz") == -1 && b.len == 6,
		    "printf past the cap");
		CHECK(buf_addc(&b, 'g') == 0 && buf_addc(&b, 'h') == 0 &&
		    buf_addc(&b, 'i') == -1 && b.len == 8, "exactly the cap");
		buf_setlen(&b, 2);
		CHECK(b.len == 2 && strcmp(buf_str(&b), "ab") == 0, "setlen");
		buf_free(&b);
	}
}

void
test_msg(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "a\x1b[2Jb", "a\\x1B[2Jb" },
		{ "\x1b]0;t\x07", "\\x1B]0;t\\x07" },
		{ "cr\rlf\ntab\t", "cr\\x0Dlf\\x0Atab\\x09" },
		{ "del\x7f", "del\\x7F" },
		/* C1 controls as UTF-8: U+009B (8-bit CSI), U+0085, U+0080 */
		{ "\xc2\x9b" "31m", "\\xC2\\x9B" "31m" },
		{ "\xc2\x85\xc2\x80", "\\xC2\\x85\\xC2\\x80" },
		/* raw 0x80-0x9F outside UTF-8: 8-bit terminals obey them */
		{ "\x9b" "2J", "\\x9B" "2J" },
		{ "\x80", "\\x80" },
		/* text stays: U+00A0 up, and continuation bytes 0x80-0x9F */
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
		{ "\xe2\x82\xac 5", "\xe2\x82\xac 5" },
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
		/* Latin-1 bytes 0xA0-0xFF are printable there: kept */
		{ "caf\xe9", "caf\xe9" },
		/* a cut sequence: its lead byte is shown as it is */
		{ "\xe2\x82", "\xe2\\x82" },
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msg_sanitize(out, sizeof(out), cases[i].in, strlen(cases[i].in));
		CHECK(strcmp(out, cases[i].want) == 0, "case %zu: got '%s'", i,
		    out);
		CHECK(msg_shown_len(cases[i].in, strlen(cases[i].in), 0) ==
		    strlen(cases[i].want), "case %zu: shown length", i);
	}
	msg_sanitize(out, 6, "ab\x1b" "cd", 5);
	CHECK(strcmp(out, "ab") == 0, "whole replacements only: '%s'", out);
}
