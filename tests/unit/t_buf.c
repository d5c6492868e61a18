/* t_buf.c - buf_slurp: whole files, size caps, missing files */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/buf.h"
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
}
