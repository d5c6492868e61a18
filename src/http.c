/*
 * http.c - the only file that includes <curl/curl.h>.  TLS 1.2 at least,
 * peer and host verification always on, https only, no redirects, a time
 * limit per attempt, capped response, one connection reused for a batch.
 *
 * libcurl is loaded with dlopen when the first request is made: linked at
 * start-up, its dependency tree (OpenSSL, GnuTLS, Kerberos, LDAP, ...)
 * costs 12 ms of every run, also of those that never touch the network
 * (--version, help, history).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "agcod.h"
#include "http.h"
#include "msg.h"

struct http {
	CURL	*curl;
	long	 connections;
};

#define LIBCURL_SONAME	"libcurl.so.4"

/* the libcurl functions agcod uses, resolved once */
static struct {
	void			*dl;
	CURLcode		(*global_init)(long);
	CURL			*(*easy_init)(void);
	CURLcode		(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode		(*easy_perform)(CURL *);
	CURLcode		(*easy_getinfo)(CURL *, CURLINFO, ...);
	void			(*easy_cleanup)(CURL *);
	struct curl_slist	*(*slist_append)(struct curl_slist *,
				    const char *);
	void			(*slist_free_all)(struct curl_slist *);
	const char		*(*easy_strerror)(CURLcode);
	curl_version_info_data	*(*version_info)(CURLversion);
} lib;

static int curl_ready;

/*
 * RTLD_LAZY: libcurl's libraries bind as they would if agcod were linked
 * with them (most are built BIND_NOW anyway).  RTLD_DEEPBIND: their symbols
 * are looked up among libcurl's own dependencies before agcod's seven
 * objects, which saves a tenth of a request's instructions (callgrind: 3.1
 * of 34.6 million).  Not under AddressSanitizer, which refuses it, and not
 * when anything is preloaded: a preloaded allocator would then be mixed
 * with libc's malloc across libcurl's boundary.
 */
static int
dl_flags(void)
{
	int f = RTLD_LAZY | RTLD_LOCAL;

#if !defined(__SANITIZE_ADDRESS__)
	if (getenv("LD_PRELOAD") == NULL && getenv("LD_AUDIT") == NULL &&
	    access("/etc/ld.so.preload", F_OK) == -1)
		f |= RTLD_DEEPBIND;
#endif
	return f;
}

static int
load_curl(void)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} fns[] = {
		{ "curl_global_init", offsetof(__typeof__(lib), global_init) },
		{ "curl_easy_init", offsetof(__typeof__(lib), easy_init) },
		{ "curl_easy_setopt", offsetof(__typeof__(lib), easy_setopt) },
		{ "curl_easy_perform", offsetof(__typeof__(lib), easy_perform) },
		{ "curl_easy_getinfo", offsetof(__typeof__(lib), easy_getinfo) },
		{ "curl_easy_cleanup", offsetof(__typeof__(lib), easy_cleanup) },
		{ "curl_slist_append", offsetof(__typeof__(lib), slist_append) },
		{ "curl_slist_free_all", offsetof(__typeof__(lib),
		    slist_free_all) },
		{ "curl_easy_strerror", offsetof(__typeof__(lib),
		    easy_strerror) },
		{ "curl_version_info", offsetof(__typeof__(lib), version_info) },
	};
	size_t i;
	void *f;

	if (lib.dl)
		return 0;
	if ((lib.dl = dlopen(LIBCURL_SONAME, dl_flags())) == NULL) {
		msg_err("cannot load libcurl (%s): %s; install Debian's "
		    "libcurl4", LIBCURL_SONAME, dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if ((f = dlsym(lib.dl, fns[i].name)) == NULL) {
			msg_err("libcurl has no %s", fns[i].name);
			dlclose(lib.dl);
			lib.dl = NULL;
			return -1;
		}
		memcpy((char *)&lib + fns[i].off, &f, sizeof(f));
	}
	return 0;
}

void
http_exit(int status)
{
#if !defined(__SANITIZE_ADDRESS__)	/* LeakSanitizer checks in exit(3) */
	if (lib.dl) {
		fflush(NULL);
		_exit(status);
	}
#else
	(void)status;
#endif
}

int
http_version(const char **curl, const char **tls)
{
	curl_version_info_data *cv;

	*curl = *tls = "";
	if (load_curl() == -1)
		return -1;
	cv = lib.version_info(CURLVERSION_NOW);
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
	if (http_version(&curl, &tls) == -1)
		return "libcurl (not loaded)";
	snprintf(v, sizeof(v), "libcurl %s (%s)", curl, tls);
	return v;
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

struct http *
http_new(const struct profile *p, long timeout)
{
	struct http *h;
	CURL *c;

	if (!curl_ready) {
		if (load_curl() == -1 ||
		    lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((c = h->curl = lib.easy_init()) == NULL) {
		free(h);
		return NULL;
	}
	lib.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	lib.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	lib.easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	lib.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	lib.easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	lib.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	lib.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_bundle[0])
		lib.easy_setopt(c, CURLOPT_CAINFO, p->ca_bundle);
	lib.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	lib.easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	lib.easy_setopt(c, CURLOPT_MAXFILESIZE, (long)HTTP_BODY_MAX);
	lib.easy_setopt(c, CURLOPT_USERAGENT, "agcod/" AGCOD_VERSION);
	lib.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	lib.easy_cleanup(h->curl);
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
		    (t = lib.slist_append(list, line)) == NULL)
			goto oom;
		list = t;
	}
	/* no "Expect: 100-continue" round trip, no default Accept */
	if ((t = lib.slist_append(list, "Expect:")) == NULL)
		goto oom;
	list = t;
	explicit_bzero(line, sizeof(line));

	lib.easy_setopt(c, CURLOPT_URL, url);
	lib.easy_setopt(c, CURLOPT_HTTPHEADER, list);
	lib.easy_setopt(c, CURLOPT_POST, 1L);
	lib.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	lib.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	lib.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	lib.easy_setopt(c, CURLOPT_WRITEDATA, r);
	lib.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	lib.easy_setopt(c, CURLOPT_HEADERDATA, r);
	lib.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075000
	lib.easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
	lib.easy_setopt(c, CURLOPT_PREREQDATA, &pre);
#else
	before_send(arg);	/* older libcurl: before connecting */
#endif

	e = lib.easy_perform(c);
	lib.easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	lib.easy_setopt(c, CURLOPT_ERRORBUFFER, (char *)NULL);
	lib.slist_free_all(list);	/* held the Authorization header */

	lib.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	lib.easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us);
	lib.easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
	r->elapsed_ms = (long)(us / 1000);
	r->connects = conns;
	h->connections += conns;
	if (e != CURLE_OK)
		msg_sanitize(r->error, sizeof(r->error), errbuf[0] ? errbuf :
		    lib.easy_strerror(e), strlen(errbuf[0] ? errbuf :
		    lib.easy_strerror(e)));
	return classify(e, r);
oom:
	lib.slist_free_all(list);
	explicit_bzero(line, sizeof(line));
	snprintf(r->error, sizeof(r->error), "out of memory");
	return HTTP_FAILED;
}
