/*
 * ledger.c - the simulated AGCOD: an idempotent ledger keyed by request id
 * (a repeated id answers with the original result), the 15-minute cancel
 * window, exact funds in minor units, balance loads and their voids, as
 * tests/emulator/agcod_emulator.py does them; and the faults that make an
 * answer prove nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../src/http.h"
#include "sim.h"

#define CANCEL_WINDOW_NS	(900LL * 1000000000LL)

const char *const fault_name[F_NFAULTS] = {
	"none", "drop-before", "drop-after", "broken-body", "throttle",
	"403", "F100", "F500", "503-before", "502-after", "timeout-before",
	"timeout-after", "F400-RESEND", "413-proxy-after",
};

void
ledger_reset(struct ledger *l)
{
	l->ncards = l->nloads = l->nacts = l->nresent = l->nundone = 0;
	l->nundone_resent = 0;
	l->card_seq = 0;
	l->funds = 100000000;	/* 1,000,000.00 */
	l->requests = 0;
	l->seq = 0;
}

void
ledger_free(struct ledger *l)
{
	free(l->cards);
	free(l->loads);
	free(l->acts);
	memset(l, 0, sizeof(*l));
}

struct card *
ledger_card(struct ledger *l, const char *rid)
{
	size_t i;

	for (i = 0; i < l->ncards; i++)
		if (strcmp(l->cards[i].rid, rid) == 0)
			return &l->cards[i];
	return NULL;
}

struct load *
ledger_load(struct ledger *l, const char *rid)
{
	size_t i;

	for (i = 0; i < l->nloads; i++)
		if (strcmp(l->loads[i].rid, rid) == 0)
			return &l->loads[i];
	return NULL;
}

struct activation *
ledger_activation(struct ledger *l, const char *card)
{
	size_t i;

	for (i = 0; i < l->nacts; i++)
		if (strcmp(l->acts[i].card, card) == 0)
			return &l->acts[i];
	return NULL;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* an amount, number or string, in minor units (2 decimals); -1 if none */
static int64_t
minor(json_t *v)
{
	double d;

	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_string(v))
		d = strtod(json_string_value(v), NULL);
	else
		return -1;
	return (int64_t)llround(d * 100);
}

static void
refuse(struct answer *a, const char *code, const char *type, const char *m)
{
	a->status = 400;
	snprintf(a->body, sizeof(a->body), "{\"errorCode\": \"%s\", "
	    "\"errorType\": \"%s\", \"message\": \"%s\", \"status\": "
	    "\"FAILURE\"}", code, type, m);
}

static void
card_answer(struct answer *a, const struct card *c)
{
	a->status = 200;
	snprintf(a->body, sizeof(a->body), "{\"cardInfo\": {\"cardNumber\": "
	    "null, \"cardStatus\": \"%s\", \"expirationDate\": null, "
	    "\"value\": {\"amount\": %lld.%02lld, \"currencyCode\": \"USD\"}}, "
	    "\"creationRequestId\": \"%s\", \"gcClaimCode\": \"%s\", "
	    "\"gcExpirationDate\": null, \"gcId\": \"%s\", \"status\": "
	    "\"SUCCESS\"}", c->refunded ? "RefundedToPurchaser" : "Fulfilled",
	    (long long)(c->amount / 100), (long long)(c->amount % 100),
	    c->rid, c->claim, c->gcid);
}

