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

/*
 * An append fails (-1) when the buffer would pass its maximum or memory runs
 * out; the buffer is then unchanged.  As in curl's dynbuf, the compiler
 * makes every caller look at the result.
 */
#define BUF_WUR	__attribute__((warn_unused_result))

void	buf_init(struct buf *, size_t max);
int	buf_add(struct buf *, const void *, size_t) BUF_WUR;
int	buf_adds(struct buf *, const char *) BUF_WUR;
int	buf_addc(struct buf *, char) BUF_WUR;
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3))) BUF_WUR;
int	buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0))) BUF_WUR;
/*
 * A whole file (standard input for NULL) of at most max bytes, in memory
 * from malloc and NUL-terminated; NULL with errno (EFBIG when larger).
 */
char   *buf_slurp(const char *path, size_t max, size_t *len);
void	buf_reset(struct buf *);
/* cut back to len bytes (len <= the current length) */
void	buf_setlen(struct buf *, size_t len);
void	buf_free(struct buf *);
char   *buf_steal(struct buf *);
const char *buf_str(const struct buf *);

#endif
