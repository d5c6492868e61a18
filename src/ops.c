/*
 * ops.c - the operation table (see ops.h): the one description of each
 * AGCOD operation, and its synopsis generated from it and options.h.  Pure
 * data and lookups: no I/O.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "ratelimit.h"

#define MONEY_CMD	(OP_MOVES_MONEY | OP_JOURNAL)
#define UNDO_CMD	(OP_ID_REQUIRED | OP_JOURNAL)

const struct op ops[] = {
	{ "create", "CreateGiftCard", "creationRequestId",
	    F_VALUE | F_EXTREF | F_PROGRAM | F_PRODUCT,
	    MONEY_CMD | OP_CLAIM_CODE, RL_ANY, "card", "issued", NULL, 0,
	    "issue a gift card code" },
	{ "cancel", "CancelGiftCard", "creationRequestId", F_GCID,
	    UNDO_CMD, RL_ANY, "card", "cancelled", "CreateGiftCard", 15 * 60,
	    "cancel a code within 15 minutes" },
	{ "funds", "GetAvailableFunds", NULL, 0, OP_BALANCE, RL_FUNDS,
	    NULL, NULL, NULL, 0,
	    "show the prepaid funds" },
	{ "load", "LoadAmazonBalance", "loadBalanceRequestId",
	    F_AMOUNT | F_SOURCE | F_ACCOUNT | F_EXTREF, MONEY_CMD, RL_ANY,
	    "load", "loaded", NULL, 0,
	    "load balance onto a customer's account" },
	{ "void", "VoidAmazonBalanceLoad", "loadBalanceRequestId",
	    F_AMOUNT | F_SOURCE | F_ACCOUNT | F_EXTREF, UNDO_CMD, RL_ANY,
	    "load", "voided", "LoadAmazonBalance", 0,
	    "void a balance load" },
	{ "activate", "ActivateGiftCard", "activationRequestId",
	    F_CARD | F_VALUE | F_PROGRAM | F_PRODUCT,
	    MONEY_CMD | OP_BY_CARD | OP_RECOVERS, RL_ANY,
	    "physical", "activated", NULL, 0,
	    "activate a physical card" },
	{ "deactivate", "DeactivateGiftCard", "activationRequestId", F_CARD,
	    UNDO_CMD | OP_BY_CARD, RL_ANY, "physical", "deactivated",
	    "ActivateGiftCard", 0,
	    "deactivate a physical card" },
	{ "activation-status", "ActivationStatusCheck", "statusCheckRequestId",
	    F_CARD, 0, RL_ANY, NULL, NULL, NULL, 0,
	    "check a physical card's activation" },
};
const size_t nops = sizeof(ops) / sizeof(ops[0]);

#define OP_OPTION_NONE(...)
#define OP_OPTION(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS) \
	{ NAME, ARG, FIELDS, FLAGS, 0, OP_NO_INPUT, NULL },
#define OP_OPTION_BODY(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS, M, \
	    J, B, REQ) \
	{ NAME, ARG, FIELDS, FLAGS, REQ, offsetof(struct opreq_in, M), J },
/* in options.h's order: sign-debug's derived ids hash them in this order */
const struct op_option op_options[] = {
	AGCOD_OPTIONS(OP_OPTION_NONE, OP_OPTION, OP_OPTION_BODY)
};
#undef OP_OPTION_NONE
#undef OP_OPTION
#undef OP_OPTION_BODY
const size_t nop_options = sizeof(op_options) / sizeof(op_options[0]);

const struct op *
op_find(const char *cmd)
{
	size_t i;

	for (i = 0; cmd && i < nops; i++)
		if (strcmp(ops[i].cmd, cmd) == 0)
			return &ops[i];
	return NULL;
}

const struct op *
op_by_name(const char *name)
{
	size_t i;

	for (i = 0; name && i < nops; i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	return NULL;
}

const struct op *
op_undoing(const struct op *op)
{
	size_t i;

	for (i = 0; i < nops; i++)
		if (ops[i].refers_to && strcmp(ops[i].refers_to, op->name) == 0)
			return &ops[i];
	return NULL;
}

const struct op *
op_origin(const struct op *op)
{
	const struct op *o = op->refers_to ? op_by_name(op->refers_to) : NULL;

	return o ? o : op;
}

/* its body fields, with F_REQID when it has a request id */
static unsigned
op_fields(const struct op *op)
{
	return op->fields | (op->id_field ? F_REQID : 0);
}

const char **
op_input(struct opreq_in *in, size_t i)
{
	if (i >= nop_options || op_options[i].in == OP_NO_INPUT)
		return NULL;
	return (const char **)(void *)((char *)in + op_options[i].in);
}

const char *
op_text(const struct opreq_in *in, size_t i)
{
	if (i >= nop_options || op_options[i].in == OP_NO_INPUT)
		return NULL;
	return *(const char *const *)(const void *)((const char *)in +
	    op_options[i].in);
}

static const struct op_option *
option_find(const char *name)
{
	size_t i;

	for (i = 0; i < nop_options; i++)
		if (strcmp(op_options[i].name, name) == 0)
			return &op_options[i];
	return NULL;
}

static int
takes(const struct op *op, const struct op_option *o)
{
	return (o->fields & op_fields(op)) || (o->flags & op->flags);
}

int
op_takes(const struct op *op, const char *name)
{
	const struct op_option *o = option_find(name);

	return o && takes(op, o);
}

int
op_option(const char *name)
{
	return option_find(name) != NULL;
}

int
op_requires(const struct op *op, size_t i)
{
	const struct op_option *o = i < nop_options ? &op_options[i] : NULL;

	return o && takes(op, o) &&
	    (o->required == R_ALWAYS || (o->required & op->flags));
}

/* the request id names the request referred to: never taken from it */
static int
is_request_id(size_t i)
{
	return op_options[i].in == offsetof(struct opreq_in, request_id);
}

int
op_required(const struct op *op, size_t i)
{
	/* send.c's op_prepare fills the rest from the journal's row */
	return op_requires(op, i) && (op->refers_to == NULL ||
	    op_options[i].member == NULL || is_request_id(i));
}

int
op_by_gc_id(const struct op *op)
{
	return op->refers_to && (op->fields & F_GCID);
}

static void
add(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*used >= n)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
	*used += k < 0 ? n : (size_t)k;
}

/*
 * One line a form: the options op must be given, then those it may be, in
 * []; each group in options.h's order.  The second form (op_by_gc_id)
 * names the card by --gc-id in place of --request-id.
 */
int
op_synopsis(const struct op *op, char *buf, size_t n)
{
	size_t used = 0, i;
	int form, pass, must;

	if (n == 0)
		return -1;
	buf[0] = '\0';
	for (form = 0; form < 1 + op_by_gc_id(op); form++) {
		add(buf, n, &used, form ? "\n       agcod %s" : "%s", op->cmd);
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < nop_options; i++) {
				const struct op_option *o = &op_options[i];

				if (!takes(op, o) || (form && is_request_id(i)))
					continue;
				must = op_required(op, i) || (form &&
				    o->in == offsetof(struct opreq_in, gc_id));
				if (must == pass)
					continue;
				add(buf, n, &used, "%s--%s%s%s%s",
				    must ? " " : " [", o->name,
				    o->arg ? " " : "", o->arg ? o->arg : "",
				    must ? "" : "]");
			}
	}
	return used < n ? 0 : -1;
}
