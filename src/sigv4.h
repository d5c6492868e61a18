/* sigv4.h - AWS Signature Version 4, as a pure function of its inputs */
#ifndef AGCOD_SIGV4_H
#define AGCOD_SIGV4_H

#include <stddef.h>
#include <time.h>

#define SIGV4_KEY_LEN	32
#define SIGV4_HEX_LEN	64

struct sigv4_header {
	const char	*name;
	const char	*value;		/* may hold obs-fold newlines */
};

/*
 * Deliberate mistakes, for explaining someone else's wrong signature:
 * sign-debug recomputes with each of these and names the one that matches.
 * A correct signature uses none (0).
 */
enum sigv4_mistake {
	SIGV4_M_SWAPPED_HMAC	= 1 << 0, /* HMAC(data, key) in the key chain */
	SIGV4_M_NO_AWS4_PREFIX	= 1 << 1, /* kSecret = secret, not "AWS4"+secret */
	SIGV4_M_HEX_KEYS	= 1 << 2, /* hex text of each key fed to the next HMAC */
	SIGV4_M_UNSORTED	= 1 << 3, /* headers in the order sent */
	SIGV4_M_NAME_CASE	= 1 << 4, /* header names not lower-cased */
	SIGV4_M_UNTRIMMED	= 1 << 5, /* header values not trimmed or folded */
};

/*
 * The signing key is the same for a whole day, region and service: a cache
 * the caller owns (and wipes with sigv4_cache_clear) saves deriving it again.
 * It knows the key is still the one for the secret by the secret's SHA-256,
 * not by a copy of it.
 */
struct sigv4_cache {
	int		valid;
	char		date[9];
	char		region[64];
	char		service[64];
	unsigned char	secret_sha[32];
	unsigned char	key[SIGV4_KEY_LEN];
};

void	sigv4_cache_clear(struct sigv4_cache *);

struct sigv4_input {
	const char			*method;
	const char			*path;	/* as on the request line */
	const char			*query;	/* after '?', or NULL */
	const struct sigv4_header	*headers;
	size_t				 nheaders;
	const void			*body;
	size_t				 body_len;
	int				 raw_path; /* S3 style: no normalisation */
	const char			*access_key_id;
	const char			*secret;
	size_t				 secret_len;
	const char			*region;
	const char			*service;
	time_t				 when;	/* the clock, passed in */
	const char			*scope_date; /* YYYYMMDD; NULL: when's */
	struct sigv4_cache		*cache;	/* or NULL */
	unsigned			 mistakes;
};

struct sigv4_output {
	char	 amz_date[17];		/* YYYYMMDDTHHMMSSZ */
	char	 payload_hash[SIGV4_HEX_LEN + 1];
	char	 creq_hash[SIGV4_HEX_LEN + 1];
	char	 signature[SIGV4_HEX_LEN + 1];
	char	*canonical_request;
	char	*string_to_sign;
	char	*credential_scope;
	char	*signed_headers;
	char	*authorization;
};

/* the parts of an Authorization header, for verifying it */
struct sigv4_authz {
	char	access_key_id[128];
	char	date[9];
	char	region[64];
	char	service[64];
	char	signed_headers[2048];
	char	signature[SIGV4_HEX_LEN + 1];
};

int	sigv4_parse_authz(const char *, struct sigv4_authz *);
int	sigv4_header_listed(const char *signed_headers, const char *name);
int	sigv4_sign(const struct sigv4_input *, struct sigv4_output *);
void	sigv4_output_free(struct sigv4_output *);
/* the day's signing key; the caller wipes it */
int	sigv4_signing_key(const char *secret, size_t secret_len,
	    const char *date8, const char *region, const char *service,
	    unsigned mistakes, unsigned char key[SIGV4_KEY_LEN]);
/*
 * The key chain step by step, for sign-debug's search of someone else's
 * mistakes.  Steps: 1 kDate = HMAC("AWS4"+secret, date), 2 kRegion,
 * 3 kService, 4 kSigning = HMAC(kService, "aws4_request"), 5 the signature
 * = HMAC(kSigning, string to sign).  In `swap` a step's bit means it was
 * HMAC(data, key); in `hex` it means the key fed into it was the previous
 * key's hex text (steps 2-5).  The caller wipes key.
 */
#define SIGV4_STEP(n)		(1u << ((n) - 1))
#define SIGV4_CHAIN_STEPS	0xfu	/* steps 1-4: the signing key */
int	sigv4_key_chain(const char *secret, size_t secret_len, int no_prefix,
	    const char *date8, const char *region, const char *service,
	    unsigned swap, unsigned hex, unsigned char key[SIGV4_KEY_LEN]);
int	sigv4_final_step(const unsigned char key[SIGV4_KEY_LEN],
	    const char *sts, size_t sts_len, unsigned swap, unsigned hex,
	    char signature[SIGV4_HEX_LEN + 1]);
int	sigv4_sha256_hex(const void *, size_t, char hex[SIGV4_HEX_LEN + 1]);
void	sigv4_hex(const unsigned char *, size_t, char *);
int	sigv4_format_date(time_t, char amz_date[17]);
int	sigv4_parse_date(const char *, time_t *);

#endif
