/*
 * sigv4.c - AWS Signature Version 4.
 *
 * A pure function: the request, the keys and the time go in; the canonical
 * request, string to sign, scope, signature and Authorization header come
 * out.  Hashes through mbedTLS's md API (2.28 and 3.x alike).  Every buffer
 * that held the secret or a key derived from it is wiped before returning.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>
#include <mbedtls/md.h>

#include "buf.h"
#include "sigv4.h"

#define CREQ_MAX	(1024 * 1024)
#define SECRET_MAX	1024

static const mbedtls_md_info_t *
sha256(void)
{
	return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
}

void
sigv4_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sigv4_sha256_hex(const void *p, size_t n, char hex[SIGV4_HEX_LEN + 1])
{
	unsigned char md[32];

	if (mbedtls_md(sha256(), p, n, md) != 0)
		return -1;
	sigv4_hex(md, sizeof(md), hex);
	return 0;
}

static int
hmac(const unsigned char *key, size_t klen, const void *data, size_t dlen,
    unsigned char out[32])
{
	return mbedtls_md_hmac(sha256(), key, klen, data, dlen, out) ? -1 : 0;
}

int
sigv4_format_date(time_t t, char amz_date[17])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return -1;
	return 0;
}

int
sigv4_parse_date(const char *s, time_t *out)
{
	struct tm tm;
	int i;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
	tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*out = timegm(&tm);
	/* reject dates that timegm silently normalised (Feb 30) */
	{
		char back[17];

		if (sigv4_format_date(*out, back) == -1 ||
		    memcmp(back, s, 8) != 0)
			return -1;
	}
	return 0;
}

/*
 * One HMAC step, with the mistakes people make in it: the key passed on as
 * hex text (only a 32-byte derived key has a hex form people confuse it
 * with), key and data swapped.
 */
static int
step(const unsigned char *key, size_t klen, const void *data, size_t dlen,
    int swap, int hex, unsigned char out[32])
{
	char hexkey[2 * 32 + 1];
	int r;

	if (hex && klen == 32) {
		sigv4_hex(key, klen, hexkey);
		key = (const unsigned char *)hexkey;
		klen = 64;
	}
	if (swap)
		r = hmac((const unsigned char *)data, dlen, key, klen, out);
	else
		r = hmac(key, klen, data, dlen, out);
	explicit_bzero(hexkey, sizeof(hexkey));
	return r;
}

int
sigv4_key_chain(const char *secret, size_t secret_len, int no_prefix,
    const char *date8, const char *region, const char *service,
    unsigned swap, unsigned hex, unsigned char key[SIGV4_KEY_LEN])
{
	unsigned char ksecret[4 + SECRET_MAX];
	unsigned char k1[32], k2[32], k3[32];
	size_t klen;
	int r = -1;

	if (secret_len > SECRET_MAX)
		return -1;
	klen = 0;
	if (!no_prefix) {
		memcpy(ksecret, "AWS4", 4);
		klen = 4;
	}
	memcpy(ksecret + klen, secret, secret_len);
	klen += secret_len;
	/* the first step keys with the secret text itself, never its hex */
	if (step(ksecret, klen, date8, strlen(date8), swap & SIGV4_STEP(1), 0,
	    k1) == 0 &&
	    step(k1, 32, region, strlen(region), swap & SIGV4_STEP(2),
	    hex & SIGV4_STEP(2), k2) == 0 &&
	    step(k2, 32, service, strlen(service), swap & SIGV4_STEP(3),
	    hex & SIGV4_STEP(3), k3) == 0 &&
	    step(k3, 32, "aws4_request", 12, swap & SIGV4_STEP(4),
	    hex & SIGV4_STEP(4), key) == 0)
		r = 0;
	explicit_bzero(ksecret, sizeof(ksecret));
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k2, sizeof(k2));
	explicit_bzero(k3, sizeof(k3));
	return r;
}

