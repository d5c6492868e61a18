/*
 * timeutil.h - the time formats agcod reads, one parser each, and the
 * monotonic clock.  SigV4's own YYYYMMDDTHHMMSSZ is sigv4.c's.
 */
#ifndef AGCOD_TIMEUTIL_H
#define AGCOD_TIMEUTIL_H

#include <time.h>

/* each: the whole of s in its format (UTC) -> *out, or -1 (s may be NULL) */
int		time_parse_iso(const char *s, time_t *out);	/* 2026-05-01T00:00:00Z */
int		time_parse_day(const char *s, time_t *out);	/* 2026-05-01 */
int		time_parse_http(const char *s, time_t *out);	/* IMF-fixdate */

/* milliseconds of CLOCK_MONOTONIC: for waits and deadlines only */
long long	mono_ms(void);

#endif
