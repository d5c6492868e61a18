/* buf.c - growable byte buffer with a declared maximum */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t ncap;
	char *n;

	if (need > b->max || need + 1 < need)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->secret) {
		/* never leave a copy of secret bytes behind in freed memory */
		if ((n = malloc(ncap)) == NULL)
			return -1;
		if (b->data) {
			memcpy(n, b->data, b->len + 1);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
	} else if ((n = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = n;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, b->len + n) == -1)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || buf_grow(b, b->len + (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *
buf_slurp(const char *path, size_t max, size_t *len)
{
	struct buf b = BUF_INIT(max);
	char chunk[16384];
	ssize_t n;
	int fd, saved;

	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd == -1)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(&b, chunk, (size_t)n) == -1) {
			saved = n == -1 ? errno : EFBIG;
			if (path)
				close(fd);
			buf_free(&b);
			errno = saved;
			return NULL;
		}
	}
	if (path)
		close(fd);
	*len = b.len;
	return buf_steal(&b);
}

void
buf_reset(struct buf *b)
{
	if (b->data) {
		if (b->secret)
			explicit_bzero(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

void
buf_setlen(struct buf *b, size_t len)
{
	if (b->data == NULL || len > b->len)
		return;
	if (b->secret)
		explicit_bzero(b->data + len, b->len - len);
	b->len = len;
	b->data[len] = '\0';
}

void
buf_free(struct buf *b)
{
	if (b->data && b->secret)
		explicit_bzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}
