/*
 * triage.c - on a 403 or a signature error, name the cause that fits:
 * clock skew measured from the service's Date header, a signing region that
 * does not match the host, an unknown access key (sandbox and production
 * keys differ), a secret that does not match the key; on a gateway
 * refusal that proves the request was not understood, what changed it.
 * Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "triage.h"

static int
has(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

/* the region a known Amazon host expects, or NULL */
static const char *
host_region(const char *host)
{
	static const char *const names[] = { "na", "eu", "fe" };
	size_t i;

	for (i = 0; i < 3; i++) {
		const struct region_info *r = region_find(names[i]);

		if (strcmp(host, r->sandbox_host) == 0 ||
		    strcmp(host, r->production_host) == 0)
			return r->signing_region;
	}
	return NULL;
}

int
triage_verdict(const struct triage_in *t, char *out, size_t n)
{
	const char *env = t->production ? "production" : "sandbox";
	const char *want = host_region(t->host);
	long a = labs(t->skew);

	if (t->have_skew && a > CLOCK_FAIL_S) {
		snprintf(out, n, "clock skew: the local clock is %ld s %s the "
		    "service's (its Date header); requests more than 15 minutes "
		    "off are refused: synchronise the clock (NTP)", a,
		    t->skew > 0 ? "behind" : "ahead of");
		return 1;
	}
	if (has(t->message, "Signature expired") ||
	    has(t->message, "not yet current")) {
		snprintf(out, n, "clock skew: x-amz-date was more than 15 "
		    "minutes off the service's clock: synchronise the clock "
		    "(NTP)");
		return 1;
	}
	if (has(t->message, "scoped to a valid region") ||
	    (want && strcmp(want, t->region) && t->http_status == 403)) {
		snprintf(out, n, "region mismatch: signed for '%s' but host "
		    "'%s' %s%s%s; set region in the profile (na: us-east-1, "
		    "eu: eu-west-1, fe: us-west-2)", t->region, t->host,
		    want ? "expects '" : "expects another", want ? want : "",
		    want ? "'" : "");
		return 1;
	}
	if (has(t->message, "scoped to correct service")) {
		snprintf(out, n, "wrong service in the scope: AGCOD expects "
		    "'AGCODService'");
		return 1;
	}
	if (has(t->message, "security token included in the request is "
	    "invalid") || has(t->type, "UnrecognizedClient") ||
	    has(t->message, "InvalidAccessKey")) {
		snprintf(out, n, "unknown access key: '%s' is not known to %s "
		    "(%s); sandbox and production keys are different: check "
		    "that this key is the %s key", t->access_key_id, t->host,
		    env, env);
		return 1;
	}
	if (has(t->message, "signature we calculated does not match") ||
	    has(t->type, "InvalidSignature")) {
		snprintf(out, n, "signature mismatch: the secret key does not "
		    "belong to access key id '%s' (or the request was changed "
		    "on its way, by a proxy?); compare with 'agcod sign-debug'",
		    t->access_key_id);
		return 1;
	}
	/* the gateway answers that prove the request was not understood */
	if (has(t->type, "UnknownOperation")) {
		snprintf(out, n, "unknown operation: '%s' does not serve this "
		    "AGCOD operation at this path (x-amz-target); check "
		    "--endpoint, and any proxy in between", t->host);
		return 1;
	}
	if (has(t->message, "is not an expected Json type")) {
		snprintf(out, n, "the service could not read the request body "
		    "as the operation's object: was it changed on its way (a "
		    "proxy re-encoding JSON)? compare with 'agcod sign-debug'");
		return 1;
	}
	if (t->http_status == 415) {
		snprintf(out, n, "unsupported media type: agcod sends "
		    "content-type application/json; something in between "
		    "changed the content-type");
		return 1;
	}
	if (t->http_status == 403) {
		snprintf(out, n, "access denied to '%s' (%s): check the keys "
		    "and that the account is enabled for this API",
		    t->access_key_id, env);
		return 1;
	}
	return 0;
}