int
sigv4_final_step(const unsigned char key[SIGV4_KEY_LEN], const char *sts,
    size_t sts_len, unsigned swap, unsigned hex,
    char signature[SIGV4_HEX_LEN + 1])
{
	unsigned char sig[32];
	int r;

	r = step(key, SIGV4_KEY_LEN, sts, sts_len, swap & SIGV4_STEP(5),
	    hex & SIGV4_STEP(5), sig);
	if (r == 0)
		sigv4_hex(sig, sizeof(sig), signature);
	explicit_bzero(sig, sizeof(sig));
	return r;
}

int
sigv4_signing_key(const char *secret, size_t secret_len, const char *date8,
    const char *region, const char *service, unsigned mistakes,
    unsigned char key[SIGV4_KEY_LEN])
{
	return sigv4_key_chain(secret, secret_len,
	    (mistakes & SIGV4_M_NO_AWS4_PREFIX) != 0, date8, region, service,
	    mistakes & SIGV4_M_SWAPPED_HMAC ? SIGV4_CHAIN_STEPS : 0,
	    mistakes & SIGV4_M_HEX_KEYS ? SIGV4_CHAIN_STEPS & ~SIGV4_STEP(1) :
	    0, key);
}

/* RFC 3986 unreserved characters stay; everything else is %XX. */
static int
uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' ||
		    c == '~' || (keep_slash && c == '/')) {
			if (buf_addc(b, (char)c) == -1)
				return -1;
		} else if (buf_addc(b, '%') == -1 ||
		    buf_addc(b, hx[c >> 4]) == -1 ||
		    buf_addc(b, hx[c & 15]) == -1)
			return -1;
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* %XX-decode s[0..n) into b (a stray '%' stays as it is) */
static int
uri_decode(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			if (buf_addc(b, (char)(hi * 16 + lo)) == -1)
				return -1;
			i += 2;
		} else if (buf_addc(b, s[i]) == -1)
			return -1;
	}
	return 0;
}

/* Remove dot segments and empty segments, then encode (botocore's rule). */
static int
canonical_path(struct buf *out, const char *path, int raw)
{
	const char **seg = NULL;
	size_t *slen = NULL, nseg = 0, cap, i, plen;
	const char *p, *e;
	int r = -1;

	if (path == NULL || *path == '\0')
		path = "/";
	plen = strlen(path);
	if (raw)
		return uri_encode(out, path, plen, 1);
	cap = plen / 2 + 2;
	seg = calloc(cap, sizeof(*seg));
	slen = calloc(cap, sizeof(*slen));
	if (seg == NULL || slen == NULL)
		goto done;
	for (p = path; *p; p = *e ? e + 1 : e) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p || (e - p == 1 && p[0] == '.'))
			continue;
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg)
				nseg--;
			continue;
		}
		seg[nseg] = p;
		slen[nseg++] = (size_t)(e - p);
	}
	if (buf_addc(out, '/') == -1)
		goto done;
	for (i = 0; i < nseg; i++) {
		if (i && buf_addc(out, '/') == -1)
			goto done;
		if (uri_encode(out, seg[i], slen[i], 0) == -1)
			goto done;
	}
	if (nseg && path[plen - 1] == '/' && buf_addc(out, '/') == -1)
		goto done;
	r = 0;
done:
	free(seg);
	free(slen);
	return r;
}

struct qparam {
	char *key;
	char *val;
};

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->val, y->val);
}

static char *
decode_encode(const char *s, size_t n)
{
	struct buf dec = BUF_INIT(CREQ_MAX), enc = BUF_INIT(CREQ_MAX);
	char *r = NULL;

	if (uri_decode(&dec, s, n) == 0 &&
	    uri_encode(&enc, buf_str(&dec), dec.len, 0) == 0)
		r = buf_steal(&enc);
	buf_free(&dec);
	buf_free(&enc);
	return r;
}

