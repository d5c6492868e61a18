/*
 * reqid.c - request ids.  Generated ids are the partner id, eight base-62
 * digits of milliseconds since the epoch (so they sort by time) and random
 * base-62 digits from arc4random to fill 32 characters (at least 12 digits:
 * 71 bits, unique across processes and hosts).
 */
#include <ctype.h>
#include <string.h>
#include <sys/time.h>

#include <bsd/stdlib.h>

#include "reqid.h"

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define TIME_DIGITS	8
#define MIN_RANDOM	12
#define GEN_LEN		32

int
reqid_generate(const char *partner, uint64_t now_ms, char out[REQID_MAX + 1])
{
	size_t plen = strlen(partner), nrand, i;

	if (plen + TIME_DIGITS + MIN_RANDOM > REQID_MAX)
		return -1;
	nrand = plen + TIME_DIGITS + MIN_RANDOM > GEN_LEN ? MIN_RANDOM :
	    GEN_LEN - plen - TIME_DIGITS;
	memcpy(out, partner, plen);
	for (i = TIME_DIGITS; i > 0; i--) {
		out[plen + i - 1] = b62[now_ms % 62];
		now_ms /= 62;
	}
	for (i = 0; i < nrand; i++)
		out[plen + TIME_DIGITS + i] = b62[arc4random_uniform(62)];
	out[plen + TIME_DIGITS + nrand] = '\0';
	return 0;
}

int
reqid_new(const char *partner, char out[REQID_MAX + 1])
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return reqid_generate(partner, (uint64_t)tv.tv_sec * 1000 +
	    (uint64_t)tv.tv_usec / 1000, out);
}

int
reqid_is_mock(const char *id)
{
	return strlen(id) == 5 && id[0] == 'F' && isdigit((unsigned char)id[1]) &&
	    isdigit((unsigned char)id[2]) && isdigit((unsigned char)id[3]) &&
	    isdigit((unsigned char)id[4]);
}

const char *
reqid_check(const char *id, const char *partner, int production)
{
	size_t i, n = strlen(id);

	if (n == 0)
		return "is empty";
	if (n > REQID_MAX)
		return "is longer than 40 characters";
	/* Amazon's pages say alphanumeric; the live sandbox takes _ and -,
	 * and agcod's own ids keep to the first */
	for (i = 0; i < n; i++)
		if (!isascii((unsigned char)id[i]) ||
		    (!isalnum((unsigned char)id[i]) && id[i] != '_' &&
		    id[i] != '-'))
			return "must be letters, digits, '_' and '-' only";
	if (reqid_is_mock(id))
		return production ? "is a sandbox mock id, refused in production"
		    : NULL;
	if (strncmp(id, partner, strlen(partner)) != 0)
		return "must start with the partner id";
	return NULL;
}
