/*
 * opreq.c - option values turned into a checked AGCOD request.  The values
 * come from the command line, a journal entry (reconcile, and what cancel,
 * void and deactivate can take from the request they refer to) or a batch
 * row; all go through these same checks before anything is signed or sent.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "api.h"
#include "json.h"

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* printable text of at most max characters */
static const char *
check_text(const char *v, size_t max, int ascii_only)
{
	const unsigned char *p;

	if (*v == '\0')
		return "is empty";
	if (!utf8_valid(v))
		return "is not valid UTF-8";
	for (p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (ascii_only && *p > 0x7e))
			return ascii_only ? "must be printable ASCII" :
			    "holds a control character";
	if (utf8_chars(v) > max)
		return "is too long";
	return NULL;
}

static const char *
check_alnum(const char *v, size_t max)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (!isalnum((unsigned char)v[i]))
			return "must be letters and digits only";
	return i == 0 ? "is empty" : i > max ? "is too long" : NULL;
}

static const char *
chk_gcid(const char *v)
{
	return check_text(v, 64, 1);
}

static const char *
chk_card(const char *v)
{
	size_t n = strlen(v), i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return "must be digits only";
	return n < 8 || n > 32 ? "has the wrong number of digits" : NULL;
}

static const char *
chk_account(const char *v)
{
	return check_text(v, 128, 1);
}

static const char *
chk_type(const char *v)
{
	return check_alnum(v, 32);
}

static const char *
chk_text100(const char *v)
{
	return check_text(v, 100, 0);
}

static const char *
chk_program(const char *v)
{
	return check_alnum(v, 100);
}

/* Amazon: productType is alphanumeric, at most 50 (bookPV, hwPV, ...) */
static const char *
chk_product(const char *v)
{
	return check_alnum(v, 50);
}

static int
fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* a value quoted in a message: at most SHOWN_MAX bytes of it, then "..." */
#define SHOWN_MAX	64
#define SHOWN(v)	SHOWN_MAX, (v), strlen(v) > SHOWN_MAX ? "..." : ""

/* the op_options[] index of an opreq_in member */
static size_t
in_index(const struct opreq_in *in, const char *const *m)
{
	size_t i;

	for (i = 0; i < nop_options; i++)
		if ((size_t)((const char *)m - (const char *)in) ==
		    op_options[i].in)
			break;
	return i;
}

/*
 * One text value: checked when there, and when absent refused if op
 * requires it (options.h's `required`, what the synopsis shows without []).
 */
static int
take(const struct op *op, const struct opreq_in *in, const char *const *v,
    const char **dst, const char *(*check)(const char *), char *why,
    size_t n)
{
	size_t i = in_index(in, v);
	const char *msg;

	if (*v == NULL && !op_requires(op, i))
		return 0;
	if (*v == NULL && v == &in->request_id)
		return fail(why, n, "'--request-id' is required for '%s': the "
		    "id of the request it refers to%s", op->cmd,
		    op_by_gc_id(op) ? " (or '--gc-id' of a card in the "
		    "journal)" : "");
	if (*v == NULL)
		return fail(why, n, "'--%s' is required for '%s'",
		    op_options[i].name, op->cmd);
	if (check && (msg = check(*v)) != NULL)
		return fail(why, n, "--%s '%.*s%s' %s", op_options[i].name,
		    SHOWN(*v), msg);
	*dst = *v;
	return 0;
}

void
opreq_fill_from(struct opreq_in *in, json_t *row, int include_id)
{
	size_t i;

	for (i = 0; i < nop_options; i++) {
		const char **dst = op_input(in, i), *s;

		if (dst == NULL || op_options[i].member == NULL ||
		    (dst == &in->request_id && !include_id))
			continue;
		s = json_str(row, op_options[i].member);
		if (*dst == NULL && s)
			*dst = s;
	}
}

void
opreq_free(struct opreq *r)
{
	json_decref(r->from);
	r->from = NULL;
}

