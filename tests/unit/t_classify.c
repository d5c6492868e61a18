/*
 * t_classify.c - one rule for every answer: "failed" only when the answer
 * proves a refusal, "unknown" for anything else after the request may have
 * reached the service, "not sent" only when it provably never left.
 */
#include <string.h>

#include "../../src/agcod.h"
#include "../../src/api.h"
#include "../../src/triage.h"
#include "unit.h"

#define DONE	0
#define RETRY	1

static const struct {
	int		 hr;
	long		 status;
	const char	*body;
	enum outcome	 outcome;
	int		 exit, verdict;
} cases[] = {
	/* the service's own answers */
	{ HTTP_OK, 200, "{\"status\":\"SUCCESS\",\"gcId\":\"G\"}",
	    OUTCOME_SUCCEEDED, 0, DONE },
	{ HTTP_OK, 400, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"F200\",\"errorType\":\"InvalidAmountValue\"}",
	    OUTCOME_FAILED, 65, DONE },
	{ HTTP_OK, 400, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"F300\",\"errorType\":\"InsufficientFunds\"}",
	    OUTCOME_FAILED, 77, DONE },
	{ HTTP_OK, 500, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"F500\",\"errorType\":\"GeneralError\"}",
	    OUTCOME_FAILED, 69, DONE },
	{ HTTP_OK, 500, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"F100\",\"errorType\":\"GeneralError\"}",
	    OUTCOME_FAILED, 69, DONE },
	{ HTTP_OK, 400, "{\"agcodResponse\":{\"status\":\"RESEND\"},"
	    "\"errorCode\":\"F400\"}", OUTCOME_UNKNOWN, 75, RETRY },
	/* gateway refusals: cannot have acted */
	{ HTTP_OK, 400, "{\"__type\":\"ThrottlingException\","
	    "\"message\":\"Rate exceeded\"}", OUTCOME_FAILED, 75, RETRY },
	{ HTTP_OK, 429, "slow down", OUTCOME_FAILED, 75, RETRY },
	{ HTTP_OK, 400, "<ThrottlingException><Message>Rate exceeded</Message>"
	    "</ThrottlingException>", OUTCOME_FAILED, 75, RETRY },
	{ HTTP_OK, 403, "{\"__type\":\"InvalidSignatureException\",\"message\":"
	    "\"The request signature we calculated does not match\"}",
	    OUTCOME_FAILED, 65, DONE },
	{ HTTP_OK, 403, "{\"__type\":\"UnrecognizedClientException\","
	    "\"message\":\"The security token included in the request is "
	    "invalid.\"}", OUTCOME_FAILED, 77, DONE },
	{ HTTP_OK, 403, "<html>Forbidden</html>", OUTCOME_FAILED, 77, DONE },
	{ HTTP_OK, 401, "", OUTCOME_FAILED, 77, DONE },
	/* answers that prove nothing: the service may have acted */
	{ HTTP_OK, 200, "{\"cardInfo\": {\"card", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 200, "\x00\xffnot json", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 200, "{}", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 200, "[1]", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 200, "{\"status\":\"FAILURE\"}", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 500, "<html>500 Internal Server Error</html>",
	    OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 502, "<html>502 Bad Gateway</html>", OUTCOME_UNKNOWN, 75,
	    RETRY },
	{ HTTP_OK, 503, "{\"message\":\"Service Unavailable\"}",
	    OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 504, "", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 500, "{\"status\":\"SUCCESS\"}", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 302, "", OUTCOME_UNKNOWN, 75, RETRY },
	/* a proxy's page says nothing of what reached the service (issue 18) */
	{ HTTP_OK, 400, "<html>400 Bad Request</html>", OUTCOME_UNKNOWN, 75,
	    RETRY },
	{ HTTP_OK, 404, "<html>404 Not Found</html>", OUTCOME_UNKNOWN, 75,
	    RETRY },
	{ HTTP_OK, 413, "<html>413 Request Entity Too Large</html>",
	    OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 415, "<html>415 Unsupported Media Type</html>",
	    OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 400, "{\"message\":\"Bad Request\"}", OUTCOME_UNKNOWN, 75,
	    RETRY },
	{ HTTP_OK, 409, "{\"__type\":\"ConflictException\"}", OUTCOME_UNKNOWN,
	    75, RETRY },
	{ HTTP_OK, 500, "{\"Message\":\"class java.lang.String is not an "
	    "expected Json type\"}", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_OK, 200, "{\"__type\":\"UnknownOperationException\"}",
	    OUTCOME_UNKNOWN, 75, RETRY },
	/* gateway refusals that prove the request was not understood */
	{ HTTP_OK, 400, "{\"__type\":\"UnknownOperationException\"}",
	    OUTCOME_FAILED, 65, DONE },
	{ HTTP_OK, 404, "{\"__type\":\"com.amazon.coral.service#"
	    "UnknownOperationException\",\"message\":null}", OUTCOME_FAILED, 65,
	    DONE },
	{ HTTP_OK, 400, "{\"Message\":\"class java.lang.String is not an "
	    "expected Json type\"}", OUTCOME_FAILED, 65, DONE },
	{ HTTP_OK, 415, "{\"__type\":\"UnsupportedMediaTypeException\","
	    "\"message\":\"content-type must be application/json\"}",
	    OUTCOME_FAILED, 65, DONE },
	/* throttling, whatever else the body carries (issue 19, 15) */
	{ HTTP_OK, 400, "{\"errorCode\":\"Throttled\",\"errorType\":"
	    "\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
	    OUTCOME_FAILED, 75, RETRY },
	{ HTTP_OK, 400, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"Throttled\",\"errorType\":\"ThrottlingException\"}",
	    OUTCOME_FAILED, 75, RETRY },
	{ HTTP_OK, 400, "{\"errorCode\":\"Throttled\"}", OUTCOME_FAILED, 75,
	    RETRY },
	{ HTTP_OK, 429, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"F500\",\"errorType\":\"GeneralError\"}",
	    OUTCOME_FAILED, 75, RETRY },
	{ HTTP_OK, 400, "{\"agcodResponse\":{\"status\":\"FAILURE\"},"
	    "\"errorCode\":\"F200\",\"errorType\":\"ThrottlingException\"}",
	    OUTCOME_FAILED, 75, RETRY },
	{ HTTP_LOST, 0, "", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_TOO_BIG, 200, "", OUTCOME_UNKNOWN, 75, RETRY },
	{ HTTP_FAILED, 0, "", OUTCOME_UNKNOWN, 75, RETRY },
	/* provably never left */
	{ HTTP_NOT_SENT, 0, "", OUTCOME_NOT_SENT, 75, RETRY },
	{ HTTP_TLS, 0, "", OUTCOME_NOT_SENT, 69, DONE },
};

