/*
 * outcome.h - after a request: the result on stdout, proof that it was
 * delivered, and what a person or a script does next.
 *
 * Every outcome other than success ends with one line on stderr that
 * scripts can read without parsing prose (also with -q):
 *
 *	agcod: request-id: ID
 *
 * A success carries its request id in the service's answer on stdout
 * (creationRequestId, loadBalanceRequestId, ...), which is passed through
 * unchanged; the journal has it too (agcod history).
 */
#ifndef AGCOD_OUTCOME_H
#define AGCOD_OUTCOME_H

#include <jansson.h>

#include "agcod.h"
#include "api.h"

/*
 * Print r's answer on stdout and check it was written; say what happened
 * and what to do next; record in the journal a result that was not
 * delivered or a card that turned out cancelled.  before: the request's
 * journal entry from before it was sent, or NULL.  rc: op_send's status.
 * Returns the exit status: 75 when a success could not be delivered, 65
 * for a cancelled or expired card (RefundedToPurchaser, Expired), else rc.
 */
int	outcome_deliver(struct cmd_ctx *, const struct opreq *,
	    struct api_result *, json_t *before, int rc);
/* 1 when a CreateGiftCard answer is a cancelled card (RefundedToPurchaser) */
int	outcome_cancelled(json_t *answer);
/* the cardStatus of a CreateGiftCard answer whose claim code is void
 * (RefundedToPurchaser, Expired), or NULL */
const char *outcome_dead_card(json_t *answer);
/* the stable line: "agcod: request-id: ID" */
void	outcome_say_id(const char *request_id);
/*
 * sign-debug --send: when the request issued or moved money (or may have),
 * say so with the request id and the command that re-fetches the claim
 * code or undoes it.
 */
void	outcome_notice_sent(struct cmd_ctx *, const struct opreq *,
	    const struct api_result *);

/* journal notes, through one helper (journal.c's record format) */
int	note_delivery(struct cmd_ctx *, const struct op *, const char *rid,
	    int delivered);
int	note_cancelled(struct cmd_ctx *, const struct op *, const char *rid);

#endif
