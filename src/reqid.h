/* reqid.h - request ids: generated, derived and checked */
#ifndef AGCOD_REQID_H
#define AGCOD_REQID_H

#include <stddef.h>
#include <stdint.h>

#define REQID_MAX	40

/* partner id + time-ordered random suffix; -1 if the partner id is too long */
int	reqid_generate(const char *partner, uint64_t now_ms, char out[REQID_MAX + 1]);
/* reqid_generate at the wall clock's time now */
int	reqid_new(const char *partner, char out[REQID_MAX + 1]);
/* NULL when valid, else why not */
const char *reqid_check(const char *id, const char *partner, int production);
int	reqid_is_mock(const char *id);

#endif
