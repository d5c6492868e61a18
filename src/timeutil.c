/*
 * timeutil.c - the time formats agcod reads, one parser each: the
 * journal's ISO 8601 UTC time, a calendar day (key_created, --since) and
 * HTTP's Date header; and the monotonic clock waits are measured on.
 */
#include <string.h>
#include <time.h>

#include "timeutil.h"

static int
parse(const char *s, const char *fmt, time_t *out)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (e = strptime(s, fmt, &tm)) == NULL || *e != '\0')
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
time_parse_iso(const char *s, time_t *out)
{
	return parse(s, "%Y-%m-%dT%H:%M:%SZ", out);
}

int
time_parse_day(const char *s, time_t *out)
{
	return parse(s, "%Y-%m-%d", out);
}

int
time_parse_http(const char *s, time_t *out)
{
	return parse(s, "%a, %d %b %Y %H:%M:%S GMT", out);
}

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
