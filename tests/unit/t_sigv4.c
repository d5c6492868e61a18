/* t_sigv4.c - the signer against every vector of the AWS SigV4 suite */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/rawreq.h"
#include "../../src/sigv4.h"
#include "unit.h"

static const char *vectors[] = {
	"get-header-key-duplicate", "get-header-value-multiline",
	"get-header-value-order", "get-header-value-trim", "get-unreserved",
	"get-utf8", "get-vanilla", "get-vanilla-empty-query-key",
	"get-vanilla-query", "get-vanilla-query-order-encoded",
	"get-vanilla-query-order-key", "get-vanilla-query-order-key-case",
	"get-vanilla-query-order-value", "get-vanilla-query-unreserved",
	"get-vanilla-utf8-query", "get-vanilla-with-session-token",
	"normalize-path/get-relative", "normalize-path/get-relative-relative",
	"normalize-path/get-slash", "normalize-path/get-slash-dot-slash",
	"normalize-path/get-slash-pointless-dot", "normalize-path/get-slashes",
	"normalize-path/get-space", "normalize-path/get-special-character",
	"post-header-key-case", "post-header-key-sort",
	"post-header-value-case", "post-sts-token/post-sts-header-after",
	"post-sts-token/post-sts-header-before", "post-vanilla",
	"post-vanilla-empty-query-value", "post-vanilla-query",
	"post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters",
};