void
test_classify(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_result r;
		size_t n = strlen(cases[i].body);
		int v;

		if (i == 14)	/* a NUL inside: the length as written */
			n = 10;
		memset(&r, 0, sizeof(r));
		http_response_init(&r.resp);
		r.resp.status = cases[i].status;
		CHECK(buf_add(&r.resp.body, cases[i].body, n) == 0, "case %zu", i);
		v = api_classify(&r, cases[i].hr);
		CHECK(r.outcome == cases[i].outcome, "case %zu (HTTP %ld %.30s): "
		    "outcome %d, want %d", i, cases[i].status, cases[i].body,
		    r.outcome, cases[i].outcome);
		CHECK(exit_code(r.result) == cases[i].exit, "case %zu (HTTP %ld "
		    "%.30s): exit %d, want %d", i, cases[i].status,
		    cases[i].body, exit_code(r.result), cases[i].exit);
		CHECK(v == cases[i].verdict, "case %zu: verdict %d, want %d", i,
		    v, cases[i].verdict);
		CHECK(r.why[0] != '\0' || r.outcome == OUTCOME_SUCCEEDED,
		    "case %zu: a reason", i);
		http_response_free(&r.resp);
		json_decref(r.json);
	}
	/* a gateway refusal is recorded with the service's own words */
	{
		struct api_result r;
		const char *b = "{\"Message\":\"class java.lang.String is not "
		    "an expected Json type\"}";

		memset(&r, 0, sizeof(r));
		http_response_init(&r.resp);
		r.resp.status = 400;
		CHECK(buf_add(&r.resp.body, b, strlen(b)) == 0, "gateway body");
		CHECK(api_classify(&r, HTTP_OK) == DONE &&
		    strstr(r.why, "not an expected Json type") != NULL &&
		    strstr(r.why, "HTTP 400") != NULL, "why: %s", r.why);
		http_response_free(&r.resp);
		json_decref(r.json);
	}
	/* and the likely cause of each gateway refusal is named */
	{
		struct triage_in t;
		char out[512];

		memset(&t, 0, sizeof(t));
		t.host = "agcod-v2-gamma.amazon.com";
		t.region = "us-east-1";
		t.access_key_id = "AKID";
		t.http_status = 400;
		t.type = "com.amazon.coral.service#UnknownOperationException";
		CHECK(triage_verdict(&t, out, sizeof(out)) &&
		    strstr(out, "operation") && strstr(out, "--endpoint"),
		    "unknown operation: %s", out);
		t.type = NULL;
		t.message = "class java.lang.String is not an expected Json type";
		CHECK(triage_verdict(&t, out, sizeof(out)) &&
		    strstr(out, "body") && strstr(out, "sign-debug"),
		    "body not read: %s", out);
		t.message = NULL;
		t.http_status = 415;
		CHECK(triage_verdict(&t, out, sizeof(out)) &&
		    strstr(out, "content-type"), "media type: %s", out);
	}
}
