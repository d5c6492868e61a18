/* triage.h - naming the likely cause of a refused request */
#ifndef AGCOD_TRIAGE_H
#define AGCOD_TRIAGE_H

#include <stddef.h>
#include <time.h>

struct triage_in {
	long		 http_status;
	const char	*message;	/* the service's, may be NULL */
	const char	*type;		/* __type or x-amzn-ErrorType */
	int		 have_skew;
	long		 skew;		/* service clock - local clock, s */
	const char	*host;		/* as signed */
	const char	*region;	/* signing region used */
	const char	*access_key_id;
	int		 production;
};

#define CLOCK_WARN_S	300	/* warn: requests fail past 900 */
#define CLOCK_FAIL_S	900

/* the likely cause of a 403, a signature error or a gateway refusal, or 0
 * when none fits */
int	triage_verdict(const struct triage_in *, char *out, size_t n);

#endif
