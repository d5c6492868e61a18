/*
 * http.c - the only file that includes <curl/curl.h>.  TLS 1.2 at least,
 * peer and host verification always on, https only, no redirects, a time
 * limit per attempt, capped response, one connection reused for a batch.
 * A caller's gate (the rate limit) runs once the connection is up, just
 * before the request goes out (CURLOPT_PREREQFUNCTION, libcurl 7.80); its
 * wait is not part of the attempt's time limit, and a failure before it
 * ran is one that sent nothing.
 *
 * libcurl is linked like any library (the package's Depends names it).
 * Every option that carries a security or resource policy is checked: a
 * libcurl that refuses one is not used, and nothing is sent.  The runtime
 * libcurl is checked before a sending command does anything else.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "http.h"
#include "msg.h"
#include "timeutil.h"
#include "version.h"

struct http {
	CURL	*curl;
	long	 connections;
	long	 timeout_ms;	/* one attempt, connect + transfer */
	/* the transfer under way */
	const struct http_gate *gate;
	long	 start_ms;
	long	 gate_ms;	/* time spent in the gate */
	int	 passed;	/* the gate let the request go */
	int	 held;		/* the gate kept it */
	int	 timed_out;	/* on_progress ended it */
	int	 resent;	/* the gate was passed before in this transfer */
};

/*
 * The oldest libcurl with every option used here: CURLOPT_PROTOCOLS_STR
 * (7.85.0) when built against a libcurl that has it, else
 * CURLOPT_PREREQFUNCTION (7.80.0; older headers do not build).
 */
#if LIBCURL_VERSION_NUM >= 0x075500
#define CURL_MIN_NUM	0x075500
#define CURL_MIN_STR	"7.85.0"
#else
#define CURL_MIN_NUM	0x075000
#define CURL_MIN_STR	"7.80.0"
#endif

/* the system trust store: OpenSSL's hashed directory, one CA read a run */
#define SYSTEM_CAPATH	"/etc/ssl/certs"

int
http_version(const char **curl, const char **tls)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	*curl = cv->version;
	*tls = cv->ssl_version ? cv->ssl_version : "no TLS";
	return 0;
}

const char *
http_versions(void)
{
	static char v[128];
	const char *curl, *tls;

	if (v[0])
		return v;
	http_version(&curl, &tls);
	if (snprintf(v, sizeof(v), "libcurl %s (%s)", curl, tls) >=
	    (int)sizeof(v))
		v[sizeof(v) - 2] = '.';		/* still names the version */
	return v;
}

int
http_runtime_check(char *why, size_t n)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	const char *const *p;
	int https = 0;

	for (p = cv->protocols; p && *p; p++)
		if (strcasecmp(*p, "https") == 0)
			https = 1;
	if (cv->version_num < CURL_MIN_NUM)
		snprintf(why, n, "libcurl %s is older than %s, the oldest with "
		    "every option agcod sets; install a newer libcurl4",
		    cv->version, CURL_MIN_STR);
	else if (!(cv->features & CURL_VERSION_SSL) || cv->ssl_version == NULL)
		snprintf(why, n, "libcurl %s has no TLS support", cv->version);
	else if (!https)
		snprintf(why, n, "libcurl %s (%s) cannot speak https",
		    cv->version, cv->ssl_version);
	else
		return 0;
	return -1;
}

/*
 * The trust store: the profile's ca_bundle (or --cacert) alone when set;
 * else OpenSSL's conventions, SSL_CERT_FILE as a bundle file and
 * SSL_CERT_DIR as a hashed directory (default /etc/ssl/certs, where
 * OpenSSL reads only the CA a server's chain names instead of parsing the
 * whole bundle every run).
 */
void
http_trust(const struct profile *p, const char **file, const char **dir)
{
	const char *f = getenv("SSL_CERT_FILE"), *d = getenv("SSL_CERT_DIR");

	if (p->ca_bundle[0]) {
		*file = p->ca_bundle;
		*dir = NULL;
		return;
	}
	*file = f && *f ? f : NULL;
	*dir = d && *d ? d : SYSTEM_CAPATH;
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

/* the connection is up: the gate decides whether the request goes out */
static int
on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port)
{
	struct http *h = ud;
	long t0;
	int rc;

	(void)ip; (void)local_ip; (void)port; (void)local_port;
	/*
	 * Again in one transfer: libcurl sends the request anew on a fresh
	 * connection when a reused one closed without a byte of answer,
	 * which the service may have acted on.  The same attempt: its slot
	 * is taken, and it must not be called "not sent" now.
	 */
	if (h->passed) {
		h->resent = 1;
		return CURL_PREREQFUNC_OK;
	}
	if (h->gate && h->gate->fn) {
		t0 = mono_ms();
		rc = h->gate->fn(h->gate->arg);
		h->gate_ms += mono_ms() - t0;
		if (rc != 0) {
			h->held = 1;
			return CURL_PREREQFUNC_ABORT;
		}
	}
	h->passed = 1;
	return CURL_PREREQFUNC_OK;
}

/* the attempt's time limit, less the gate's wait */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct http *h = ud;

	(void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
	if (h->passed && mono_ms() - h->start_ms - h->gate_ms > h->timeout_ms) {
		h->timed_out = 1;
		return 1;
	}
	return 0;
}

/* the connection was cut (reset, aborted, a broken pipe), not refused */
static int
cut(CURL *c)
{
	long err = 0;

	if (curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &err) != CURLE_OK)
		return 0;
	return err == ECONNRESET || err == ECONNABORTED || err == EPIPE;
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

/* set an option or name the one libcurl refused */
#define SET(opt, val) do {						\
	if ((e = curl_easy_setopt(c, opt, val)) != CURLE_OK) {		\
		name = #opt;						\
		goto refused;						\
	}								\
} while (0)

