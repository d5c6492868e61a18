/*
 * forecast.c - the funds forecast Amazon's portal shows: the average daily
 * spend of the last 14 days, from the journal, and the days the available
 * funds last at that rate.  Exact: integer minor units throughout.
 */
#include <string.h>

#include "forecast.h"
#include "json.h"

struct sum {
	const struct currency	*cur;
	int64_t			 spent;
	int			 overflow;
};

static int
add(json_t *row, void *arg)
{
	struct sum *s = arg;
	const char *st = json_str(row, "state");
	const char *c = json_str(row, "currency");
	const char *v = json_str(row, "amount");
	struct amount a;
	int64_t m;

	/* money still out: an issued card, a load not voided */
	if (!st || (strcmp(st, "issued") != 0 && strcmp(st, "loaded") != 0) ||
	    !c || strcmp(c, s->cur->code) != 0 || !v ||
	    amount_parse_number(v, &a) == -1)
		return 0;
	if (amount_minor(&a, s->cur, &m) == -1 || m < 0 ||
	    s->spent > INT64_MAX - m)
		s->overflow = 1;
	else
		s->spent += m;
	return 0;
}

int
forecast_funds(struct journal *j, const char *partner,
    const char *environment, const struct currency *cur, const struct amount *have, time_t now,
    struct forecast *f)
{
	struct journal_query q;
	struct sum s = { cur, 0, 0 };
	char since[32];
	int64_t funds;

	memset(f, 0, sizeof(*f));
	f->cur = cur;
	f->days_left = -1;
	journal_time(now - (time_t)FORECAST_DAYS * 86400, since);
	memset(&q, 0, sizeof(q));
	q.view = VIEW_OBJECTS;
	q.since = since;
	/* the other environment's spend draws on other funds */
	q.partner = partner;
	q.environment = environment;
	if (journal_query(j, &q, add, &s) < 0)
		return -1;
	if (s.overflow)
		return 0;	/* no forecast rather than a wrong one */
	f->spent = s.spent;
	f->per_day = s.spent / FORECAST_DAYS;
	if (amount_minor(have, cur, &funds) == -1)
		return 0;
	if (f->per_day > 0)
		f->days_left = funds <= 0 ? 0 : (long)(funds / f->per_day);
	return 0;
}
