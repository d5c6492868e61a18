/*
 * journal_state.h - the rule's parts a store needs (journal_state.c): no
 * SQLite, no store.  Commands use journal.h's journal_next_state and
 * journal_kind; a store (journal_store.h) also these.
 */
#ifndef AGCOD_JOURNAL_STATE_H
#define AGCOD_JOURNAL_STATE_H

#include <string.h>

#include <jansson.h>

#include "journal.h"
#include "json.h"

/* a kind of money object: how requests move them, read from ops[] */
struct kind {
	const char	*origin;	/* the request that makes the object */
	const char	*origin_state;
	const char	*refer;		/* the request that undoes it */
	const char	*refer_state;
	const char	*name;
	int		 by_card;	/* keyed by card number, not request id */
};

/* the kind of object op makes (*origin 1) or undoes (*origin 0); NULL:
 * op moves none */
const struct kind *kind_of(const char *op, int *origin);
/* nothing is known of it yet: evidence may still settle it */
int	unsettled(const char *st);
/* the evidence an outcome record carries; *f2: an F2xx refusal */
int	evidence_of(json_t *rec, int *f2);
/* the request's own state on the evidence */
const char *request_state(enum journal_evidence ev, int acted);

static inline int
is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static inline const char *
member(json_t *o, const char *k)
{
	return json_str(o, k);
}

/* the columns a request row has, on every store; its JSON's members */
enum { C_TEXT, C_INT };
struct column {
	const char	*name;
	int		 type;
	int		 outcome;	/* set by journal_finish */
	int		 object;	/* carried onto the money object */
};
extern const struct column journal_columns[];
extern const size_t journal_ncolumns;
#define NRCOLS	journal_ncolumns

#endif