struct http *
http_new(const struct profile *p, long timeout)
{
	static int ready;
	const char *name, *cafile, *capath;
	struct http *h;
	CURLcode e;
	CURL *c;

	if (!ready) {
		/*
		 * libcurl's OpenSSL would free all its tables at exit (about
		 * 1.4M instructions, a twentieth of a request), memory the
		 * process gives back as it ends: told first, OpenSSL leaves
		 * them.  Connections and their keys are still freed (and
		 * cleansed) by curl_easy_cleanup.
		 */
		OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
		if ((e = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
			msg_err("cannot initialise libcurl: %s",
			    curl_easy_strerror(e));
			return NULL;
		}
		ready = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		msg_err("out of memory");
		return NULL;
	}
	if ((c = h->curl = curl_easy_init()) == NULL) {
		msg_err("cannot initialise libcurl");
		free(h);
		return NULL;
	}
	h->timeout_ms = timeout * 1000;
	http_trust(p, &cafile, &capath);
	SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CAINFO, cafile);
	SET(CURLOPT_CAPATH, capath);
	SET(CURLOPT_CONNECTTIMEOUT, timeout);
	SET(CURLOPT_TIMEOUT, timeout);
	SET(CURLOPT_MAXFILESIZE, (long)HTTP_BODY_MAX);
	SET(CURLOPT_USERAGENT, "agcod/" AGCOD_VERSION);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_PREREQFUNCTION, on_prereq);
	SET(CURLOPT_PREREQDATA, h);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, h);
	SET(CURLOPT_NOPROGRESS, 0L);
	return h;
refused:
	msg_err("libcurl %s refuses %s (%s); nothing was sent",
	    curl_version_info(CURLVERSION_NOW)->version, name,
	    curl_easy_strerror(e));
	http_free(h);
	return NULL;
}

enum agcod_result
http_start(struct http **hp, const struct profile *p, long timeout)
{
	char why[256];

	if (http_runtime_check(why, sizeof(why)) == -1) {
		msg_err("%s; nothing was sent", why);
		return AGCOD_E_SERVICE;
	}
	if (*hp == NULL && (*hp = http_new(p, timeout)) == NULL)
		return AGCOD_E_INTERNAL;
	return AGCOD_OK;
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

/* the request's headers as libcurl takes them, NULL if out of memory
 * (the Authorization header among them: freed by the caller) */
static struct curl_slist *
header_list(const struct http_header_out *hd, size_t nh)
{
	struct curl_slist *list = NULL, *t;
	char line[4096];
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
	explicit_bzero(line, sizeof(line));
	return t;
oom:
	curl_slist_free_all(list);
	explicit_bzero(line, sizeof(line));
	return NULL;
}

/* after curl_easy_perform returned e: what r learns, and the result */
static enum http_result
performed(struct http *h, CURLcode e, const char *errbuf,
    struct http_response *r)
{
	CURL *c = h->curl;
	curl_off_t us = 0;
	long conns = 0;
	enum http_result hr;

	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status) !=
	    CURLE_OK)
		r->status = 0;
	if (curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us) != CURLE_OK)
		us = 0;
	if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns) != CURLE_OK)
		conns = 0;
	/* the round trip, without the wait in the gate */
	r->elapsed_ms = (long)(us / 1000) - h->gate_ms;
	if (r->elapsed_ms < 0)
		r->elapsed_ms = 0;
	r->connects = conns;
	r->resent = h->resent;
	h->connections += conns;
	if (e != CURLE_OK)
		msg_sanitize(r->error, sizeof(r->error), errbuf[0] ? errbuf :
		    curl_easy_strerror(e), strlen(errbuf[0] ? errbuf :
		    curl_easy_strerror(e)));
	if (h->held)
		return HTTP_HELD;
	if (h->timed_out) {
		snprintf(r->error, sizeof(r->error), "timed out after %ld s",
		    h->timeout_ms / 1000);
		return HTTP_LOST;
	}
	hr = classify(e, r);
	/* it never went out: refused, unresolved, a handshake never done
	 * (and one the network cut is no TLS verdict of the service's) */
	if (e != CURLE_OK && !h->passed && (hr != HTTP_TLS || cut(c)))
		hr = HTTP_NOT_SENT;
	/* the fresh connection failed, but the first send may have acted */
	if (h->resent && (hr == HTTP_NOT_SENT || hr == HTTP_TLS))
		hr = HTTP_LOST;
	return hr;
}

int
http_post(struct http *h, const char *url, const struct http_header_out *hd,
    size_t nh, const char *body, size_t len, const struct http_gate *gate,
    struct http_response *r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *list;
	CURL *c = h->curl;
	const char *name;
	CURLcode e;

	if ((list = header_list(hd, nh)) == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return HTTP_SETUP;
	}
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, list);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERDATA, r);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	/* libcurl's limit, past any wait in the gate; on_progress's is exact */
	SET(CURLOPT_TIMEOUT, h->timeout_ms / 1000 + (gate ? gate->max_wait_s +
	    1 : 0));

	h->gate = gate;
	h->passed = h->held = h->timed_out = h->resent = 0;
	h->gate_ms = 0;
	h->start_ms = mono_ms();
	e = curl_easy_perform(c);
	h->gate = NULL;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, (char *)NULL);
	curl_slist_free_all(list);	/* held the Authorization header */
	return performed(h, e, errbuf, r);
refused:	/* before curl_easy_perform: nothing left the machine */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, (char *)NULL);
	curl_slist_free_all(list);
	snprintf(r->error, sizeof(r->error), "libcurl refuses %s (%s)", name,
	    curl_easy_strerror(e));
	return HTTP_SETUP;
}
