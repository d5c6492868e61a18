/*
 * report.c - what support asks for, in text or JSON: payload and its hash,
 * canonical request, string to sign, scope, signature, the signed request,
 * endpoint, time in UTC and local time, versions, and the response with
 * claim codes redacted.  Never the secret or the signing key (unless asked
 * for with --show-signing-key).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/version.h>

#include "buf.h"
#include "json.h"
#include "msg.h"
#include "report.h"
#include "version.h"

#define REDACTED	"[REDACTED]"

void
report_times(time_t t, char *utc, size_t ul, char *local, size_t ll)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(utc, ul, "%Y-%m-%d %H:%M:%S UTC", &tm);
	localtime_r(&t, &tm);
	strftime(local, ll, "%Y-%m-%d %H:%M:%S %z (%Z)", &tm);
}

static int
redact_xml(struct buf *b)
{
	static const char open[] = "<gcClaimCode>", close[] = "</gcClaimCode>";
	struct buf out = BUF_INIT(HTTP_BODY_MAX * 2);
	const char *p = buf_str(b), *o, *e;

	while ((o = strstr(p, open)) != NULL &&
	    (e = strstr(o, close)) != NULL) {
		if (buf_add(&out, p, (size_t)(o - p) + sizeof(open) - 1) == -1 ||
		    buf_adds(&out, REDACTED) == -1)
			goto fail;
		p = e;
	}
	if (buf_adds(&out, p) == -1)
		goto fail;
	buf_reset(b);
	if (buf_add(b, buf_str(&out), out.len) == -1)
		goto fail;
	buf_free(&out);
	return 0;
fail:
	buf_free(&out);
	return -1;
}

/* the end of the JSON string token at s[i] == '"': after its quote, or n */
static size_t
string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i += s[i] == '\\' ? 2 : 1)
		;
	return i < n ? i + 1 : n;
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Does the complete string token s[0..n) decode to want?  The key is
 * compared as JSON means it: "gcClaim\u0043ode" is "gcClaimCode".
 */
static int
token_is(const char *s, size_t n, const char *want)
{
	size_t i, o = 0, wl = strlen(want);
	unsigned long c;
	int k, h;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return 0;
	for (i = 1; i < n - 1; o++) {
		if (s[i] != '\\')
			c = (unsigned char)s[i++];
		else if (i + 1 >= n - 1)
			return 0;
		else if (s[i + 1] == 'u') {
			if (i + 6 > n - 1)
				return 0;
			for (c = 0, k = 2; k < 6; k++) {
				if ((h = hexval((unsigned char)s[i + k])) < 0)
					return 0;
				c = c << 4 | (unsigned long)h;
			}
			i += 6;
		} else {
			switch (s[i + 1]) {
			case '"': case '\\': case '/':
				c = (unsigned char)s[i + 1];
				break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			default:
				return 0;
			}
			i += 2;
		}
		if (o >= wl || c != (unsigned char)want[o])
			return 0;
	}
	return o == wl;
}

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* the end of the JSON value at s[i]: a string, a {...} or [...], a word */
static size_t
value_end(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	if (i < n && s[i] == '"')
		return string_end(s, n, i);
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		while (i < n) {
			if (s[i] == '"') {
				i = string_end(s, n, i);
				continue;
			}
			if (s[i] == '{' || s[i] == '[')
				depth++;
			else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && !strchr(",}] \t\r\n", s[i]))
		i++;
	return i;
}

/* every gcClaimCode member of a parsed body holds REDACTED, at any depth */
static int
all_redacted(json_t *j)
{
	const char *k;
	json_t *m;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, m) {
			if (strcmp(k, "gcClaimCode") == 0 &&
			    (!json_is_string(m) ||
			    strcmp(json_string_value(m), REDACTED) != 0))
				return 0;
			if (!all_redacted(m))
				return 0;
		}
	} else if (json_is_array(j))
		json_array_foreach(j, i, m)
			if (!all_redacted(m))
				return 0;
	return 1;
}

/*
 * Copy JSON text, replacing the value of every member whose name is
 * gcClaimCode once its escapes are decoded, at any depth and of any type.
 * Only the values change: the rest stays the bytes that came.  A body that
 * Jansson can parse is parsed again after redaction and must hold no claim
 * code; if it does, the whole body is withheld.
 */
int
report_redact(const char *s, size_t n, struct buf *out)
{
	static const char withheld[] = "[body withheld: claim codes could "
	    "not be redacted]";
	size_t i = 0, j, k, start = out->len;
	json_t *before, *after;
	int ok = 1;

	while (i < n) {
		if (s[i] != '"') {
			if (buf_addc(out, s[i++]) == -1)
				return -1;
			continue;
		}
		j = string_end(s, n, i);
		if (buf_add(out, s + i, j - i) == -1)
			return -1;
		k = skip_ws(s, n, j);
		if (k < n && s[k] == ':' && token_is(s + i, j - i,
		    "gcClaimCode")) {
			k = skip_ws(s, n, k + 1);
			if (buf_add(out, s + j, k - j) == -1 ||
			    buf_adds(out, "\"" REDACTED "\"") == -1)
				return -1;
			j = value_end(s, n, k);
		}
		i = j;
	}
	if (redact_xml(out) == -1)
		return -1;
	if ((before = json_loadb(s, n, JSON_DECODE_ANY, NULL)) != NULL) {
		after = json_loadb(buf_str(out) + start, out->len - start,
		    JSON_DECODE_ANY, NULL);
		ok = after != NULL && all_redacted(after);
		json_decref(after);
		json_decref(before);
	}
	if (!ok) {
		buf_setlen(out, start);
		return buf_adds(out, withheld);
	}
	return 0;
}