/* the currency and amount (F_VALUE, F_AMOUNT): 0, or -1 with why */
static int
build_value(const struct profile *p, const struct op *op,
    const struct opreq_in *v, struct opreq *r, char *why, size_t n)
{
	const char *s, *msg;

	s = v->currency ? v->currency : p->currency[0] ?
	    p->currency : NULL;
	if (s == NULL)
		return fail(why, n, "no currency: give '--currency' or "
		    "set currency in the profile");
	if ((r->cur = currency_find(s)) == NULL)
		return fail(why, n, "currency '%.*s%s' is not one of %s",
		    SHOWN(s),
		    currency_list());
	s = NULL;
	if (take(op, v, &v->amount, &s, NULL, why, n) == -1)
		return -1;
	if (s && amount_parse(s, r->cur, &r->amount, &msg) == -1)
		return fail(why, n, "amount '%.*s%s' %s", SHOWN(s), msg);
	if (p->region && strcmp(r->cur->region, p->region->name) != 0)
		return fail(why, n, "currency '%s' is served by the %s "
		    "region, not by this profile's region '%s' (which "
		    "serves %s)", r->cur->code, r->cur->region,
		    p->region->name,
		    currency_region_list(p->region->name));
	return 0;
}

/* the request id: given and checked, or generated; 0, or -1 with why */
static int
build_request_id(const struct profile *p, const struct op *op,
    const struct opreq_in *v, struct opreq *r, char *why, size_t n)
{
	const char *s, *msg;

	s = NULL;
	if (take(op, v, &v->request_id, &s, NULL, why, n) == -1)
		return -1;
	if (s != NULL) {
		if ((msg = reqid_check(s, p->partner_id,
		    p->production)) != NULL)
			return fail(why, n, "request id '%.*s%s' %s",
			    SHOWN(s), msg);
		strlcpy(r->request_id, s, sizeof(r->request_id));
	} else {
		if (reqid_new(p->partner_id, r->request_id) == -1)
			return fail(why, n, "partner id too long to "
			    "generate a request id");
	}
	return 0;
}

/* the text fields the operation takes, each checked; 0, or -1 with why */
static int
build_text(const struct op *op, const struct opreq_in *v, struct opreq *r,
    char *why, size_t n)
{
	const char *msg;

	/* sources disagree on whether cancel needs gcId: optional, and the
	 * caller warns when it goes without one */
	if ((op->fields & F_GCID) && take(op, v, &v->gc_id, &r->text.gc_id,
	    chk_gcid, why, n))
		return -1;
	if ((op->fields & F_CARD) && take(op, v, &v->card_number,
	    &r->text.card_number, chk_card, why, n))
		return -1;
	if (op->fields & F_ACCOUNT) {
		/* the one value Amazon's example shows */
		r->text.account_type = "2";
		if (take(op, v, &v->account_id, &r->text.account_id,
		    chk_account, why, n) || take(op, v, &v->account_type,
		    &r->text.account_type, chk_type, why, n))
			return -1;
	}
	if ((op->fields & F_SOURCE) && take(op, v, &v->source_id,
	    &r->text.source_id, chk_text100, why, n))
		return -1;
	if ((op->fields & F_EXTREF) && take(op, v, &v->extref, &r->text.extref,
	    chk_text100, why, n))
		return -1;
	if ((op->fields & F_PROGRAM) && take(op, v, &v->program_id,
	    &r->text.program_id, chk_program, why, n))
		return -1;
	if (op->flags & OP_RECOVERS) {
		r->recover_for = 120;	/* well under cron's hour */
		if (v->recover_for) {
			r->recover_for = (long)strtonum(v->recover_for, 0,
			    86400, &msg);
			if (msg)
				return fail(why, n, "--recover-for '%s' is %s: "
				    "give seconds, 0 to 86400",
				    v->recover_for, msg);
		}
	}
	if ((op->fields & F_PRODUCT) && take(op, v, &v->product_type,
	    &r->text.product_type, chk_product, why, n))
		return -1;
	return 0;
}

int
opreq_build(const struct profile *p, const struct op *op,
    const struct opreq_in *v, struct opreq *r, char *why, size_t n)
{
	const char *id = NULL;

	memset(r, 0, sizeof(*r));
	r->op = op;
	/* an undo's other values come from the record of the request it
	 * undoes: without its id, that is what to ask for */
	if ((op->flags & OP_ID_REQUIRED) && v->request_id == NULL)
		return take(op, v, &v->request_id, &id, NULL, why, n);
	if ((op->fields & (F_VALUE | F_AMOUNT)) &&
	    build_value(p, op, v, r, why, n) == -1)
		return -1;
	if (op->id_field && build_request_id(p, op, v, r, why, n) == -1)
		return -1;
	return build_text(op, v, r, why, n);
}