static const char SECRET[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static char *
vector_file(const char *name, const char *ext)
{
	char path[1024];
	const char *base = strrchr(name, '/');
	char *s;
	size_t n, i, o;

	snprintf(path, sizeof(path), "%s/aws-sig-v4-test-suite/%s/%s.%s",
	    unit_data_dir, name, base ? base + 1 : name, ext);
	if ((s = unit_slurp(path, &n)) == NULL)
		return NULL;
	if (strcmp(ext, "req") && strcmp(ext, "sreq")) {
		/* botocore strips CR from the expected files; so do we */
		for (i = o = 0; i < n; i++)
			if (s[i] != '\r')
				s[o++] = s[i];
		s[o] = '\0';
	}
	return s;
}

/* get-vanilla-with-session-token signs a token that only its .creq shows */
static char *
session_token(const char *creq)
{
	const char *p = strstr(creq, "x-amz-security-token:"), *e;
	char *t;

	if (p == NULL)
		return NULL;
	p += strlen("x-amz-security-token:");
	e = strchr(p, '\n');
	t = strndup(p, (size_t)(e ? e - p : (long)strlen(p)));
	return t;
}

static void
sign_raw(const char *text, const char *extra_token, struct sigv4_output *o,
    struct rawreq *r, int *ok)
{
	struct sigv4_header hdrs[RAWREQ_MAX_HEADERS + 1];
	struct sigv4_input in;
	struct sigv4_authz z;
	char err[256];
	time_t when;
	size_t n, i;

	*ok = 0;
	if (rawreq_parse(text, strlen(text), r, err, sizeof(err)) == -1) {
		fprintf(stderr, "parse: %s\n", err);
		return;
	}
	/* a verifier signs what the Authorization header says was signed */
	if (r->authorization)
		CHECK(sigv4_parse_authz(r->authorization, &z) == 0,
		    "authorization parses");
	for (i = n = 0; i < r->nheaders; i++)
		if (!r->authorization ||
		    sigv4_header_listed(z.signed_headers, r->headers[i].name))
			hdrs[n++] = r->headers[i];
	if (extra_token && rawreq_header(r, "x-amz-security-token") == NULL &&
	    !r->authorization) {
		hdrs[n].name = "X-Amz-Security-Token";
		hdrs[n++].value = extra_token;
	}
	sigv4_parse_date("20150830T123600Z", &when);
	rawreq_sigv4_input(r, &in);
	in.headers = hdrs;
	in.nheaders = n;
	in.access_key_id = "AKIDEXAMPLE";
	in.secret = SECRET;
	in.secret_len = strlen(SECRET);
	in.region = "us-east-1";
	in.service = "service";
	in.when = when;
	*ok = sigv4_sign(&in, o) == 0;
}

static void
test_vector(const char *name)
{
	char *req = vector_file(name, "req"), *creq = vector_file(name, "creq");
	char *sts = vector_file(name, "sts"), *authz = vector_file(name, "authz");
	char *sreq = vector_file(name, "sreq"), *tok;
	struct sigv4_output o, o2;
	struct rawreq r, r2;
	int ok;

	CHECK(req && creq && sts && authz && sreq, "%s: vector files", name);
	if (!(req && creq && sts && authz && sreq))
		goto done;
	tok = session_token(creq);
	sign_raw(req, tok, &o, &r, &ok);
	CHECK(ok, "%s: signs", name);
	if (ok) {
		CHECK_STR(o.canonical_request, creq, "%s: canonical request",
		    name);
		CHECK_STR(o.string_to_sign, sts, "%s: string to sign", name);
		CHECK_STR(o.authorization, authz, "%s: authorization", name);
		sigv4_output_free(&o);
		rawreq_free(&r);
	}
	/*
	 * The .sreq carries the Authorization header: signing it again must
	 * reproduce that header.  get-vanilla-with-session-token's .sreq holds
	 * get-vanilla's signature (see the suite's README), so it must differ.
	 */
	sign_raw(sreq, tok, &o2, &r2, &ok);
	CHECK(ok && r2.authorization, "%s: sreq parses", name);
	if (ok && r2.authorization) {
		int same = strcmp(r2.authorization, o2.authorization) == 0;

		if (strcmp(name, "get-vanilla-with-session-token") == 0)
			CHECK(!same, "%s: known-bad sreq must not verify", name);
		else
			CHECK(same, "%s: sreq verifies", name);
	}
	if (ok) {
		sigv4_output_free(&o2);
		rawreq_free(&r2);
	}
	free(tok);
done:
	free(req);
	free(creq);
	free(sts);
	free(authz);
	free(sreq);
}

/* the AGCOD vector: Amazon's signing example, hashes computed apart from agcod */
static void
test_agcod_vector(void)
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
	unsigned char key[SIGV4_KEY_LEN];
	char hex[SIGV4_HEX_LEN + 1];
	struct sigv4_output o;
	struct sigv4_input in;

	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.path = "/CreateGiftCard";
	in.headers = h;
	in.nheaders = 5;
	in.body = body;
	in.body_len = strlen(body);
	in.access_key_id = "AKIAJBYCL67O6NJUNYBQ";
	in.secret = SECRET;
	in.secret_len = strlen(SECRET);
	in.region = "us-east-1";
	in.service = "AGCODService";
	sigv4_parse_date("20130910T222620Z", &in.when);
	CHECK(sigv4_sign(&in, &o) == 0, "agcod vector signs");
	CHECK_STR(o.payload_hash,
	    "6193dc333ef1db9edae1f17989c71ce5f1939706a79be5bb924fc2e92bc23961",
	    "agcod payload hash");
	CHECK_STR(o.creq_hash,
	    "4709b2544a773facf010da97ce94fa580f080394bfa85a53daff50469e0368d1",
	    "agcod canonical request hash");
	CHECK_STR(o.signature,
	    "3678156aeab17149396d76e8e6ce282612030585ff85e20fd95cba12c40030ca",
	    "agcod signature");
	sigv4_output_free(&o);
	CHECK(sigv4_signing_key(SECRET, strlen(SECRET), "20130910", "us-east-1",
	    "AGCODService", 0, key) == 0, "signing key");
	sigv4_hex(key, sizeof(key), hex);
	CHECK_STR(hex,
	    "7113452f5d22ac2a87644d23ff7389f08ba0fbd166660e2f83b9d07dcd26d1ff",
	    "agcod signing key");

	/* each mistake changes the signature */
	{
		static const unsigned m[] = { SIGV4_M_SWAPPED_HMAC,
		    SIGV4_M_NO_AWS4_PREFIX, SIGV4_M_HEX_KEYS,
		    SIGV4_M_UNSORTED, SIGV4_M_NAME_CASE };
		size_t i;

		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			struct sigv4_header hh[5];

			memcpy(hh, h, sizeof(hh));
			hh[0] = h[4];	/* an unsorted order */
			hh[4] = h[0];
			hh[2].name = "Host";
			in.headers = hh;
			in.mistakes = m[i];
			CHECK(sigv4_sign(&in, &o) == 0 && strcmp(o.signature,
			    "3678156aeab17149396d76e8e6ce282612030585ff85e20f"
			    "d95cba12c40030ca") != 0, "mistake %u differs", m[i]);
			sigv4_output_free(&o);
		}
	}
}

/*
 * Issue 13: the AGCOD vector's headers given in another order, with names
 * in mixed case and values padded, sign to the same signature: the signer
 * sorts, lower-cases and trims.  And under a zone far from UTC the dates and
 * the signature are the same as under UTC.
 */
static const char AGCOD_SIG[] =
    "3678156aeab17149396d76e8e6ce282612030585ff85e20fd95cba12c40030ca";

