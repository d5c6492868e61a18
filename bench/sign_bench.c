/*
 * sign_bench.c - signatures per second of src/sigv4.c on an AGCOD
 * CreateGiftCard request (the five signed headers, a 114-byte body).
 * Prints "sigv4 <ns per signature> ns <signatures per second>/s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/sigv4.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* n signatures of in; prints the figures under the name */
static int
run(const char *name, const struct sigv4_input *in, long n)
{
	struct sigv4_output o;
	double t0, t;
	long i;

	t0 = now();
	for (i = 0; i < n; i++) {
		if (sigv4_sign(in, &o) == -1)
			return -1;
		sigv4_output_free(&o);
	}
	t = now() - t0;
	printf("sigv4 %s %.0f ns %.0f/s\n", name, t / n * 1e9, n / t);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char body[] = "{\"creationRequestId\": \"AwssbTSpecTest001\", "
	    "\"partnerId\": \"Awssb\", \"value\": {\"currencyCode\": \"USD\", "
	    "\"amount\": 1.00}}";
	struct sigv4_header h[] = {
		{ "accept", "application/json" },
		{ "content-type", "application/json" },
		{ "host", "agcod-v2-gamma.amazon.com" },
		{ "x-amz-date", "20130910T222620Z" },
		{ "x-amz-target", "com.amazonaws.agcod.AGCODService.CreateGiftCard" },
	};
	const char *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000, i;
	struct sigv4_cache cache;
	struct sigv4_output o;
	struct sigv4_input in;
	int r;

	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.path = "/CreateGiftCard";
	in.headers = h;
	in.nheaders = 5;
	in.body = body;
	in.body_len = strlen(body);
	in.access_key_id = "AKIAJBYCL67O6NJUNYBQ";
	in.secret = secret;
	in.secret_len = strlen(secret);
	in.region = "us-east-1";
	in.service = "AGCODService";
	sigv4_parse_date("20130910T222620Z", &in.when);
	for (i = 0; i < 1000; i++) {	/* warm up */
		sigv4_sign(&in, &o);
		sigv4_output_free(&o);
	}
	if (run("cold", &in, n) == -1)
		return 1;

	/* within one day: the signing key comes from the cache */
	memset(&cache, 0, sizeof(cache));
	in.cache = &cache;
	r = run("warm", &in, n);
	sigv4_cache_clear(&cache);
	return r == -1;
}
