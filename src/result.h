/*
 * result.h - what a library call came to.  The library (signing, HTTP,
 * the request path, the journal, guards, outcomes, profiles) returns one
 * of these and never an exit status; the tool maps it to one in one place
 * (exitcode.c), as curl's lib/ returns CURLcode and src/ decides what the
 * user sees.  Whether anything left the machine is the request's own
 * enum outcome (api.h), not a result of its own.
 */
#ifndef AGCOD_RESULT_H
#define AGCOD_RESULT_H

enum agcod_result {
	AGCOD_OK = 0,
	AGCOD_E_BAD_INPUT,	/* the caller's input, or a declined
				 * confirmation: nothing was sent */
	AGCOD_E_REFUSED,	/* the service refused it (F2xx, a signature
				 * mismatch), or the journal's rules did (an
				 * external reference with a live card) */
	AGCOD_E_SERVICE,	/* the service failed it (F1xx, F500), or TLS
				 * verification failed: nothing was sent */
	AGCOD_E_INTERNAL,	/* a bug, or a library refused an option */
	AGCOD_E_JOURNAL_IO,	/* the journal, state directory or rate-limit
				 * file cannot be used: nothing was sent and
				 * no open record can send it later */
	AGCOD_E_AGAIN,		/* temporary or unknown: throttled, RESEND,
				 * no answer that proves a refusal, a rate
				 * slot past the budget; it may have acted */
	AGCOD_E_ACCOUNT,	/* F3xx, HTTP 403: the account or its key */
	AGCOD_E_CONFIG,		/* the profile, its file or its endpoint */
};

#endif
