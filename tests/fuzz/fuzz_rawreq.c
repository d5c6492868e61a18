/* fuzz_rawreq.c - sign-debug's raw request parser, and signing what it gives */
#include <stdint.h>
#include <string.h>

#include "../../src/rawreq.h"
#include "../../src/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_authz z;
	struct sigv4_output o;
	struct sigv4_input in;
	struct rawreq r;
	char err[256];

	if (rawreq_parse((const char *)data, size, &r, err, sizeof(err)) == -1)
		return 0;
	if (r.authorization)
		sigv4_parse_authz(r.authorization, &z);
	rawreq_sigv4_input(&r, &in);
	in.access_key_id = "AKIDFUZZ";
	in.secret = "secret";
	in.secret_len = 6;
	in.region = "us-east-1";
	in.service = "AGCODService";
	in.when = 1440938160;
	in.mistakes = size & 63;
	if (sigv4_sign(&in, &o) == 0)
		sigv4_output_free(&o);
	rawreq_free(&r);
	return 0;
}