/* the response body for a report: redacted, or withheld when that fails */
static void
redacted_body(const struct http_response *resp, struct buf *red)
{
	if (report_redact(buf_str(&resp->body), resp->body.len, red) == 0)
		return;
	buf_reset(red);
	if (buf_adds(red, "[body withheld: too large to redact]") == -1)
		buf_reset(red);
}

static void
versions(char *out, size_t n)
{
	char mb[32];

	mbedtls_version_get_string(mb);
	snprintf(out, n, "agcod %s, %s, mbedTLS %s, Jansson %s", AGCOD_VERSION,
	    http_versions(), mb, jansson_version_str());
}

void
report_text(FILE *f, const struct report *r)
{
	char utc[64], local[96], ver[256];
	size_t i;

	report_times(r->when, utc, sizeof(utc), local, sizeof(local));
	versions(ver, sizeof(ver));
	msg_fprintf(f, "== agcod signing report%s\n", r->attempt ? "" :
	    " (not sent)");
	msg_fprintf(f, "operation:       %s\n", r->operation);
	msg_fprintf(f, "endpoint:        %s\n", r->endpoint);
	if (r->partner_id)
		msg_fprintf(f, "partner id:      %s\n", r->partner_id);
	msg_fprintf(f, "access key id:   %s\n", r->access_key_id);
	msg_fprintf(f, "region/service:  %s / %s\n", r->region, r->service);
	msg_fprintf(f, "time (UTC):      %s\n", utc);
	msg_fprintf(f, "time (local):    %s\n", local);
	msg_fprintf(f, "x-amz-date:      %s\n", r->sig->amz_date);
	if (r->attempt)
		msg_fprintf(f, "attempt:         %d\n", r->attempt);
	msg_fprintf(f, "versions:        %s\n", ver);
	msg_fprintf(f, "\n== payload (%zu bytes)\n", r->body_len);
	msg_put_shown(f, r->body, r->body_len);
	putc('\n', f);
	msg_fprintf(f, "\n== payload SHA-256\n%s\n", r->sig->payload_hash);
	msg_fprintf(f, "\n== canonical request\n%s\n",
	    r->sig->canonical_request);
	msg_fprintf(f, "\n== canonical request SHA-256\n%s\n",
	    r->sig->creq_hash);
	msg_fprintf(f, "\n== string to sign\n%s\n", r->sig->string_to_sign);
	msg_fprintf(f, "\n== credential scope\n%s\n",
	    r->sig->credential_scope);
	msg_fprintf(f, "\n== signed headers\n%s\n", r->sig->signed_headers);
	msg_fprintf(f, "\n== signature\n%s\n", r->sig->signature);
	if (r->signing_key)
		msg_fprintf(f, "\n== signing key (signs any request for "
		    "this day, "
		    "region and service: keep it private)\n%s\n",
		    r->signing_key);
	msg_fprintf(f, "\n== signed request\n%s %s%s%s HTTP/1.1\n", r->method,
	    r->path, r->query ? "?" : "", r->query ? r->query : "");
	for (i = 0; i < r->nheaders; i++)
		msg_fprintf(f, "%s: %s\n", r->headers[i].name,
		    r->headers[i].value);
	msg_fprintf(f, "Authorization: %s\n\n", r->sig->authorization);
	msg_put_shown(f, r->body, r->body_len);
	putc('\n', f);
	if (r->verified) {
		msg_fprintf(f, "\n== verification\nprovided:  %s\n"
		    "result:    %s\n",
		    r->provided, r->match ? "MATCH" : "MISMATCH");
		if (!r->match)
			msg_fprintf(f, "diagnosis: %s\n", r->diagnosis);
	}
	if (r->transport_error)
		msg_fprintf(f, "\n== response\nno response: %s\n",
		    r->transport_error);
	else if (r->resp) {
		struct buf red = BUF_INIT(HTTP_BODY_MAX * 2);

		redacted_body(r->resp, &red);
		msg_fprintf(f, "\n== response (HTTP %ld, %ld ms)\n",
		    r->resp->status, r->resp->elapsed_ms);
		msg_put_shown(f, buf_str(&r->resp->headers),
		    r->resp->headers.len);
		putc('\n', f);
		msg_put_shown(f, buf_str(&red), red.len);
		putc('\n', f);
		buf_free(&red);
	}
}