static void
sign_agcod_vector(const struct sigv4_header *h, size_t nh, char *sig,
    char *date)
{
	static const char body[] = "{\"creationRequestId\": \"AwssbTSpecTest001\", "
	    "\"partnerId\": \"Awssb\", \"value\": {\"currencyCode\": \"USD\", "
	    "\"amount\": 1.00}}";
	struct sigv4_output o;
	struct sigv4_input in;

	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.path = "/CreateGiftCard";
	in.headers = h;
	in.nheaders = nh;
	in.body = body;
	in.body_len = strlen(body);
	in.access_key_id = "AKIAJBYCL67O6NJUNYBQ";
	in.secret = SECRET;
	in.secret_len = strlen(SECRET);
	in.region = "us-east-1";
	in.service = "AGCODService";
	sig[0] = date[0] = '\0';
	if (sigv4_parse_date("20130910T222620Z", &in.when) == -1)
		return;
	if (sigv4_sign(&in, &o) == 0) {
		memcpy(sig, o.signature, SIGV4_HEX_LEN + 1);
		memcpy(date, o.amz_date, 17);
	}
	sigv4_output_free(&o);
}

static void
test_header_sorting(void)
{
	static const struct sigv4_header orders[][5] = {
		{ { "x-amz-target", "com.amazonaws.agcod.AGCODService.CreateGiftCard" },
		  { "x-amz-date", "20130910T222620Z" },
		  { "host", "agcod-v2-gamma.amazon.com" },
		  { "content-type", "application/json" },
		  { "accept", "application/json" } },
		{ { "Host", "agcod-v2-gamma.amazon.com" },
		  { "X-Amz-Target", "com.amazonaws.agcod.AGCODService.CreateGiftCard" },
		  { "Accept", "application/json" },
		  { "X-AMZ-DATE", "20130910T222620Z" },
		  { "Content-Type", "application/json" } },
		{ { "content-type", "  application/json " },
		  { "HOST", "\tagcod-v2-gamma.amazon.com" },
		  { "accept", "application/json   " },
		  { "x-amz-target", " com.amazonaws.agcod.AGCODService.CreateGiftCard" },
		  { "x-Amz-Date", "20130910T222620Z" } },
	};
	char sig[SIGV4_HEX_LEN + 1], date[17];
	size_t i;

	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		sign_agcod_vector(orders[i], 5, sig, date);
		CHECK_STR(sig, AGCOD_SIG, "header order %zu signs the same", i);
	}
}

static void
test_dates_other_zone(void)
{
	static const char *zones[] = { "Pacific/Chatham", "America/St_Johns",
	    "Asia/Kathmandu", "Etc/GMT+12" };
	const struct sigv4_header h[] = {
		{ "accept", "application/json" },
		{ "content-type", "application/json" },
		{ "host", "agcod-v2-gamma.amazon.com" },
		{ "x-amz-date", "20130910T222620Z" },
		{ "x-amz-target", "com.amazonaws.agcod.AGCODService.CreateGiftCard" },
	};
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	char sig[SIGV4_HEX_LEN + 1], date[17], back[17];
	size_t i;
	time_t t;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		setenv("TZ", zones[i], 1);
		tzset();
		CHECK(sigv4_parse_date("20150830T123600Z", &t) == 0 &&
		    t == 1440938160, "parse date under TZ=%s", zones[i]);
		CHECK(sigv4_format_date(1440938160, back) == 0 &&
		    strcmp(back, "20150830T123600Z") == 0,
		    "format date under TZ=%s: %s", zones[i], back);
		/* 23:30 UTC is already the next day east of UTC */
		CHECK(sigv4_format_date(1440977400, back) == 0 &&
		    strcmp(back, "20150830T233000Z") == 0,
		    "late UTC evening under TZ=%s: %s", zones[i], back);
		sign_agcod_vector(h, 5, sig, date);
		CHECK_STR(sig, AGCOD_SIG, "signature under TZ=%s", zones[i]);
		CHECK_STR(date, "20130910T222620Z", "x-amz-date under TZ=%s",
		    zones[i]);
	}
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else
		unsetenv("TZ");
	tzset();
}

/* the key chain step by step, against tests/lib/sigv4ref.py */
static void
test_key_chain_steps(void)
{
	static const struct {
		int		 no_prefix;
		unsigned	 swap, hex;
		const char	*want;
	} cases[] = {
		{ 0, 0, 0, "7113452f5d22ac2a87644d23ff7389f08ba0fbd166660e2f83b9d07dcd26d1ff" },
		{ 0, SIGV4_STEP(1), 0, "fdc533df46fd3c02c71bf1b84c647290ffda8ec71e3ccba8db13e23d12c83d29" },
		{ 0, 0, SIGV4_STEP(2) | SIGV4_STEP(3) | SIGV4_STEP(4),
		  "1aff0d44857e2c0f0d87f3ff2b4e603c86c46bc18bae704c3f54f3b47331c3bc" },
		{ 0, SIGV4_CHAIN_STEPS, 0, "1488b0b5420937887e1502cbd32fff2b1317b933d7edfd042b626d38d17a9a00" },
		{ 1, 0, 0, "82f9c7181bc08a62d8f68f3bfc557f08cc7b42cbd4d4c0e3a0ddaf368d5bcdc4" },
	};
	unsigned char key[SIGV4_KEY_LEN];
	char hex[SIGV4_HEX_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(sigv4_key_chain(SECRET, strlen(SECRET), cases[i].no_prefix,
		    "20130910", "us-east-1", "AGCODService", cases[i].swap,
		    cases[i].hex, key) == 0, "key chain %zu", i);
		sigv4_hex(key, sizeof(key), hex);
		CHECK_STR(hex, cases[i].want, "key chain case %zu", i);
	}
	explicit_bzero(key, sizeof(key));
}

