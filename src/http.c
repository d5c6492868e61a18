/*
 * http.c - the only file that includes <curl/curl.h>.  TLS 1.2 at least,
 * peer and host verification always on, https only, no redirects, a time
 * limit per attempt, capped response, one connection reused for a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "agcod.h"
#include "http.h"
#include "msg.h"

struct http {
	CURL	*curl;
	long	 connections;
};

static int curl_ready;

void
http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, HTTP_BODY_MAX);
	buf_init(&r->headers, HTTP_HEADERS_MAX);
}

void
http_response_free(struct http_response *r)
{
	buf_free(&r->body);
	buf_free(&r->headers);
}

struct http *
http_new(const struct profile *p, long timeout)
{
	struct http *h;
	CURL *c;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((c = h->curl = curl_easy_init()) == NULL) {
		free(h);
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_bundle[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_bundle);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)HTTP_BODY_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "agcod/" AGCOD_VERSION);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

long
http_connections(const struct http *h)
{
	return h ? h->connections : 0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http_response *r = ud;

	if (buf_add(&r->body, p, size * n) == -1)
		return 0;	/* over the cap: curl stops with a write error */
	return size * n;
}

static void
header_value(const char *line, size_t n, const char *name, char *dst,
    size_t dstlen)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	for (v = line + nl + 1; v < line + n && (*v == ' ' || *v == '\t'); v++)
		;
	vl = (size_t)(line + n - v);
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
	    v[vl - 1] == ' '))
		vl--;
	msg_sanitize(dst, dstlen, v, vl);
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_response *r = ud;
	size_t len = size * n;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		buf_reset(&r->headers);	/* a new response (after 100) */
		return len;
	}
	if (len <= 2)
		return len;
	header_value(p, len, "x-amzn-RequestId", r->request_id,
	    sizeof(r->request_id));
	header_value(p, len, "Date", r->date, sizeof(r->date));
	if (buf_add(&r->headers, p, len) == -1)
		return 0;
	return len;
}

static enum http_result
classify(CURLcode e, const struct http_response *r)
{
	switch (e) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_NOT_SENT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return HTTP_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_TOO_BIG;
	case CURLE_WRITE_ERROR:
		return r->body.len + 16384 >= HTTP_BODY_MAX ||
		    r->headers.len + 16384 >= HTTP_HEADERS_MAX ? HTTP_TOO_BIG :
		    HTTP_FAILED;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:	/* an answer that is not HTTP */
		return HTTP_LOST;
	default:
		return HTTP_FAILED;
	}
}

struct prereq {
	void	(*fn)(void *);
	void	*arg;
};

#if LIBCURL_VERSION_NUM >= 0x075000
static int
on_prereq(void *ud, char *ip, char *lip, int rport, int lport)
{
	struct prereq *p = ud;

	(void)ip;
	(void)lip;
	(void)rport;
	(void)lport;
	p->fn(p->arg);
	return CURL_PREREQFUNC_OK;
}
#endif

int
http_post(struct http *h, const char *url, const struct http_header_out *hd,
    size_t nh, const char *body, size_t len, struct http_response *r,
    void (*before_send)(void *), void *arg)
{
	struct prereq pre = { before_send, arg };
	char errbuf[CURL_ERROR_SIZE] = "", line[4096];
	struct curl_slist *list = NULL, *t;
	CURL *c = h->curl;
	CURLcode e;
	curl_off_t us = 0;
	long conns = 0;
	size_t i;

	for (i = 0; i < nh; i++) {
		if (snprintf(line, sizeof(line), "%s: %s", hd[i].name,
		    hd[i].value) >= (int)sizeof(line) ||
		    (t = curl_slist_append(list, line)) == NULL)
			goto oom;
		list = t;
	}
	/* no "Expect: 100-continue" round trip, no default Accept */
	if ((t = curl_slist_append(list, "Expect:")) == NULL)
		goto oom;
	list = t;
	explicit_bzero(line, sizeof(line));

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075000
	curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(c, CURLOPT_PREREQDATA, &pre);
#else
	before_send(arg);	/* older libcurl: before connecting */
#endif

	e = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, (char *)NULL);
	curl_slist_free_all(list);	/* held the Authorization header */

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
	r->elapsed_ms = (long)(us / 1000);
	r->connects = conns;
	h->connections += conns;
	if (e != CURLE_OK)
		msg_sanitize(r->error, sizeof(r->error), errbuf[0] ? errbuf :
		    curl_easy_strerror(e), strlen(errbuf[0] ? errbuf :
		    curl_easy_strerror(e)));
	return classify(e, r);
oom:
	curl_slist_free_all(list);
	explicit_bzero(line, sizeof(line));
	snprintf(r->error, sizeof(r->error), "out of memory");
	return HTTP_FAILED;
}
