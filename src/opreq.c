/*
 * opreq.c - a command's options turned into a checked AGCOD request.
 * Everything is checked here, before anything is signed or sent.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

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
check_digits(const char *v, size_t min, size_t max)
{
	size_t n = strlen(v), i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return "must be digits only";
	if (n < min || n > max)
		return "has the wrong number of digits";
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

/* one optional or required text option */
static int
take(const struct cmd_ctx *c, int id, int required, const char **dst,
    const char *(*check)(const char *))
{
	const char *v = c->args.val[id], *why;

	if (v == NULL) {
		if (required)
			return usage_error(c->cmd, "'--%s' is required for '%s'",
			    opt_name(id), c->cmd->name);
		return 0;
	}
	if (check && (why = check(v)) != NULL)
		return usage_error(c->cmd, "--%s '%s' %s", opt_name(id), v, why);
	*dst = v;
	return 0;
}

static const char *chk_gcid(const char *v) { return check_text(v, 64, 1); }
static const char *chk_card(const char *v) { return check_digits(v, 8, 32); }
static const char *chk_account(const char *v) { return check_text(v, 128, 1); }
static const char *chk_type(const char *v) { return check_alnum(v, 32); }
static const char *chk_source(const char *v) { return check_text(v, 100, 0); }
static const char *chk_extref(const char *v) { return check_text(v, 100, 0); }
static const char *chk_program(const char *v) { return check_alnum(v, 100); }

int
api_request(const struct cmd_ctx *c, const struct op *op, struct opreq *r)
{
	const struct profile *p = &c->prof;
	const char *v, *why;
	struct timeval tv;
	int e;

	memset(r, 0, sizeof(*r));
	r->op = op;
	if (op->fields & (F_VALUE | F_AMOUNT)) {
		v = c->args.val[O_CURRENCY] ? c->args.val[O_CURRENCY] :
		    p->currency[0] ? p->currency : NULL;
		if (v == NULL)
			return usage_error(c->cmd, "no currency: give "
			    "'--currency' or set currency in the profile");
		if ((r->cur = currency_find(v)) == NULL)
			return usage_error(c->cmd, "currency '%s' is not one "
			    "of %s", v, currency_list());
		if ((v = c->args.val[O_AMOUNT]) == NULL)
			return usage_error(c->cmd, "'--amount' is required "
			    "for '%s'", c->cmd->name);
		if (amount_parse(v, r->cur, &r->amount, &why) == -1)
			return usage_error(c->cmd, "amount '%s' %s", v, why);
	}
	if (op->id_field) {
		if ((v = c->args.val[O_REQUEST_ID]) != NULL) {
			if ((why = reqid_check(v, p->partner_id,
			    p->production)) != NULL)
				return usage_error(c->cmd, "request id '%s' %s",
				    v, why);
			strlcpy(r->request_id, v, sizeof(r->request_id));
		} else if (op->flags & OP_ID_REQUIRED) {
			return usage_error(c->cmd, "'--request-id' is required "
			    "for '%s': the id of the request it refers to",
			    c->cmd->name);
		} else {
			gettimeofday(&tv, NULL);
			if (reqid_generate(p->partner_id, (uint64_t)tv.tv_sec *
			    1000 + (uint64_t)tv.tv_usec / 1000,
			    r->request_id) == -1)
				return usage_error(c->cmd, "partner id too long "
				    "to generate a request id");
		}
	}
	if ((op->fields & F_GCID) &&
	    (e = take(c, O_GC_ID, 1, &r->gc_id, chk_gcid)))
		return e;
	if ((op->fields & F_CARD) &&
	    (e = take(c, O_CARD_NUMBER, 1, &r->card_number, chk_card)))
		return e;
	if (op->fields & F_ACCOUNT) {
		r->account_type = "2";	/* the one value Amazon's example shows */
		if ((e = take(c, O_ACCOUNT_ID, 1, &r->account_id,
		    chk_account)) || (e = take(c, O_ACCOUNT_TYPE, 0,
		    &r->account_type, chk_type)))
			return e;
	}
	if ((op->fields & F_SOURCE) &&
	    (e = take(c, O_SOURCE_ID, 0, &r->source_id, chk_source)))
		return e;
	if ((op->fields & F_EXTREF) &&
	    (e = take(c, O_EXTREF, 0, &r->extref, chk_extref)))
		return e;
	if ((op->fields & F_PROGRAM) &&
	    (e = take(c, O_PROGRAM_ID, 0, &r->program_id, chk_program)))
		return e;
	return 0;
}

