/* forecast.h - how long the prepaid funds last at the recent rate of spend */
#ifndef AGCOD_FORECAST_H
#define AGCOD_FORECAST_H

#include <stdint.h>

#include "amount.h"
#include "journal.h"

#define FORECAST_DAYS	14	/* the window Amazon's portal averages over */

struct forecast {
	const struct currency	*cur;
	int64_t			 spent;		/* minor units, in the window */
	int64_t			 per_day;	/* minor units, rounded down */
	long			 days_left;	/* -1: no spend, no end */
};

/*
 * The spend of the last FORECAST_DAYS days before now from the journal:
 * cards still issued plus balance loads still loaded (a cancelled card or
 * a voided load gave its money back), of this partner and environment
 * (sandbox or production: each has funds of its own), in this currency;
 * and how many whole days funds `have` lasts at that rate.  0, or -1 with
 * j->err on a journal error.
 */
int	forecast_funds(struct journal *, const char *partner,
	    const char *environment, const struct currency *,
	    const struct amount *have, time_t now, struct forecast *);

#endif