static void
act(struct ledger *l, const char *op, json_t *req, int64_t now, int step,
    int proc, struct answer *a)
{
	const char *rid;
	struct card *c;
	struct load *ld;
	int64_t amt;

	a->http_result = HTTP_OK;
	if (strcmp(op, "GetAvailableFunds") == 0) {
		a->status = 200;
		snprintf(a->body, sizeof(a->body), "{\"availableFunds\": "
		    "{\"amount\": %lld.%02lld, \"currencyCode\": \"USD\"}, "
		    "\"status\": \"SUCCESS\", \"timestamp\": "
		    "\"20261201T000000Z\"}", (long long)(l->funds / 100),
		    (long long)(l->funds % 100));
		return;
	}
	if (strcmp(op, "CreateGiftCard") == 0) {
		rid = str(req, "creationRequestId");
		amt = minor(json_object_get(json_object_get(req, "value"),
		    "amount"));
		if (rid == NULL || amt <= 0) {
			refuse(a, "F200", "InvalidRequestInput", "bad input");
			return;
		}
		if ((c = ledger_card(l, rid)) != NULL) {
			if (c->amount != amt)
				refuse(a, "F200", "RequestedDenominationMismatch",
				    "The request id was used with a different "
				    "amount");
			else
				card_answer(a, c);
			return;
		}
		if (amt > l->funds) {
			refuse(a, "F300", "InsufficientFunds",
			    "Insufficient Funds");
			return;
		}
		if (l->ncards == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->cards = realloc(l->cards, l->cap * sizeof(*c));
			if (l->cards == NULL)
				abort();
		}
		c = &l->cards[l->ncards++];
		memset(c, 0, sizeof(*c));
		snprintf(c->rid, sizeof(c->rid), "%s", rid);
		l->seq++;
		snprintf(c->gcid, sizeof(c->gcid), "GC%012ld", l->seq);
		snprintf(c->claim, sizeof(c->claim), "SIM-%06ld-Q", l->seq);
		if (str(req, "externalReference"))
			snprintf(c->extref, sizeof(c->extref), "%s",
			    str(req, "externalReference"));
		c->amount = amt;
		c->created_ns = now;
		c->created_step = step;
		c->by_proc = proc;
		l->funds -= amt;
		card_answer(a, c);
		return;
	}
	if (strcmp(op, "CancelGiftCard") == 0) {
		rid = str(req, "creationRequestId");
		if (rid == NULL || (c = ledger_card(l, rid)) == NULL) {
			refuse(a, "F200", "InvalidRequestIdInput", "No card was "
			    "created with this request id");
			return;
		}
		if (str(req, "gcId") == NULL || *str(req, "gcId") == '\0') {
			refuse(a, "F200", "InvalidGCIdInput",
			    "GC Id can't be null or empty");
			return;
		}
		if (strcmp(str(req, "gcId"), c->gcid) != 0) {
			refuse(a, "F200", "InvalidGCIdInput",
			    "The gcId does not match the request id");
			return;
		}
		if (!c->refunded) {
			if (now - c->created_ns > CANCEL_WINDOW_NS) {
				refuse(a, "F200",
				    "CancelRequestArrivedAfterTimeLimit",
				    "Cancel request arrived after the time "
				    "limit of 15 minutes");
				return;
			}
			c->refunded = 1;
			l->funds += c->amount;
		}
		a->status = 200;
		snprintf(a->body, sizeof(a->body), "{\"creationRequestId\": "
		    "\"%s\", \"gcId\": \"%s\", \"status\": \"SUCCESS\"}", rid,
		    c->gcid);
		return;
	}
	if (strcmp(op, "LoadAmazonBalance") == 0 ||
	    strcmp(op, "VoidAmazonBalanceLoad") == 0) {
		json_t *acct = json_object_get(req, "account");

		rid = str(req, "loadBalanceRequestId");
		amt = minor(json_object_get(json_object_get(req, "amount"),
		    "value"));
		if (rid == NULL || amt <= 0 || str(acct, "id") == NULL) {
			refuse(a, "F200", "InvalidAccountInput", "bad input");
			return;
		}
		ld = ledger_load(l, rid);
		if (op[0] == 'V') {
			if (ld == NULL) {
				refuse(a, "F200", "InvalidRequestIdInput", "No "
				    "load was made with this request id");
				return;
			}
			if (ld->amount != amt ||
			    strcmp(ld->account, str(acct, "id")) != 0) {
				refuse(a, "F200", "InvalidAmountValue", "The void "
				    "must carry the amount and account of the "
				    "load");
				return;
			}
			if (!ld->voided) {
				ld->voided = 1;
				l->funds += amt;
			}
		} else if (ld == NULL) {
			if (amt > l->funds) {
				refuse(a, "F300", "InsufficientFunds",
				    "Insufficient Funds");
				return;
			}
			if (l->nloads == l->lcap) {
				l->lcap = l->lcap ? l->lcap * 2 : 32;
				l->loads = realloc(l->loads,
				    l->lcap * sizeof(*ld));
				if (l->loads == NULL)
					abort();
			}
			ld = &l->loads[l->nloads++];
			memset(ld, 0, sizeof(*ld));
			snprintf(ld->rid, sizeof(ld->rid), "%s", rid);
			snprintf(ld->account, sizeof(ld->account), "%s",
			    str(acct, "id"));
			ld->amount = amt;
			ld->created_step = step;
			ld->by_proc = proc;
			l->funds -= amt;
		} else if (ld->amount != amt) {
			refuse(a, "F200", "RequestedDenominationMismatch",
			    "The request id was used with a different amount");
			return;
		}
		a->status = 200;
		snprintf(a->body, sizeof(a->body), "{\"loadBalanceRequestId\": "
		    "\"%s\", \"amazonTransactionId\": \"T%s\", "
		    "\"totalAmountLoaded\": {\"currencyCode\": \"USD\", "
		    "\"value\": \"%lld.%02lld\"}, \"status\": \"SUCCESS\"}", rid,
		    rid, (long long)(amt / 100), (long long)(amt % 100));
		return;
	}
	if (strcmp(op, "ActivateGiftCard") == 0 ||
	    strcmp(op, "DeactivateGiftCard") == 0) {
		const char *n = str(req, "cardNumber");
		struct activation *ac;
		size_t i;

		rid = str(req, "activationRequestId");
		if (rid == NULL || n == NULL || strlen(n) != 19) {
			refuse(a, "F200", "InvalidCardNumberInput",
			    "Card number can't be null or empty");
			return;
		}
		ac = ledger_activation(l, n);
		if (op[0] == 'A') {
			for (i = 0; i < l->nundone; i++)
				if (strcmp(l->undone[i], rid) == 0 &&
				    l->nundone_resent < 8) {
					snprintf(l->undone_resent[
					    l->nundone_resent], sizeof(
					    l->undone_resent[0]), "%s", rid);
					l->undone_resent_by[
					    l->nundone_resent++] = proc;
				}
			amt = minor(json_object_get(json_object_get(req,
			    "value"), "amount"));
			if (amt <= 0) {
				refuse(a, "F200", "InvalidAmountInput",
				    "Amount can't be null");
				return;
			}
			if (ac && ac->active && strcmp(ac->rid, rid) != 0) {
				refuse(a, "F200",
				    "CardAlreadyActivatedWithDifferentRequestId",
				    "The card was already activated with a "
				    "different request id");
				return;
			}
			if (ac == NULL || !ac->active) {
				if (amt > l->funds) {
					refuse(a, "F300", "InsufficientFunds",
					    "Insufficient Funds");
					return;
				}
				if (ac == NULL) {
					if (l->nacts == l->acap) {
						l->acap = l->acap ? l->acap * 2 : 16;
						l->acts = realloc(l->acts,
						    l->acap * sizeof(*ac));
						if (l->acts == NULL)
							abort();
					}
					ac = &l->acts[l->nacts++];
					memset(ac, 0, sizeof(*ac));
					snprintf(ac->card, sizeof(ac->card), "%s", n);
				}
				snprintf(ac->rid, sizeof(ac->rid), "%s", rid);
				ac->amount = amt;
				ac->active = 1;
				ac->created_step = step;
				ac->by_proc = proc;
				l->funds -= amt;
			}
		} else {
			int resent = 0;

			for (i = 0; i < l->nresent; i++)
				resent |= strcmp(l->resent[i], rid) == 0;
			if ((ac == NULL || strcmp(ac->rid, rid) != 0) && !resent) {
				refuse(a, "F200", "CardNumberNotFound",
				    "The card is not activated");
				return;
			}
			/* an activation that never happened: nothing to undo */
			if (ac && strcmp(ac->rid, rid) == 0 && ac->active) {
				ac->active = 0;
				l->funds += ac->amount;
			}
			for (i = 0; i < l->nundone; i++)
				if (strcmp(l->undone[i], rid) == 0)
					break;
			if (i == l->nundone && l->nundone < MAXRESENT)
				snprintf(l->undone[l->nundone++],
				    sizeof(l->undone[0]), "%s", rid);
		}
		l->card_seq++;
		snprintf(l->card_last, sizeof(l->card_last), "%s", n);
		a->status = 200;
		snprintf(a->body, sizeof(a->body), "{\"activationRequestId\": "
		    "\"%s\", \"cardInfo\": {\"cardNumber\": \"%s\", "
		    "\"cardStatus\": \"%s\"}, \"status\": \"SUCCESS\"}", rid, n,
		    ac && ac->active && strcmp(ac->rid, rid) == 0 ? "Activated" :
		    "Deactivated");
		return;
	}
	if (strcmp(op, "ActivationStatusCheck") == 0) {
		const char *n = str(req, "cardNumber");
		struct activation *ac = n ? ledger_activation(l, n) : NULL;

		rid = str(req, "statusCheckRequestId");
		a->status = 200;
		snprintf(a->body, sizeof(a->body), "{\"statusCheckRequestId\": "
		    "\"%s\", \"cardInfo\": {\"cardNumber\": \"%s\", "
		    "\"cardStatus\": \"%s\"}, \"status\": \"SUCCESS\"}",
		    rid ? rid : "", n ? n : "", ac == NULL ? "NotActivated" :
		    ac->active ? "Activated" : "Deactivated");
		return;
	}
	refuse(a, "F200", "InvalidRequestInput", "operation not simulated");
}

