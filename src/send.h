/*
 * send.h - the one path every request that changes state takes:
 * journal "pending" (durable) -> api_call -> journal the outcome.
 */
#ifndef AGCOD_SEND_H
#define AGCOD_SEND_H

#include <stdint.h>
#include <time.h>

#include "api.h"
#include "journal.h"

/* where requests go and where they are recorded */
struct sender {
	struct api_env	 api;
	struct journal	*journal;
	int64_t		 last_record;	/* the last send's journal id, or 0 */
	int		 reserve_refs;	/* its external references are held:
					 * one live card each (batch) */
	/* the last send's money object before it: its state ("" for none)
	 * and time, so a card another run issued is not called new */
	char		 prior[16], prior_time[32];
	int		 acted;		/* an attempt of the last send, or of
					 * its id before it, may have acted */
};

/*
 * Named values, completed from the journal row of the request they refer
 * to (j may be NULL: no lookup) -> a checked request.  Warns on stderr
 * when a gcId is missing or the undo window (at `now`) has passed.
 * AGCOD_OK, or with why: AGCOD_E_BAD_INPUT (the values: a usage error) or
 * AGCOD_E_JOURNAL_IO (the journal cannot be read; nothing was sent).
 */
enum agcod_result op_prepare(const struct profile *, struct journal *j,
	    const struct op *, const struct opreq_in *, time_t now,
	    struct opreq *, char *why, size_t whylen);
/*
 * A journal row -> the request it records, again, with its own request id
 * (the service answers a repeated id with the original result): checked,
 * and its body.  0, or -1 with why.  reconcile and reprint send it.
 */
int	op_rebuild(const struct profile *, const struct op *, json_t *row,
	    struct opreq *, struct buf *body, char *why, size_t whylen);
/*
 * Journal "pending" (fsync'd) -> sign, send, classify, retry -> journal the
 * evidence; the journal decides the outcome (an answer that proves nothing
 * about an earlier attempt leaves it unknown, AGCOD_E_AGAIN).  Returns
 * res->result: AGCOD_E_JOURNAL_IO only when nothing was sent and no open
 * record can send it later; AGCOD_E_AGAIN when another live process is
 * sending the same id; AGCOD_E_REFUSED when a reserved external reference
 * has a live card.
 */
enum agcod_result op_send(struct sender *, const struct opreq *, const struct buf *body,
	    struct api_result *);

/* recover.c: Amazon's procedure after an ActivateGiftCard RESEND */
int	activation_recover_applies(const struct opreq *, const struct api_result *);
enum agcod_result activation_recover(struct sender *, struct opreq *,
	    struct api_result *);
/* its back-off: the next wait, elapsed s into the recovery (pure) */
long	recover_next_delay(long elapsed, long delay);

#endif