/* request and response text as a JSON string, whatever its bytes */
static json_t *
text(const char *s)
{
	return s ? json_text(s, strlen(s)) : NULL;
}

static json_t *
headers_object(const struct sigv4_header *h, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, h[i].name, text(h[i].value));
	return o;
}

static json_t *
response_headers(const struct buf *b)
{
	json_t *o = json_object();
	const char *p = buf_str(b), *e, *colon;

	for (; *p; p = *e ? e + 1 : e) {
		char name[128], val[1024];
		size_t nl, vl;

		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		colon = memchr(p, ':', (size_t)(e - p));
		if (colon == NULL || (nl = (size_t)(colon - p)) >= sizeof(name))
			continue;
		memcpy(name, p, nl);
		name[nl] = '\0';
		for (colon++; *colon == ' '; colon++)
			;
		vl = (size_t)(e - colon);
		while (vl && (colon[vl - 1] == '\r' || colon[vl - 1] == ' '))
			vl--;
		if (vl >= sizeof(val))
			vl = sizeof(val) - 1;
		memcpy(val, colon, vl);
		val[vl] = '\0';
		json_object_set_new(o, name, json_text(val, vl));
	}
	return o;
}

/* the versions of agcod and the libraries it was run with */
static json_t *
versions_json(void)
{
	char mb[32];
	const char *curl, *tls;
	json_t *v = json_object();

	mbedtls_version_get_string(mb);
	json_object_set_new(v, "agcod", json_string(AGCOD_VERSION));
	http_version(&curl, &tls);
	json_object_set_new(v, "libcurl", json_string(curl));
	json_object_set_new(v, "tls", json_string(tls));
	json_object_set_new(v, "mbedtls", json_string(mb));
	json_object_set_new(v, "jansson", json_string(jansson_version_str()));
	return v;
}

/* the answer (its body redacted), or the transport error */
static json_t *
response_json(const struct report *r)
{
	json_t *v = json_object();

	if (r->transport_error) {
		json_object_set_new(v, "error", text(r->transport_error));
	} else {
		struct buf red = BUF_INIT(HTTP_BODY_MAX * 2);

		redacted_body(r->resp, &red);
		json_object_set_new(v, "http_status",
		    json_integer(r->resp->status));
		json_object_set_new(v, "headers",
		    response_headers(&r->resp->headers));
		json_object_set_new(v, "body",
		    json_text(buf_str(&red), red.len));
		json_object_set_new(v, "elapsed_ms",
		    json_integer(r->resp->elapsed_ms));
		buf_free(&red);
	}
	return v;
}

json_t *
report_json(const struct report *r)
{
	char utc[64], local[96];
	json_t *o = json_object(), *v;

	report_times(r->when, utc, sizeof(utc), local, sizeof(local));
	json_object_set_new(o, "operation", text(r->operation));
	json_object_set_new(o, "endpoint", text(r->endpoint));
	json_object_set_new(o, "method", text(r->method));
	json_object_set_new(o, "path", text(r->path));
	json_object_set_new(o, "query", text(r->query ? r->query : ""));
	json_object_set_new(o, "headers", headers_object(r->headers,
	    r->nheaders));
	json_object_set_new(o, "body", json_text(r->body ? r->body : "",
	    r->body_len));
	json_object_set_new(o, "payload_hash",
	    json_string(r->sig->payload_hash));
	json_object_set_new(o, "canonical_request",
	    text(r->sig->canonical_request));
	json_object_set_new(o, "canonical_request_hash",
	    json_string(r->sig->creq_hash));
	json_object_set_new(o, "credential_scope",
	    text(r->sig->credential_scope));
	json_object_set_new(o, "string_to_sign",
	    text(r->sig->string_to_sign));
	json_object_set_new(o, "signed_headers",
	    text(r->sig->signed_headers));
	json_object_set_new(o, "signature", json_string(r->sig->signature));
	json_object_set_new(o, "authorization",
	    text(r->sig->authorization));
	json_object_set_new(o, "amz_date", json_string(r->sig->amz_date));
	json_object_set_new(o, "time_utc", json_string(utc));
	json_object_set_new(o, "time_local", json_string(local));
	json_object_set_new(o, "access_key_id", text(r->access_key_id));
	json_object_set_new(o, "region", text(r->region));
	json_object_set_new(o, "service", text(r->service));
	if (r->partner_id)
		json_object_set_new(o, "partner_id", text(r->partner_id));
	if (r->attempt)
		json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "versions", versions_json());
	if (r->signing_key)
		json_object_set_new(o, "signing_key",
		    json_string(r->signing_key));
	if (r->verified) {
		v = json_object();
		json_object_set_new(v, "match", json_boolean(r->match));
		json_object_set_new(v, "provided_signature",
		    text(r->provided));
		json_object_set_new(v, "diagnosis", r->match ? json_null() :
		    text(r->diagnosis));
		json_object_set_new(o, "verification", v);
	}
	if (r->resp || r->transport_error)
		json_object_set_new(o, "response", response_json(r));
	return o;
}
