/*
 * guard.h - checks made before anything is sent or journaled: the
 * configuration a request would travel with, and the production
 * guardrails (limits, confirmation on a terminal or an explicit opt-in).
 */
#ifndef AGCOD_GUARD_H
#define AGCOD_GUARD_H

#include "agcod.h"
#include "amount.h"

struct opreq;

/*
 * Commands that send: the endpoint is https://HOST[:PORT] with a port of 1
 * to 65535 and nothing else, the CA bundle can be read, a sandbox profile
 * does not point at a production Amazon host nor the reverse, and the
 * profile's limits and assume_yes read.  0, or 78 after saying why.
 */
int	guard_config(struct cmd_ctx *);
/*
 * One request that is about to be sent: max_amount, then in production
 * for an operation that moves money (create, load, activate) the notice
 * and guard_confirm().  0, or 64 (nothing was sent).
 */
int	guard_request(struct cmd_ctx *, const struct opreq *);
/* max_amount (per request): 0, or 64 after saying why */
int	guard_amount(struct cmd_ctx *, const struct amount *, const char *cur);
/* max_batch_total (a batch's total): 0, or 64 after saying why */
int	guard_batch_total(struct cmd_ctx *, const struct amount *total,
	    const char *cur);
/*
 * In production only: go ahead with --yes or assume_yes = yes, else ask on
 * the terminal (/dev/tty), showing the summary ("CreateGiftCard of 25.00
 * USD", "batch create: 12 cards, 300.00 USD") with the partner and the
 * endpoint; the default answer is no.  0 to go ahead, or 64 (declined, or
 * no terminal and no opt-in) after saying that nothing was sent.
 */
int	guard_confirm(struct cmd_ctx *, const char *summary);

#endif
