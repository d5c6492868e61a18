/*
 * amount.c - money as integers.  "19.99" is 1999 units at scale 2 and is
 * printed back as "19.99": what the operator typed is what goes on the wire,
 * never a binary float's 19.989999999999998.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "amount.h"

/*
 * The currencies each region group serves (Incenteev's endpoint manifest
 * and mayflower's model agree).  EGP and ZAR are inferred: Amazon's overview lists Egypt and South
 * Africa among the EU endpoint's countries, and ISO 4217 gives their codes,
 * both with two decimals; no AGCOD source names the codes.
 */
static const struct currency currencies[] = {
	{ "AED", 2,   50000, "eu" }, { "AUD", 2,   15000, "fe" },
	{ "CAD", 2,   15000, "na" }, { "EGP", 2,  500000, "eu" },
	{ "EUR", 2,   10000, "eu" }, { "GBP", 2,   10000, "eu" },
	{ "JPY", 0, 1500000, "fe" }, { "MXN", 2,  200000, "na" },
	{ "PLN", 2,   50000, "eu" }, { "SAR", 2,   50000, "eu" },
	{ "SEK", 2,  100000, "eu" }, { "SGD", 2,   15000, "fe" },
	{ "TRY", 2,  500000, "eu" }, { "USD", 2,   10000, "na" },
	{ "ZAR", 2,  200000, "eu" },
};

#define NCURRENCIES (sizeof(currencies) / sizeof(currencies[0]))
#define MAX_DIGITS 15	/* keeps every product below 2^63 */

const struct currency *
currency_find(const char *code)
{
	size_t i;

	/* ASCII, whatever the locale: 'usd' is USD */
	for (i = 0; i < NCURRENCIES; i++) {
		const char *c = currencies[i].code, *s = code;

		while (*c && (*s == *c || (*s >= 'a' && *s <= 'z' &&
		    *s - 'a' + 'A' == *c)))
			c++, s++;
		if (*c == '\0' && *s == '\0')
			return &currencies[i];
	}
	return NULL;
}

const char *
currency_list(void)
{
	static char list[NCURRENCIES * 4 + 1];
	size_t i;

	if (list[0] == '\0')
		for (i = 0; i < NCURRENCIES; i++) {
			memcpy(list + 4 * i, currencies[i].code, 3);
			list[4 * i + 3] = i + 1 < NCURRENCIES ? ' ' : '\0';
		}
	return list;
}

/* "CAD MXN USD": the codes one region group serves */
const char *
currency_region_list(const char *region)
{
	static char list[NCURRENCIES * 4 + 1];
	size_t i, n = 0;

	for (i = 0; i < NCURRENCIES; i++)
		if (strcmp(currencies[i].region, region) == 0) {
			if (n > 0)
				list[n++] = ' ';
			memcpy(list + n, currencies[i].code, 3);
			n += 3;
		}
	list[n] = '\0';
	return list;
}