void
ledger_handle(struct ledger *l, const char *url, const char *body,
    enum fault f, int64_t now, int step, int proc, struct answer *a)
{
	const char *op = strrchr(url, '/');
	json_t *req;
	size_t n;

	memset(a, 0, sizeof(*a));
	a->http_result = HTTP_OK;
	op = op ? op + 1 : url;
	switch (f) {
	case F_DROP_BEFORE:
		a->http_result = HTTP_LOST;
		snprintf(a->error, sizeof(a->error), "Connection reset by peer");
		return;
	case F_TIMEOUT_BEFORE:
		a->http_result = HTTP_LOST;
		snprintf(a->error, sizeof(a->error), "Operation timed out");
		return;
	case F_THROTTLE:
		a->status = 400;
		snprintf(a->body, sizeof(a->body), "{\"__type\": "
		    "\"com.amazon.coral.availability#ThrottlingException\", "
		    "\"message\": \"Rate exceeded\"}");
		return;
	case F_DENIED:
		a->status = 403;
		snprintf(a->body, sizeof(a->body), "{\"message\": \"The security "
		    "token included in the request is invalid.\"}");
		return;
	case F_F100:
		a->status = 500;
		snprintf(a->body, sizeof(a->body), "{\"errorCode\": \"F100\", "
		    "\"errorType\": \"GeneralError\", \"message\": \"General "
		    "Error\", \"status\": \"FAILURE\"}");
		return;
	case F_F500:
		a->status = 500;
		snprintf(a->body, sizeof(a->body), "{\"errorCode\": \"F500\", "
		    "\"errorType\": \"GeneralError\", \"message\": \"General "
		    "Error\", \"status\": \"FAILURE\"}");
		return;
	case F_5XX_BEFORE:
		a->status = 503;
		snprintf(a->body, sizeof(a->body),
		    "{\"message\": \"Service Unavailable\"}");
		return;
	case F_RESEND:
		if (strcmp(op, "ActivateGiftCard") == 0 &&
		    l->nresent < MAXRESENT && (req = json_loads(body, 0,
		    NULL)) != NULL) {
			const char *r = str(req, "activationRequestId");

			if (r)
				snprintf(l->resent[l->nresent++],
				    sizeof(l->resent[0]), "%s", r);
			json_decref(req);
		}
		a->status = 400;
		snprintf(a->body, sizeof(a->body), "{\"errorCode\": \"F400\", "
		    "\"errorType\": \"SystemTemporarilyUnavailable\", "
		    "\"message\": \"System Temporarily Unavailable\", "
		    "\"status\": \"RESEND\"}");
		return;
	default:
		break;
	}
	/* it reaches the service and acts */
	l->requests++;
	req = json_loads(body, 0, NULL);
	act(l, op, req, now, step, proc, a);
	json_decref(req);
	switch (f) {
	case F_DROP_AFTER:
		a->http_result = HTTP_LOST;
		a->status = 0;
		a->body[0] = '\0';
		snprintf(a->error, sizeof(a->error), "Connection reset by peer");
		break;
	case F_TIMEOUT_AFTER:
		a->http_result = HTTP_LOST;
		a->status = 0;
		a->body[0] = '\0';
		snprintf(a->error, sizeof(a->error), "Operation timed out");
		break;
	case F_BROKEN:
		n = strlen(a->body);
		a->status = 200;
		a->body[n / 2] = '\0';
		break;
	case F_5XX_AFTER:
		a->status = 502;
		snprintf(a->body, sizeof(a->body), "<html><head><title>502 Bad "
		    "Gateway</title></head><body>502 Bad Gateway</body></html>");
		break;
	case F_PROXY4XX:
		a->status = 413;
		snprintf(a->body, sizeof(a->body), "<html><head><title>413 "
		    "Request Entity Too Large</title></head></html>");
		break;
	default:
		break;
	}
}
