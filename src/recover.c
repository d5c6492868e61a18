/*
 * recover.c - Amazon's procedure when ActivateGiftCard keeps answering
 * RESEND (F400) after the retries: send DeactivateGiftCard with the same
 * request id; once that succeeds, activate again under a new request id.  A
 * deactivation that fails is repeated 1 s apart for the first 10 s, then
 * with exponential back-off, until --recover-for runs out; then the next
 * step is a support case (support-draft), as Amazon asks.  Every request is
 * journaled by op_send like any other.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "api.h"
#include "msg.h"
#include "send.h"
#include "timeutil.h"

#define BACKOFF_AFTER	10	/* s of 1-second steps before doubling */
#define BACKOFF_MAX	60	/* s, the longest single wait */

static long
now_s(void)
{
	return (long)(mono_ms() / 1000);
}

/*
 * The wait after the one just waited (delay), elapsed seconds into the
 * recovery: 1 s steps for the first BACKOFF_AFTER s, then doubling, at most
 * BACKOFF_MAX.  Pure: tests/unit/t_pins.c pins the schedule.
 */
long
recover_next_delay(long elapsed, long delay)
{
	if (elapsed < BACKOFF_AFTER || delay >= BACKOFF_MAX)
		return delay;
	return delay * 2 > BACKOFF_MAX ? BACKOFF_MAX : delay * 2;
}

/* a RESEND answer that retrying did not settle, for a real request id */
int
activation_recover_applies(const struct opreq *q, const struct api_result *r)
{
	if (!(q->op->flags & OP_RECOVERS) || q->recover_for <= 0)
		return 0;
	if (r->result != AGCOD_E_AGAIN || !r->have_resp)
		return 0;
	if (reqid_is_mock(q->request_id))
		return 0;	/* F4000 is there to test RESEND handling */
	return (r->status && strcmp(r->status, "RESEND") == 0) ||
	    (r->error_code && strcmp(r->error_code, "F400") == 0);
}

static enum agcod_result
send_one(struct sender *s, const struct opreq *q, long retry_for,
    struct api_result *r)
{
	struct buf body = BUF_INIT(64 * 1024);
	long saved = s->api.retry_for;
	enum agcod_result rc;

	if (api_body(s->api.prof, q, &body) == -1) {
		buf_free(&body);
		memset(r, 0, sizeof(*r));
		r->result = AGCOD_E_INTERNAL;
		r->outcome = OUTCOME_NOT_SENT;
		api_say(r, "cannot build the request body");
		return AGCOD_E_INTERNAL;
	}
	s->api.retry_for = retry_for;
	rc = op_send(s, q, &body, r);
	s->api.retry_for = saved;
	buf_free(&body);
	return rc;
}

/*
 * On success r holds the new activation's result and act its new request
 * id; on giving up r still holds the original RESEND answer.
 */
enum agcod_result
activation_recover(struct sender *s, struct opreq *act, struct api_result *r)
{
	const struct op *deact = op_undoing(act->op);
	struct opreq d = *act, again = *act;
	struct api_result dr;
	long start = now_s(), delay = 1, left;
	enum agcod_result rc;
	int attempt = 0;

	d.op = deact;
	d.cur = NULL;
	msg_warn("ActivateGiftCard %s still answers RESEND: following Amazon's "
	    "procedure, deactivating card %s with the same request id, then "
	    "activating it under a new one (for at most %ld s)",
	    act->request_id, act->text.card_number, act->recover_for);
	for (;;) {
		attempt++;
		rc = send_one(s, &d, 0, &dr);
		if (rc == AGCOD_OK) {
			api_result_free(&dr);
			break;
		}
		left = act->recover_for - (now_s() - start);
		msg_note("DeactivateGiftCard %s (attempt %d): %s", d.request_id,
		    attempt, dr.why);
		api_result_free(&dr);
		if (rc == AGCOD_E_JOURNAL_IO || left <= delay) {
			msg_err("the activation %s of card %s is not settled: "
			    "its deactivation did not succeed within %ld s; "
			    "repeat later, and after 24 hours ask Amazon: agcod "
			    "support-draft --request-id %s", act->request_id,
			    act->text.card_number, act->recover_for,
			    act->request_id);
			return r->result;
		}
		{
			struct timespec ts = { delay, 0 };

			nanosleep(&ts, NULL);
		}
		delay = recover_next_delay(now_s() - start, delay);
	}
	if (reqid_new(s->api.prof->partner_id, again.request_id) == -1) {
		msg_err("cannot generate a new request id");
		return r->result;
	}
	msg_note("deactivated %s; activating card %s again as %s",
	    act->request_id, act->text.card_number, again.request_id);
	api_result_free(r);
	rc = send_one(s, &again, s->api.retry_for, r);
	strlcpy(act->request_id, again.request_id, sizeof(act->request_id));
	return rc;
}