static void
test_dates(void)
{
	static const char *bad[] = { "", "20150830T123600", "2015083OT123600Z",
	    "20150230T123600Z", "20151301T000000Z", "20150830T246000Z",
	    "20150830X123600Z" };
	char back[17];
	time_t t;
	size_t i;

	CHECK(sigv4_parse_date("20150830T123600Z", &t) == 0 && t == 1440938160,
	    "parse date");
	CHECK(sigv4_format_date(t, back) == 0 &&
	    strcmp(back, "20150830T123600Z") == 0, "format date");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(sigv4_parse_date(bad[i], &t) == -1, "bad date '%s'",
		    bad[i]);
}

/* one signature of the AGCOD vector's request, with or without a cache */
static void
sign_once(const char *secret, const char *region, time_t when,
    struct sigv4_cache *cache, unsigned mistakes, char sig[SIGV4_HEX_LEN + 1])
{
	static const char body[] = "{\"partnerId\": \"Awssb\"}";
	struct sigv4_header h[] = {
		{ "host", "agcod-v2-gamma.amazon.com" },
		{ "x-amz-date", "ignored: the signer writes its own" },
	};
	struct sigv4_output o;
	struct sigv4_input in;

	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.path = "/GetAvailableFunds";
	in.headers = h;
	in.nheaders = 2;
	in.body = body;
	in.body_len = strlen(body);
	in.access_key_id = "AKIAJBYCL67O6NJUNYBQ";
	in.secret = secret;
	in.secret_len = strlen(secret);
	in.region = region;
	in.service = "AGCODService";
	in.when = when;
	in.cache = cache;
	in.mistakes = mistakes;
	sig[0] = '\0';
	if (sigv4_sign(&in, &o) == 0)
		memcpy(sig, o.signature, SIGV4_HEX_LEN + 1);
	sigv4_output_free(&o);
}

/* the day's key cache gives the signatures a fresh derivation gives */
static void
test_key_cache(void)
{
	static const struct {
		const char	*secret;
		const char	*region;
		time_t		 when;
		unsigned	 mistakes;
	} seq[] = {
		{ SECRET, "us-east-1", 1440938160, 0 },
		{ SECRET, "us-east-1", 1440938161, 0 },	/* same day: cached */
		{ SECRET, "us-east-1", 1440938160 + 86400, 0 },	/* next day */
		{ SECRET, "eu-west-1", 1440938160 + 86400, 0 },	/* region */
		{ "another/secret+key", "eu-west-1", 1440938160 + 86400, 0 },
		{ "another/secret+key", "eu-west-1", 1440938160 + 86400,
		    SIGV4_M_HEX_KEYS },	/* mistakes never come from the cache */
		{ "another/secret+key", "eu-west-1", 1440938160 + 86400, 0 },
		{ SECRET, "us-east-1", 1440938160, 0 },	/* back again */
	};
	struct sigv4_cache cache;
	char want[SIGV4_HEX_LEN + 1], got[SIGV4_HEX_LEN + 1];
	const unsigned char *p;
	size_t i, nonzero = 0;

	memset(&cache, 0, sizeof(cache));
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		sign_once(seq[i].secret, seq[i].region, seq[i].when, NULL,
		    seq[i].mistakes, want);
		sign_once(seq[i].secret, seq[i].region, seq[i].when, &cache,
		    seq[i].mistakes, got);
		CHECK(want[0] != '\0' && strcmp(got, want) == 0,
		    "cached signature %zu: got %s, want %s", i, got, want);
	}
	CHECK(cache.valid && strcmp(cache.date, "20150830") == 0 &&
	    strcmp(cache.region, "us-east-1") == 0, "the cache holds the "
	    "last key");
	CHECK(memmem(&cache, sizeof(cache), SECRET, strlen(SECRET)) == NULL,
	    "the cache holds no copy of the secret");
	sigv4_cache_clear(&cache);
	for (p = (const unsigned char *)&cache; p < (const unsigned char *)
	    (&cache + 1); p++)
		nonzero += *p != 0;
	CHECK(nonzero == 0, "sigv4_cache_clear wipes the cache");
}

void
test_sigv4(void)
{
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		test_vector(vectors[i]);
	test_agcod_vector();
	test_key_cache();
	test_dates();
	test_header_sorting();
	test_dates_other_zone();
	test_key_chain_steps();
}
