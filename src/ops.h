/*
 * ops.h - the AGCOD operations: one table says everything agcod knows of
 * each (its command, body, rate class, the money object it makes or undoes,
 * how long an undo is accepted and its options; its synopsis is generated
 * from them and options.h).  The command table, --help, completions, request
 * building, the journal's objects and the outcome messages are all read
 * from it.
 */
#ifndef AGCOD_OPS_H
#define AGCOD_OPS_H

#include <stddef.h>

#include "options.h"

/* the members an operation's body carries, in body order */
enum op_field {
	F_CARD		= 1 << 0,	/* cardNumber */
	F_GCID		= 1 << 1,	/* gcId */
	F_VALUE		= 1 << 2,	/* value {currencyCode, amount: number} */
	F_AMOUNT	= 1 << 3,	/* amount {currencyCode, value: "string"} */
	F_SOURCE	= 1 << 4,	/* transactionSource {sourceId} */
	F_ACCOUNT	= 1 << 5,	/* account {id, type} */
	F_EXTREF	= 1 << 6,	/* externalReference */
	F_PROGRAM	= 1 << 7,	/* programId */
	F_PRODUCT	= 1 << 8,	/* productType */
	F_REQID		= 1 << 9,	/* its id_field */
};

enum op_flag {
	OP_MOVES_MONEY	= 1 << 0,	/* guarded; named on stderr in production */
	OP_ID_REQUIRED	= 1 << 1,	/* refers to an earlier request */
	OP_JOURNAL	= 1 << 2,	/* changes state: journaled */
	OP_CLAIM_CODE	= 1 << 3,	/* answers with a claim code and a gcId */
	OP_BY_CARD	= 1 << 4,	/* its object is keyed by card number */
	OP_RECOVERS	= 1 << 5,	/* Amazon's RESEND recovery (--recover-for) */
	OP_BALANCE	= 1 << 6,	/* answers with the funds (--below ...) */
};

struct op {
	const char	*cmd;		/* create: the command, sign-debug's OPERATION */
	const char	*name;		/* CreateGiftCard */
	const char	*id_field;	/* creationRequestId, or NULL */
	unsigned	 fields;	/* enum op_field */
	unsigned	 flags;		/* enum op_flag */
	int		 rate;		/* enum rl_class: its rate limit */
	/* the money object it makes, or undoes, and the state it leaves */
	const char	*object;	/* card, load, physical; NULL: none */
	const char	*object_state;	/* issued, cancelled, ... */
	const char	*refers_to;	/* the operation whose request it undoes */
	long		 undo_window;	/* s after refers_to it can undo; 0: any */
	const char	*summary;
};

extern const struct op ops[];
extern const size_t nops;

/* by command (create) or by AGCOD name (CreateGiftCard); NULL if none */
const struct op	*op_find(const char *cmd);
const struct op	*op_by_name(const char *name);
/* the operation that undoes op's requests (create -> cancel), or NULL */
const struct op	*op_undoing(const struct op *);
/* the operation that makes what op undoes (cancel -> create), or op */
const struct op	*op_origin(const struct op *);

/*
 * What a request is built from, by name: the command line, a journal row or
 * a batch row all fill these; NULL is "not given".
 */
#define OPREQ_IN_NONE(...)
#define OPREQ_IN(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS, M, ...) \
	const char	*M;
struct opreq_in {
	AGCOD_OPTIONS(OPREQ_IN_NONE, OPREQ_IN_NONE, OPREQ_IN)
};
#undef OPREQ_IN_NONE
#undef OPREQ_IN

#define OP_NO_INPUT	((size_t)-1)

/*
 * The options of operations, from options.h's OPER and BODY lines: which
 * operation takes which (the body carries its field, or the operation has
 * its flag), the struct opreq_in member it fills, the journal member a
 * later request can take it from.  Names are the command line's, without
 * "--".
 */
struct op_option {
	const char	*name;		/* amount */
	const char	*arg;		/* its metavar, NULL for a flag */
	unsigned	 fields;	/* enum op_field */
	unsigned	 flags;		/* enum op_flag */
	unsigned	 required;	/* R_ALWAYS, enum op_flag, or 0 */
	size_t		 in;		/* offset in opreq_in, or OP_NO_INPUT */
	const char	*member;	/* in the journal, or NULL */
};

extern const struct op_option op_options[];
extern const size_t nop_options;

/* the opreq_in member op_options[i] fills, or NULL if none */
const char	**op_input(struct opreq_in *, size_t i);
/* the text op_options[i] gave in, or NULL */
const char	*op_text(const struct opreq_in *, size_t i);

/* 1 when op takes option `name` (with name an operation option) */
int	op_takes(const struct op *, const char *name);
/* 1 when `name` is an option of some operation */
int	op_option(const char *name);

/* 1 when op's request cannot be built without op_options[i] */
int	op_requires(const struct op *, size_t i);
/* 1 when op's command line must give op_options[i]: required, and not
 * one taken from the journal row of the request op refers to */
int	op_required(const struct op *, size_t i);
/* 1 when op can name what it refers to by --gc-id instead */
int	op_by_gc_id(const struct op *);
/* op's synopsis, after "agcod ": 0, or -1 when n is too small */
int	op_synopsis(const struct op *, char *buf, size_t n);

#endif
