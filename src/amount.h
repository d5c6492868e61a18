/* amount.h - exact decimal money: integer units and the scale typed */
#ifndef AGCOD_AMOUNT_H
#define AGCOD_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

struct currency {
	char	code[4];
	int	exponent;	/* decimals of the minor unit (JPY: 0) */
	int64_t	max_major;	/* sanity ceiling, in whole units */
	char	region[3];	/* the region group that serves it: na, eu, fe */
};

/* value = units / 10^scale; scale is what the operator typed */
struct amount {
	int64_t	units;
	int	scale;
};

#define AMOUNT_TEXT_MAX	32
#define AMOUNT_SCALE_MAX	18	/* decimals a number from a response may have */

const struct currency	*currency_find(const char *code);
const char		*currency_list(void);
const char		*currency_region_list(const char *region);
/* an amount for a request: positive, within the currency's decimals and ceiling */
int	amount_parse(const char *, const struct currency *, struct amount *,
	    const char **why);
/* a number from a response, exactly: any sign, Java exponents (1.0E7) */
int	amount_parse_number(const char *, struct amount *);
void	amount_format(const struct amount *, char *, size_t);
int	amount_cmp(const struct amount *, const struct amount *);
/* pure: a in minor units of cur, truncated toward zero; -1 on overflow */
int	amount_minor(const struct amount *, const struct currency *,
	    int64_t *out);

#endif
