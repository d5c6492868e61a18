/*
 * fuzz_opreq.c - named inputs -> op_prepare -> api_body: whatever is
 * accepted becomes a body that parses as JSON and carries exactly what was
 * given (partner, request id, amount as typed, every text byte for byte).
 * Input: one byte picks the operation, then the opreq_in members in the
 * order of op_options[], one a line; an empty line is "not given".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "../../src/api.h"
#include "../../src/msg.h"
#include "../../src/send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
body_str(json_t *b, const char *obj, const char *key)
{
	if (obj)
		b = json_object_get(b, obj);
	return json_string_value(json_object_get(b, key));
}

static void
same(const char *got, const char *want)
{
	if (want && (got == NULL || strcmp(got, want) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile p;
	char text[2048], *s, *line, why[512], amt[AMOUNT_TEXT_MAX];
	struct buf body = BUF_INIT(64 * 1024);
	const struct op *op;
	struct opreq_in in;
	struct opreq r;
	json_t *b, *v;
	size_t i;

	if (size < 1 || size >= sizeof(text))
		return 0;
	msg_verbosity = -1;
	if (p.region == NULL) {
		strlcpy(p.partner_id, "Acme1", sizeof(p.partner_id));
		strlcpy(p.currency, "USD", sizeof(p.currency));
		p.region = region_find("na");
	}
	op = &ops[data[0] % nops];
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(&in, 0, sizeof(in));
	s = text;
	for (i = 0; i < nop_options; i++) {
		const char **dst = op_input(&in, i);

		if (dst == NULL)
			continue;
		if ((line = strsep(&s, "\n")) == NULL)
			break;
		if (*line)
			*dst = line;
	}
	if (op_prepare(&p, NULL, op, &in, 0, &r, why, sizeof(why)) !=
	    AGCOD_OK)
		return 0;
	if (api_body(&p, &r, &body) == -1)
		abort();	/* a checked request always has a body */
	if ((b = json_loadb(body.data, body.len, JSON_DECODE_INT_AS_REAL |
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		abort();
	same(body_str(b, NULL, "partnerId"), "Acme1");
	if (op->id_field)
		same(body_str(b, NULL, op->id_field), r.request_id);
	if (op->fields & (F_VALUE | F_AMOUNT)) {
		amount_format(&r.amount, amt, sizeof(amt));
		if (op->fields & F_AMOUNT)
			same(body_str(b, "amount", "value"), amt);
		v = json_object_get(json_object_get(b, "value"), "amount");
		if ((op->fields & F_VALUE) && !json_is_number(v))
			abort();
		/* the number's text in the body is the amount as typed */
		if ((op->fields & F_VALUE) && strstr(body.data, amt) == NULL)
			abort();
	}
	same(body_str(b, NULL, "externalReference"), r.text.extref);
	same(body_str(b, NULL, "programId"), r.text.program_id);
	same(body_str(b, NULL, "productType"), r.text.product_type);
	same(body_str(b, NULL, "gcId"), r.text.gc_id);
	same(body_str(b, NULL, "cardNumber"), r.text.card_number);
	same(body_str(b, "account", "id"), r.text.account_id);
	same(body_str(b, "transactionSource", "sourceId"), r.text.source_id);
	json_decref(b);
	buf_free(&body);
	opreq_free(&r);
	return 0;
}
