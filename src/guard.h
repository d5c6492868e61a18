/*
 * guard.h - checks made before anything is sent or journaled: the
 * configuration a request would travel with, and the production
 * guardrails (limits, confirmation on a terminal or an explicit opt-in).
 * Each says why on stderr before it returns anything but AGCOD_OK.
 */
#ifndef AGCOD_GUARD_H
#define AGCOD_GUARD_H

#include "amount.h"
#include "profile.h"
#include "result.h"

struct opreq;

/*
 * Commands that send: the endpoint is https://HOST[:PORT] with a port of 1
 * to 65535 and nothing else, the CA bundle can be read, a sandbox profile
 * does not point at a production Amazon host nor the reverse, and the
 * profile's limits and assume_yes read.  cacert_option: the CA bundle is
 * --cacert's (named so).  AGCOD_OK, or AGCOD_E_CONFIG.
 */
enum agcod_result guard_config(const struct profile *, int cacert_option);
/*
 * One request that is about to be sent: max_amount, then in production
 * for an operation that moves money (create, load, activate) the notice
 * and guard_confirm().  yes: --yes was given.  AGCOD_OK, or
 * AGCOD_E_BAD_INPUT (nothing was sent).
 */
enum agcod_result guard_request(const struct profile *, int yes,
	    const struct opreq *);
/* max_amount (per request): AGCOD_OK, or AGCOD_E_BAD_INPUT */
enum agcod_result guard_amount(const struct profile *, const struct amount *,
	    const char *cur);
/* max_batch_total (a batch's total): AGCOD_OK, or AGCOD_E_BAD_INPUT */
enum agcod_result guard_batch_total(const struct profile *,
	    const struct amount *total, const char *cur);
/*
 * In production only: go ahead with --yes (yes) or assume_yes = yes, else
 * ask on the terminal (/dev/tty), showing the summary ("CreateGiftCard of
 * 25.00 USD", "batch create: 12 cards, 300.00 USD") with the partner and
 * the endpoint; the default answer is no.  AGCOD_OK to go ahead, or
 * AGCOD_E_BAD_INPUT (declined, or no terminal and no opt-in) after saying
 * that nothing was sent.
 */
enum agcod_result guard_confirm(const struct profile *, int yes,
	    const char *summary);

#endif