/* Decode each name and value, encode them the AWS way, sort by both. */
static int
canonical_query(struct buf *out, const char *q)
{
	struct qparam *v = NULL;
	size_t n = 0, cap = 1, i;
	const char *p, *e, *eq;
	int r = -1;

	if (q == NULL || *q == '\0')
		return 0;
	for (p = q; *p; p++)
		cap += *p == '&';
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return -1;
	for (p = q; ; p = e + 1) {
		e = strchr(p, '&');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p) {
			eq = memchr(p, '=', (size_t)(e - p));
			if (eq == NULL)
				eq = e;
			v[n].key = decode_encode(p, (size_t)(eq - p));
			v[n].val = decode_encode(eq < e ? eq + 1 : e,
			    eq < e ? (size_t)(e - eq - 1) : 0);
			n++;
			if (v[n - 1].key == NULL || v[n - 1].val == NULL)
				goto done;
		}
		if (*e == '\0')
			break;
	}
	qsort(v, n, sizeof(*v), qparam_cmp);
	for (i = 0; i < n; i++)
		if ((i && buf_addc(out, '&') == -1) ||
		    buf_printf(out, "%s=%s", v[i].key, v[i].val) == -1)
			goto done;
	r = 0;
done:
	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].val);
	}
	free(v);
	return r;
}

struct chdr {
	char	*name;
	char	*value;
	size_t	 order;
};

static int
chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Trim, and fold every run of white space (obs-fold included) to one space. */
static char *
fold_value(const char *v, int untrimmed)
{
	size_t n = strlen(v), i, o = 0;
	char *r = malloc(n + 1);
	int sp = 0;

	if (r == NULL)
		return NULL;
	if (untrimmed) {
		memcpy(r, v, n + 1);
		return r;
	}
	for (i = 0; i < n; i++) {
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
		    v[i] == '\n') {
			sp = o > 0;
			continue;
		}
		if (sp)
			r[o++] = ' ';
		sp = 0;
		r[o++] = v[i];
	}
	r[o] = '\0';
	return r;
}

