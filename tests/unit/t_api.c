/* t_api.c - request bodies for every operation, byte for byte */
#include <string.h>

#include <bsd/string.h>

#include "../../src/api.h"
#include "../../src/triage.h"
#include "unit.h"

static void
body_is(const char *cmd, const struct opreq *proto, const char *want)
{
	struct profile p;
	struct opreq r = *proto;
	struct buf b = BUF_INIT(4096);

	memset(&p, 0, sizeof(p));
	strlcpy(p.partner_id, "Acme1", sizeof(p.partner_id));
	r.op = op_find(cmd);
	CHECK(r.op != NULL, "op %s", cmd);
	if (r.op == NULL)
		return;
	CHECK(api_body(&p, &r, &b) == 0, "%s body", cmd);
	CHECK_STR(b.data, want, "%s body bytes", cmd);
	buf_free(&b);
}

void
test_api(void)
{
	struct opreq r;
	const char *why;

	memset(&r, 0, sizeof(r));
	strlcpy(r.request_id, "Acme1X", sizeof(r.request_id));
	r.cur = currency_find("USD");
	amount_parse("19.99", r.cur, &r.amount, &why);
	r.text.gc_id = "GC1";
	r.text.card_number = "1400000005567585358";
	r.text.account_id = "amz1.account.1";
	r.text.account_type = "2";
	r.text.source_id = "Customer Service";
	r.text.extref = "order \"7\"";
	body_is("create", &r, "{\"creationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"value\": {\"currencyCode\": \"USD\", "
	    "\"amount\": 19.99}, \"externalReference\": \"order \\\"7\\\"\"}");
	body_is("cancel", &r, "{\"creationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"gcId\": \"GC1\"}");
	body_is("funds", &r, "{\"partnerId\": \"Acme1\"}");
	body_is("load", &r, "{\"loadBalanceRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"amount\": {\"currencyCode\": \"USD\", "
	    "\"value\": \"19.99\"}, \"transactionSource\": {\"sourceId\": "
	    "\"Customer Service\"}, \"account\": {\"id\": \"amz1.account.1\", "
	    "\"type\": \"2\"}, \"externalReference\": \"order \\\"7\\\"\"}");
	body_is("void", &r, "{\"loadBalanceRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"amount\": {\"currencyCode\": \"USD\", "
	    "\"value\": \"19.99\"}, \"transactionSource\": {\"sourceId\": "
	    "\"Customer Service\"}, \"account\": {\"id\": \"amz1.account.1\", "
	    "\"type\": \"2\"}, \"externalReference\": \"order \\\"7\\\"\"}");
	body_is("activate", &r, "{\"activationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"cardNumber\": \"1400000005567585358\", "
	    "\"value\": {\"currencyCode\": \"USD\", \"amount\": 19.99}}");
	body_is("deactivate", &r, "{\"activationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"cardNumber\": \"1400000005567585358\"}");
	body_is("activation-status", &r, "{\"statusCheckRequestId\": "
	    "\"Acme1X\", \"partnerId\": \"Acme1\", \"cardNumber\": "
	    "\"1400000005567585358\"}");
	r.cur = currency_find("JPY");
	amount_parse("1000", r.cur, &r.amount, &why);
	r.text.extref = NULL;
	r.text.program_id = "Prog1";
	body_is("create", &r, "{\"creationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"value\": {\"currencyCode\": \"JPY\", "
	    "\"amount\": 1000}, \"programId\": \"Prog1\"}");
	r.text.product_type = "hwPV";
	body_is("activate", &r, "{\"activationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"cardNumber\": \"1400000005567585358\", "
	    "\"value\": {\"currencyCode\": \"JPY\", \"amount\": 1000}, "
	    "\"programId\": \"Prog1\", \"productType\": \"hwPV\"}");
	r.text.program_id = NULL;
	body_is("create", &r, "{\"creationRequestId\": \"Acme1X\", "
	    "\"partnerId\": \"Acme1\", \"value\": {\"currencyCode\": \"JPY\", "
	    "\"amount\": 1000}, \"productType\": \"hwPV\"}");
	CHECK(op_find("bogus") == NULL, "unknown op");
	CHECK(nops == 8, "eight operations");
}

/* triage: each verdict from its evidence alone */
void
test_triage(void)
{
	struct triage_in t;
	char out[512];

	memset(&t, 0, sizeof(t));
	t.http_status = 403;
	t.host = "agcod-v2-gamma.amazon.com";
	t.region = "eu-west-1";
	t.access_key_id = "AKID";
	CHECK(triage_verdict(&t, out, sizeof(out)) &&
	    strstr(out, "region mismatch") && strstr(out, "'us-east-1'"),
	    "known host, wrong region: %s", out);
	t.region = "us-east-1";
	t.have_skew = 1;
	t.skew = -1000;
	CHECK(triage_verdict(&t, out, sizeof(out)) &&
	    strstr(out, "1000 s ahead of"), "skew ahead: %s", out);
	t.skew = 10;
	t.message = "The security token included in the request is invalid.";
	t.production = 1;
	CHECK(triage_verdict(&t, out, sizeof(out)) &&
	    strstr(out, "unknown access key") && strstr(out, "production key"),
	    "unknown key: %s", out);
	t.message = "Signature expired: 20260101T000000Z is now earlier than x";
	t.have_skew = 0;
	CHECK(triage_verdict(&t, out, sizeof(out)) && strstr(out, "clock skew"),
	    "expired without a Date header: %s", out);
	t.message = NULL;
	t.type = "InvalidSignatureException";
	CHECK(triage_verdict(&t, out, sizeof(out)) &&
	    strstr(out, "signature mismatch"), "bad signature: %s", out);
	t.type = NULL;
	t.http_status = 400;
	CHECK(triage_verdict(&t, out, sizeof(out)) == 0, "no verdict");
}