static int64_t
pow10i(int n)
{
	int64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* [-]digits[.digits]; 0 on success */
static int
parse_decimal(const char *s, int allow_sign, int max_scale, struct amount *a,
    const char **why)
{
	const char *p = s;
	int neg = 0, digits = 0, scale = -1;
	int64_t u = 0;

	if (allow_sign && *p == '-') {
		neg = 1;
		p++;
	}
	if (!isdigit((unsigned char)*p)) {
		*why = *p == '-' ? "must be positive" :
		    "must be a decimal number such as 25 or 19.99";
		return -1;
	}
	for (; *p; p++) {
		if (*p == '.' && scale == -1) {
			scale = 0;
			if (!isdigit((unsigned char)p[1])) {
				*why = "must be a decimal number such as 25 "
				    "or 19.99";
				return -1;
			}
			continue;
		}
		if (!isdigit((unsigned char)*p)) {
			*why = "must be a decimal number such as 25 or 19.99";
			return -1;
		}
		if (u == 0 && *p == '0' && scale == -1)
			continue;	/* leading zeros: JSON has none */
		if (++digits > MAX_DIGITS) {
			*why = "is too large";
			return -1;
		}
		u = u * 10 + (*p - '0');
		if (scale >= 0)
			scale++;
	}
	if (scale > max_scale) {
		*why = max_scale == 0 ? "takes no decimals in this currency" :
		    "has more decimals than the currency allows";
		return -1;
	}
	a->units = neg ? -u : u;
	a->scale = scale < 0 ? 0 : scale;
	return 0;
}

int
amount_parse(const char *s, const struct currency *c, struct amount *a,
    const char **why)
{
	if (parse_decimal(s, 0, c->exponent, a, why) == -1)
		return -1;
	if (a->units == 0) {
		*why = "must be larger than 0";
		return -1;
	}
	if (a->units > c->max_major * pow10i(a->scale)) {
		*why = "is above the sanity ceiling for the currency";
		return -1;
	}
	return 0;
}

/*
 * A number as the service prints it.  The service is Java: its doubles read
 * 0.0, 1000.0, 19.99 and, from 10^7 up (or below 10^-3), 1.0E7 or 1.5E-2.
 * Read it exactly as a decimal: the significant digits become the units and
 * the exponent only moves the decimal point.  value = U * 10^pow with U free
 * of trailing zeros; it must fit NUM_DIGITS digits at a scale of at most
 * AMOUNT_SCALE_MAX, or it is refused (never rounded).
 */
#define NUM_DIGITS 18	/* below 2^63 */

int
amount_parse_number(const char *s, struct amount *a)
{
	const char *p = s;
	int neg = 0, nd = 0, eneg = 0, in_frac;
	long zeros = 0, frac = 0, ex = 0, pw;
	int64_t u = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (in_frac = 0; in_frac < 2; in_frac++) {
		if (in_frac) {
			if (*p != '.')
				break;
			if (!isdigit((unsigned char)*++p))
				return -1;
		}
		for (; isdigit((unsigned char)*p); p++) {
			if (in_frac && frac < 1000000)
				frac++;
			if (*p == '0') {
				if (nd > 0 && zeros < 1000000)
					zeros++;	/* significant only if more follow */
				continue;
			}
			if (nd + zeros + 1 > NUM_DIGITS)
				return -1;
			for (; zeros > 0; zeros--, nd++)
				u *= 10;
			u = u * 10 + (*p - '0');
			nd++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++)
			if (ex < 1000000)
				ex = ex * 10 + (*p - '0');
	}
	if (*p != '\0')
		return -1;
	pw = zeros - frac + (eneg ? -ex : ex);
	if (u == 0) {
		a->units = 0;
		a->scale = 0;
		return 0;
	}
	if (pw >= 0) {
		if (nd + pw > NUM_DIGITS)
			return -1;
		for (; pw > 0; pw--)
			u *= 10;
		a->scale = 0;
	} else {
		if (-pw > AMOUNT_SCALE_MAX)
			return -1;
		a->scale = (int)-pw;
	}
	a->units = neg ? -u : u;
	return 0;
}

void
amount_format(const struct amount *a, char *out, size_t n)
{
	int64_t u = a->units < 0 ? -a->units : a->units, p = pow10i(a->scale);

	if (a->scale == 0)
		snprintf(out, n, "%s%lld", a->units < 0 ? "-" : "",
		    (long long)u);
	else
		snprintf(out, n, "%s%lld.%0*lld", a->units < 0 ? "-" : "",
		    (long long)(u / p), a->scale, (long long)(u % p));
}

int
amount_cmp(const struct amount *x, const struct amount *y)
{
	int s = x->scale > y->scale ? x->scale : y->scale;
	/* 18 digits at scale 18 could overflow: compare whole parts first */
	int64_t xi = x->units / pow10i(x->scale), yi = y->units / pow10i(y->scale);
	int64_t xf, yf;

	if (xi != yi)
		return xi < yi ? -1 : 1;
	xf = (x->units % pow10i(x->scale)) * pow10i(s - x->scale);
	yf = (y->units % pow10i(y->scale)) * pow10i(s - y->scale);
	return xf < yf ? -1 : xf > yf;
}

int
amount_minor(const struct amount *a, const struct currency *cur,
    int64_t *out)
{
	int64_t m = a->units;
	int s;

	for (s = a->scale; s > cur->exponent; s--)
		m /= 10;
	for (; s < cur->exponent; s++) {
		if (m > INT64_MAX / 10 || m < INT64_MIN / 10)
			return -1;
		m *= 10;
	}
	*out = m;
	return 0;
}
