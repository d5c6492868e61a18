/* profile.h - INI profiles, environment overrides, the file trust check */
#ifndef AGCOD_PROFILE_H
#define AGCOD_PROFILE_H

#include <limits.h>
#include <stddef.h>
#include <time.h>

#include "sigv4.h"
#include "result.h"

struct region_info {
	const char	*name;		/* na, eu, fe */
	const char	*signing_region;
	const char	*sandbox_host;
	const char	*production_host;
};

#define PROFILE_NKEYS	32	/* room for every key of the file */

struct profile {
	char			 name[64];
	char			 config_path[PATH_MAX];
	int			 config_read;
	char			 partner_id[32];
	char			 access_key_id[129];
	char			*secret;	/* wiped by profile_free */
	size_t			 secret_len;
	char			 secret_command[1024];
	char			 secret_origin[PATH_MAX + 32];
	const struct region_info *region;
	int			 production;
	char			 currency[4];
	char			 endpoint[512];	/* https://host[:port] */
	char			 host[300];	/* host[:port], signed */
	char			 ca_bundle[PATH_MAX];
	int			 max_rps;
	char			 max_amount[32];	/* guard.c checks these */
	char			 max_batch_total[32];
	char			 assume_yes[8];
	struct sigv4_cache	 keycache;	/* the day's signing key */
	time_t			 key_created;	/* 0: not recorded */
	/* journal = (a libpq connection string), or AGCOD_JOURNAL; may
	 * hold a password: wiped by profile_free, never printed */
	char			 journal[1024];
	int			 key_line[PROFILE_NKEYS];	/* line, or 0 */
};

struct profile_opts {
	const char	*profile;	/* -p */
	const char	*config;	/* -c */
	const char	*region;	/* command-line overrides */
	const char	*environment;
	const char	*endpoint;
	const char	*cacert;
	const char	*(*env)(const char *);	/* getenv, or a test's */
};

const struct region_info *region_find(const char *);
/* AGCOD_OK, or why (AGCOD_E_CONFIG; AGCOD_E_BAD_INPUT for a -p profile
 * that is not there) after printing why */
enum agcod_result profile_load(struct profile *, const struct profile_opts *);
/* the same, but keys every profile must have may be missing (config list) */
enum agcod_result profile_load_partial(struct profile *,
	    const struct profile_opts *);
/* for its journal key alone: a default profile the file lacks is none */
enum agcod_result profile_load_journal(struct profile *,
	    const struct profile_opts *);
/* runs secret_access_key_command when the secret is not known yet */
enum agcod_result profile_need_secret(struct profile *);
void	profile_free(struct profile *);
/* pure INI reading of one section; 0 or -1 with err set */
int	profile_parse(struct profile *, const char *text, size_t len,
	    const char *fname, const char *section, int *found,
	    int *holds_secret, char *err, size_t errlen);
const char *profile_suggest(const char *key);
/* the line of the profile's section that set `key`, 0 when none did */
int	profile_key_line(const struct profile *, const char *key);
/* the name of the k-th key a profile may have; NULL past the last */
const char *profile_key_name(size_t k);

#endif
