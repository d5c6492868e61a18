/* http.h - HTTPS through libcurl: TLS policy, timeouts, capped reads */
#ifndef AGCOD_HTTP_H
#define AGCOD_HTTP_H

#include "buf.h"
#include "profile.h"
#include "result.h"

#define HTTP_BODY_MAX		(1024 * 1024)
#define HTTP_HEADERS_MAX	(64 * 1024)

enum http_result {
	HTTP_OK,		/* a response arrived (any status) */
	HTTP_NOT_SENT,		/* no connection (or none through the gate):
				 * the request never left */
	HTTP_LOST,		/* timeout or connection lost: outcome unknown */
	HTTP_TLS,		/* certificate or TLS policy failure */
	HTTP_TOO_BIG,		/* the response passed its cap */
	HTTP_FAILED,		/* anything else */
	HTTP_SETUP,		/* refused before sending: nothing left */
	HTTP_HELD,		/* the gate kept the request: nothing sent */
};

/*
 * The gate of a transfer: fn is called once the connection is up (a new
 * connection's TLS handshake done, or a kept one reused), just before the
 * request goes out.  0 sends it; anything else ends the transfer with
 * HTTP_HELD and nothing sent.  The time fn takes, up to max_wait_s, is not
 * part of the transfer's timeout.  A failure before the gate passed is
 * HTTP_NOT_SENT (or HTTP_TLS): the request cannot have left.
 */
struct http_gate {
	int	(*fn)(void *arg);
	void	*arg;
	long	 max_wait_s;
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
	int		 resent;	/* libcurl sent it again on a fresh
					 * connection: it may have acted */
};

struct http;

/*
 * Before a sending command does anything: the runtime libcurl has TLS,
 * https and every option used (0), or why not (-1).
 */
int		 http_runtime_check(char *why, size_t);
/* the check, then *hp = http_new(): AGCOD_OK, or why after a message */
enum agcod_result http_start(struct http **hp, const struct profile *, long timeout);
/* NULL after a message when libcurl refuses a policy option */
struct http	*http_new(const struct profile *, long timeout);
/* the trust store used: a bundle file and a hashed directory (or NULL) */
void		 http_trust(const struct profile *, const char **file,
		    const char **dir);
/* gate may be NULL: the request goes out once the connection is up */
int		 http_post(struct http *, const char *url,
		    const struct http_header_out *, size_t nheaders,
		    const char *body, size_t len, const struct http_gate *gate,
		    struct http_response *);
void		 http_response_init(struct http_response *);
void		 http_response_free(struct http_response *);
void		 http_free(struct http *);
long		 http_connections(const struct http *);
/* "libcurl 7.88.1 (OpenSSL/3.0.19)": the libcurl in use */
const char	*http_versions(void);
/* its two parts ("7.88.1", "OpenSSL/3.0.19"); always 0 */
int		 http_version(const char **curl, const char **tls);

#endif
