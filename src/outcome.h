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

#include "api.h"
#include "output.h"
#include "result.h"

struct sender;

/* what outcome_deliver needs of the command that sent the request */
struct outcome_env {
	struct sender	*send;		/* its journal and last record */
	enum output_fmt	 fmt;		/* how the answer is printed */
	int		 production;	/* a table names the environment */
	int		 out_said;	/* set: stdout failed, and it was said */
};

/*
 * Print r's answer on stdout and check it was written; say what happened
 * and what to do next; record in the journal a result that was not
 * delivered or a card that turned out cancelled.  before: the request's
 * journal entry from before it was sent, or NULL.  rc: op_send's result.
 * Returns AGCOD_E_AGAIN when a success could not be delivered,
 * AGCOD_E_REFUSED for a cancelled or expired card (RefundedToPurchaser,
 * Expired), else rc.
 */
enum agcod_result outcome_deliver(struct outcome_env *, const struct opreq *,
	    struct api_result *, json_t *before, enum agcod_result rc);
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
void	outcome_notice_sent(int production, const struct opreq *,
	    const struct api_result *);

/* journal notes on s's last record, through one helper (journal.c's record
 * format): 0, or -1 after saying why */
int	note_delivery(struct sender *s, const struct op *, const char *rid,
	    int delivered);
int	note_cancelled(struct sender *s, const struct op *, const char *rid);

#endif
