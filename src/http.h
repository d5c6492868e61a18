/* http.h - HTTPS through libcurl: TLS policy, timeouts, capped reads */
#ifndef AGCOD_HTTP_H
#define AGCOD_HTTP_H

#include "buf.h"
#include "profile.h"

#define HTTP_BODY_MAX		(1024 * 1024)
#define HTTP_HEADERS_MAX	(64 * 1024)

enum http_result {
	HTTP_OK,		/* a response arrived (any status) */
	HTTP_NOT_SENT,		/* could not connect: the request never left */
	HTTP_LOST,		/* timeout or connection lost: outcome unknown */
	HTTP_TLS,		/* certificate or TLS policy failure */
	HTTP_TOO_BIG,		/* the response passed its cap */
	HTTP_FAILED,		/* anything else */
};

struct http_header_out {
	const char	*name;
	const char	*value;
};

struct http_response {
	long		 status;
	struct buf	 body;
	struct buf	 headers;	/* "Name: value\n" lines, as received */
	char		 request_id[128];	/* x-amzn-RequestId */
	char		 date[64];		/* Date */
	long		 elapsed_ms;
	char		 error[256];
	long		 connects;	/* new connections this transfer */
};

struct http;

struct http	*http_new(const struct profile *, long timeout);
/*
 * before_send runs once the connection is up, right before the request
 * goes out (the rate limit's slot: a TLS handshake must not eat into it).
 */
int		 http_post(struct http *, const char *url,
		    const struct http_header_out *, size_t nheaders,
		    const char *body, size_t len, struct http_response *,
		    void (*before_send)(void *), void *arg);
void		 http_response_init(struct http_response *);
void		 http_response_free(struct http_response *);
void		 http_free(struct http *);
long		 http_connections(const struct http *);
/*
 * End the process once the command is done and its output flushed: when
 * libcurl was loaded, without running the exit handlers of libcurl and
 * OpenSSL, which only free memory the process is about to give back anyway
 * (0.5 ms of every request).  Returns only when exit(3) should be used.
 */
void		 http_exit(int status);
/* "libcurl 7.88.1 (OpenSSL/3.0.19)", loading libcurl if it is not yet */
const char	*http_versions(void);
/* its two parts ("7.88.1", "OpenSSL/3.0.19"); -1 ("", "") if not loadable */
int		 http_version(const char **curl, const char **tls);

#endif
