/* buf.h - growable byte buffer with a declared maximum (curl's dynbuf idea) */
#ifndef AGCOD_BUF_H
#define AGCOD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char   *data;	/* always NUL-terminated when non-NULL */
	size_t  len;
	size_t  cap;
	size_t  max;	/* appending beyond this fails */
	int     secret;	/* wipe on growth and on free */
};

#define BUF_INIT(maxlen) { NULL, 0, 0, (maxlen), 0 }

void	buf_init(struct buf *, size_t max);
int	buf_add(struct buf *, const void *, size_t);
int	buf_adds(struct buf *, const char *);
int	buf_addc(struct buf *, char);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/*
 * A whole file (standard input for NULL) of at most max bytes, in memory
 * from malloc and NUL-terminated; NULL with errno (EFBIG when larger).
 */
char   *buf_slurp(const char *path, size_t max, size_t *len);
void	buf_reset(struct buf *);
void	buf_free(struct buf *);
char   *buf_steal(struct buf *);
const char *buf_str(const struct buf *);

#endif