static int
canonical_headers(struct buf *ch, struct buf *sh,
    const struct sigv4_input *in)
{
	struct chdr *h;
	size_t i, j;
	int r = -1;

	if ((h = calloc(in->nheaders + 1, sizeof(*h))) == NULL)
		return -1;
	for (i = 0; i < in->nheaders; i++) {
		h[i].order = i;
		h[i].name = strdup(in->headers[i].name);
		h[i].value = fold_value(in->headers[i].value,
		    in->mistakes & SIGV4_M_UNTRIMMED);
		if (h[i].name == NULL || h[i].value == NULL)
			goto done;
		if (!(in->mistakes & SIGV4_M_NAME_CASE))
			for (j = 0; h[i].name[j]; j++)
				h[i].name[j] = (char)tolower(
				    (unsigned char)h[i].name[j]);
	}
	if (!(in->mistakes & SIGV4_M_UNSORTED))
		qsort(h, in->nheaders, sizeof(*h), chdr_cmp);
	for (i = 0; i < in->nheaders; i = j) {
		if (buf_adds(ch, h[i].name) == -1 || buf_addc(ch, ':') == -1 ||
		    buf_adds(ch, h[i].value) == -1)
			goto done;
		/* repeated names merge into one line, values in sent order */
		for (j = i + 1; j < in->nheaders &&
		    strcmp(h[j].name, h[i].name) == 0; j++)
			if (buf_addc(ch, ',') == -1 ||
			    buf_adds(ch, h[j].value) == -1)
				goto done;
		if (buf_addc(ch, '\n') == -1 ||
		    (sh->len && buf_addc(sh, ';') == -1) ||
		    buf_adds(sh, h[i].name) == -1)
			goto done;
	}
	r = 0;
done:
	for (i = 0; i < in->nheaders; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return r;
}

void
sigv4_cache_clear(struct sigv4_cache *c)
{
	explicit_bzero(c, sizeof(*c));
}

/* the day's key, from the cache when it holds this one */
static int
day_key(const struct sigv4_input *in, const char *date8,
    unsigned char key[SIGV4_KEY_LEN])
{
	struct sigv4_cache *c = in->cache;
	unsigned char sha[32];
	int r = -1;

	if (c == NULL || in->mistakes ||
	    strlen(in->region) >= sizeof(c->region) ||
	    strlen(in->service) >= sizeof(c->service))
		return sigv4_signing_key(in->secret, in->secret_len, date8,
		    in->region, in->service, in->mistakes, key);
	if (mbedtls_md(sha256(), (const unsigned char *)in->secret,
	    in->secret_len, sha) != 0)
		goto done;
	if (!c->valid || strcmp(c->date, date8) ||
	    strcmp(c->region, in->region) || strcmp(c->service, in->service) ||
	    memcmp(c->secret_sha, sha, sizeof(sha))) {
		sigv4_cache_clear(c);
		if (sigv4_signing_key(in->secret, in->secret_len, date8,
		    in->region, in->service, 0, c->key) == -1)
			goto done;
		memcpy(c->date, date8, 9);
		strlcpy(c->region, in->region, sizeof(c->region));
		strlcpy(c->service, in->service, sizeof(c->service));
		memcpy(c->secret_sha, sha, sizeof(sha));
		c->valid = 1;
	}
	memcpy(key, c->key, SIGV4_KEY_LEN);
	r = 0;
done:
	explicit_bzero(sha, sizeof(sha));
	return r;
}

void
sigv4_output_free(struct sigv4_output *o)
{
	free(o->canonical_request);
	free(o->string_to_sign);
	free(o->credential_scope);
	free(o->signed_headers);
	free(o->authorization);
	memset(o, 0, sizeof(*o));
}

int
sigv4_sign(const struct sigv4_input *in, struct sigv4_output *o)
{
	struct buf creq = BUF_INIT(CREQ_MAX), ch = BUF_INIT(CREQ_MAX);
	struct buf sh = BUF_INIT(CREQ_MAX), sts = BUF_INIT(CREQ_MAX);
	struct buf scope = BUF_INIT(1024), auth = BUF_INIT(CREQ_MAX);
	unsigned char key[SIGV4_KEY_LEN], sig[32];
	char date8[9];
	int r = -1;

	memset(o, 0, sizeof(*o));
	if (sigv4_format_date(in->when, o->amz_date) == -1)
		goto done;
	memcpy(date8, in->scope_date ? in->scope_date : o->amz_date, 8);
	date8[8] = '\0';
	if (sigv4_sha256_hex(in->body ? in->body : "", in->body_len,
	    o->payload_hash) == -1)
		goto done;
	if (buf_adds(&creq, in->method) == -1 || buf_addc(&creq, '\n') == -1 ||
	    canonical_path(&creq, in->path, in->raw_path) == -1 ||
	    buf_addc(&creq, '\n') == -1 ||
	    canonical_query(&creq, in->query) == -1 ||
	    buf_addc(&creq, '\n') == -1 ||
	    canonical_headers(&ch, &sh, in) == -1 ||
	    buf_add(&creq, buf_str(&ch), ch.len) == -1 ||
	    buf_addc(&creq, '\n') == -1 ||
	    buf_add(&creq, buf_str(&sh), sh.len) == -1 ||
	    buf_addc(&creq, '\n') == -1 ||
	    buf_add(&creq, o->payload_hash, SIGV4_HEX_LEN) == -1)
		goto done;
	if (sigv4_sha256_hex(creq.data, creq.len, o->creq_hash) == -1)
		goto done;
	if (buf_add(&scope, date8, 8) == -1 || buf_addc(&scope, '/') == -1 ||
	    buf_adds(&scope, in->region) == -1 || buf_addc(&scope, '/') == -1 ||
	    buf_adds(&scope, in->service) == -1 ||
	    buf_adds(&scope, "/aws4_request") == -1 ||
	    buf_adds(&sts, "AWS4-HMAC-SHA256\n") == -1 ||
	    buf_add(&sts, o->amz_date, 16) == -1 || buf_addc(&sts, '\n') == -1 ||
	    buf_add(&sts, buf_str(&scope), scope.len) == -1 ||
	    buf_addc(&sts, '\n') == -1 ||
	    buf_add(&sts, o->creq_hash, SIGV4_HEX_LEN) == -1)
		goto done;
	if (day_key(in, date8, key) == -1)
		goto done;
	if (hmac(key, sizeof(key), sts.data, sts.len, sig) == -1)
		goto done;
	sigv4_hex(sig, sizeof(sig), o->signature);
	if (buf_adds(&auth, "AWS4-HMAC-SHA256 Credential=") == -1 ||
	    buf_adds(&auth, in->access_key_id) == -1 ||
	    buf_addc(&auth, '/') == -1 ||
	    buf_add(&auth, buf_str(&scope), scope.len) == -1 ||
	    buf_adds(&auth, ", SignedHeaders=") == -1 ||
	    buf_add(&auth, buf_str(&sh), sh.len) == -1 ||
	    buf_adds(&auth, ", Signature=") == -1 ||
	    buf_add(&auth, o->signature, SIGV4_HEX_LEN) == -1)
		goto done;
	o->canonical_request = buf_steal(&creq);
	o->string_to_sign = buf_steal(&sts);
	o->credential_scope = buf_steal(&scope);
	o->signed_headers = buf_steal(&sh);
	o->authorization = buf_steal(&auth);
	if (o->canonical_request && o->string_to_sign &&
	    o->credential_scope && o->signed_headers && o->authorization)
		r = 0;
done:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(sig, sizeof(sig));
	buf_free(&creq);
	buf_free(&ch);
	buf_free(&sh);
	buf_free(&sts);
	buf_free(&scope);
	buf_free(&auth);
	if (r == -1)
		sigv4_output_free(o);
	return r;
}

/* copy the value of "Key=" up to ',' (or the end) into dst */
static int
authz_field(const char *a, const char *key, char *dst, size_t dstlen)
{
	const char *p = strstr(a, key), *e;
	size_t n;

	if (p == NULL)
		return -1;
	p += strlen(key);
	e = strchr(p, ',');
	n = e ? (size_t)(e - p) : strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= dstlen)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int
sigv4_parse_authz(const char *a, struct sigv4_authz *z)
{
	char cred[512], *part[5], *s;
	int i;

	memset(z, 0, sizeof(*z));
	if (strncmp(a, "AWS4-HMAC-SHA256 ", 17) != 0)
		return -1;
	if (authz_field(a, "Credential=", cred, sizeof(cred)) == -1 ||
	    authz_field(a, "SignedHeaders=", z->signed_headers,
	    sizeof(z->signed_headers)) == -1 ||
	    authz_field(a, "Signature=", z->signature,
	    sizeof(z->signature)) == -1)
		return -1;
	/* KEYID/DATE/REGION/SERVICE/aws4_request, split from the right */
	s = cred;
	for (i = 4; i > 0; i--) {
		char *slash = strrchr(s, '/');

		if (slash == NULL)
			return -1;
		*slash = '\0';
		part[i] = slash + 1;
	}
	part[0] = s;
	if (strcmp(part[4], "aws4_request") != 0 || strlen(part[1]) != 8 ||
	    strlcpy(z->access_key_id, part[0], sizeof(z->access_key_id)) >=
	    sizeof(z->access_key_id) ||
	    strlcpy(z->region, part[2], sizeof(z->region)) >=
	    sizeof(z->region) ||
	    strlcpy(z->service, part[3], sizeof(z->service)) >=
	    sizeof(z->service))
		return -1;
	memcpy(z->date, part[1], 9);
	return 0;
}

int
sigv4_header_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
		if (strncasecmp(p, name, n) == 0 && (p[n] == ';' || !p[n]))
			return 1;
	return 0;
}
