/*
 * profile.c - configuration: an INI file, then the AGCOD_* environment,
 * then command-line overrides.
 *
 * The INI reader is our own, about a hundred lines, not libinih.  inih (as
 * Debian builds it) copies every line into a 200-byte buffer on its own
 * stack that we cannot wipe, so a secret_access_key left a copy behind; it
 * cuts lines at 200 bytes, shorter than our own 1024-byte
 * secret_access_key_command; it strips " ;" inline comments and joins
 * indented lines, both wrong for us (a secret may hold " ;"), so agcod had
 * to re-read inih's raw lines anyway.  Using inih "as designed" would mean
 * accepting all three.  Our reader works in place on the one buffer that
 * read_config fills from the descriptor it fstat()ed and wipes afterwards;
 * lines may be 4096 bytes; whole-line comments only; indented lines are
 * errors; the trust check is decided before the first byte is parsed, and
 * a value is never quoted back in an error (it may be a misplaced secret).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <time.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "amount.h"
#include "journal.h"
#include "msg.h"
#include "profile.h"
#include "reqid.h"
#include "suggest.h"
#include "timeutil.h"

#define CONFIG_MAX	(64 * 1024)
#define SECRET_MAX	1024
#define INI_LINE_MAX	4096
#define SECRET_CMD_TIMEOUT 10	/* seconds */
#define ACCESS_KEY_MAX	128	/* IAM's AccessKeyId: at most 128 characters */
/* named when there is no configuration: where debian/examples puts it */
#define EXAMPLE_CONFIG	"/usr/share/doc/agcod/examples/config.example.ini"

/* an AWS access key id: upper-case letters and digits, at most 128 */
static int
access_key_ok(const char *v)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

	return n > 0 && v[n] == '\0' && n <= ACCESS_KEY_MAX;
}

static const struct region_info regions[] = {
	{ "na", "us-east-1", "agcod-v2-gamma.amazon.com", "agcod-v2.amazon.com" },
	{ "eu", "eu-west-1", "agcod-v2-eu-gamma.amazon.com",
	    "agcod-v2-eu.amazon.com" },
	{ "fe", "us-west-2", "agcod-v2-fe-gamma.amazon.com",
	    "agcod-v2-fe.amazon.com" },
};

enum key {
	K_PARTNER, K_ACCESS_KEY, K_SECRET, K_SECRET_CMD, K_REGION,
	K_ENVIRONMENT, K_CURRENCY, K_ENDPOINT, K_CA_BUNDLE, K_MAX_RPS,
	K_MAX_AMOUNT, K_MAX_BATCH_TOTAL, K_ASSUME_YES, K_KEY_CREATED, K_JOURNAL,
	K_COUNT
};

static const char *const keys[K_COUNT] = {
	"partner_id", "access_key_id", "secret_access_key",
	"secret_access_key_command", "region", "environment", "currency",
	"endpoint", "ca_bundle", "max_rps",
	"max_amount", "max_batch_total", "assume_yes", "key_created",
	"journal",
};

/* NULL when the partner id can prefix request ids, else why not */
static const char *
partner_why(const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (!isalnum((unsigned char)v[i]))
			return "must be letters and digits";
	return i > REQID_MAX - 20 ? "is longer than 20 characters" : NULL;
}

const struct region_info *
region_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		if (strcmp(regions[i].name, name) == 0)
			return &regions[i];
	return NULL;
}

const char *
profile_suggest(const char *key)
{
	size_t i, best = 3, d;
	const char *s = NULL;

	for (i = 0; i < K_COUNT; i++) {
		d = edit_distance(key, keys[i]);
		if (d < best) {
			best = d;
			s = keys[i];
		}
	}
	if (s != NULL)
		return s;
	/* secret_key, key_id: every word of it is in one real name */
	for (i = 0; i < K_COUNT; i++) {
		char words[64], *w, *save = NULL;
		int all = 1;

		if (strlcpy(words, key, sizeof(words)) >= sizeof(words))
			return NULL;
		for (w = strtok_r(words, "_", &save); w;
		    w = strtok_r(NULL, "_", &save))
			if (strlen(w) < 3 || strstr(keys[i], w) == NULL)
				all = 0;
		if (all && strchr(key, '_'))
			return keys[i];
	}
	return NULL;
}

/*
 * The reader.  One pass over the file's bytes, in the one buffer that
 * read_config wipes; the only other copy of a value is val[] below, wiped
 * after every line.
 */
struct parse {
	struct profile	*p;
	const char	*fname;
	const char	*section;	/* the profile wanted */
	const struct stat *st;		/* of the file; NULL: trusted (tests) */
	int		 lineno;
	int		 in_section;	/* in the section wanted */
	int		 found;
	int		 holds_secret;
	int		 line[K_COUNT];
	char		*err;
	size_t		 errlen;
	int		 failed;
	int		 stop;		/* refused: read no further */
};

static int
perr(struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* the first error of the file, with its line */
static int
perr(struct parse *ps, const char *fmt, ...)
{
	char m[400];
	va_list ap;

	if (ps->failed++)
		return 1;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "'%s' line %d: %s", ps->fname,
	    ps->lineno, m);
	return 1;
}

/* copy a value, refusing what does not fit */
static int
setv(struct parse *ps, char *dst, size_t n, const char *key, const char *v)
{
	if (strlcpy(dst, v, n) >= n)
		return perr(ps, "%s is longer than %zu characters", key, n - 1);
	return 1;
}

/*
 * A file that holds the secret must be ours and private.  Decided from the
 * fstat made before parsing; applied as soon as the secret's line is seen,
 * before it is copied anywhere, and the refusal replaces any other error.
 */
static int
untrusted(struct parse *ps, const char *what)
{
	const struct stat *st = ps->st;

	if (st == NULL || (st->st_uid == geteuid() && !(st->st_mode & 077)))
		return 0;
	ps->failed++;
	ps->stop = 1;
	if (st->st_uid != geteuid())
		snprintf(ps->err, ps->errlen, "'%s' holds %s but belongs to "
		    "uid %u, not to you (uid %u); use a file of your own with "
		    "mode 600", ps->fname, what, (unsigned)st->st_uid,
		    (unsigned)geteuid());
	else
		snprintf(ps->err, ps->errlen, "'%s' holds %s but others can "
		    "access it (mode %03o); run: chmod 600 '%s'", ps->fname,
		    what, (unsigned)(st->st_mode & 0777), ps->fname);
	return 1;
}

/*
 * One "key = value" line.  Values are never quoted back in an error: a
 * secret pasted into the wrong key must not reach the terminal or a log.
 */
static int
handle_value(struct parse *ps, int k, const char *val, size_t vl)
{
	const char *name = keys[k];

	switch (k) {
	case K_PARTNER:
		if (partner_why(val))
			return perr(ps, "partner_id %s", partner_why(val));
		return setv(ps, ps->p->partner_id, sizeof(ps->p->partner_id),
		    name, val);
	case K_ACCESS_KEY:
		return setv(ps, ps->p->access_key_id,
		    sizeof(ps->p->access_key_id), name, val);
	case K_SECRET:
		if (vl > SECRET_MAX)
			return perr(ps, "secret_access_key is too long");
		if (ps->p->secret) {
			explicit_bzero(ps->p->secret, ps->p->secret_len);
			free(ps->p->secret);
		}
		ps->p->secret = strndup(val, vl);
		ps->p->secret_len = vl;
		snprintf(ps->p->secret_origin, sizeof(ps->p->secret_origin),
		    "'%s' line %d", ps->fname, ps->lineno);
		return ps->p->secret ? 1 : perr(ps, "out of memory");
	case K_SECRET_CMD:
		return setv(ps, ps->p->secret_command,
		    sizeof(ps->p->secret_command), name, val);
	case K_REGION:
		if ((ps->p->region = region_find(val)) == NULL)
			return perr(ps, "region is not one of na, eu, fe");
		return 1;
	case K_ENVIRONMENT:
		if (strcmp(val, "sandbox") && strcmp(val, "production"))
			return perr(ps, "environment is not sandbox or "
			    "production");
		ps->p->production = strcmp(val, "production") == 0;
		return 1;
	case K_CURRENCY:
		if (currency_find(val) == NULL)
			return perr(ps, "currency is not one of %s",
			    currency_list());
		return setv(ps, ps->p->currency, sizeof(ps->p->currency), name,
		    val);
	case K_ENDPOINT:
		return setv(ps, ps->p->endpoint, sizeof(ps->p->endpoint), name,
		    val);
	case K_CA_BUNDLE:
		return setv(ps, ps->p->ca_bundle, sizeof(ps->p->ca_bundle),
		    name, val);
	case K_MAX_RPS: {
		const char *why = NULL;
		long long n = strtonum(val, 1, 10, &why);

		if (why)
			return perr(ps, "max_rps is %s (1 to 10)", why);
		ps->p->max_rps = (int)n;
		return 1;
	}
	/* checked by guard.c, with the commands that send */
	case K_MAX_AMOUNT:
		return setv(ps, ps->p->max_amount, sizeof(ps->p->max_amount),
		    name, val);
	case K_MAX_BATCH_TOTAL:
		return setv(ps, ps->p->max_batch_total,
		    sizeof(ps->p->max_batch_total), name, val);
	case K_ASSUME_YES:
		return setv(ps, ps->p->assume_yes, sizeof(ps->p->assume_yes),
		    name, val);
	case K_KEY_CREATED:
		if (time_parse_day(val, &ps->p->key_created) == -1)
			return perr(ps, "key_created is not a date "
			    "YYYY-MM-DD");
		return 1;
	case K_JOURNAL:
		/* never quoted back: it may hold a password */
		return setv(ps, ps->p->journal, sizeof(ps->p->journal), name,
		    val);
	}
	return 1;
}

static int
blank(int c)
{
	return c == ' ' || c == '\t';
}

/* journal = VALUE names a password, or may (libpq cannot read it): copied
 * to wipe, it may be one */
static int
value_has_password(const char *v, size_t vl)
{
	char val[INI_LINE_MAX + 1];
	int rc;

	while (vl && blank(*v))
		v++, vl--;
	while (vl && blank(v[vl - 1]))
		vl--;
	if (vl > INI_LINE_MAX)
		return 1;
	memcpy(val, v, vl);
	val[vl] = '\0';
	rc = journal_where_password(val) != 0;
	explicit_bzero(val, vl);
	return rc;
}

/* a '[profile]' line of n bytes: whether it opens the profile read */
static void
parse_section(struct parse *ps, const char *s, size_t n)
{
	const char *e, *v;

	if ((e = memchr(s, ']', n)) == NULL) {
		perr(ps, "expected '[profile]', 'key = value' or a comment");
		return;
	}
	for (v = e + 1; v < s + n && blank(*v); v++)
		;
	if (v != s + n) {
		perr(ps, "text after '[profile]'");
		return;
	}
	for (s++; s < e && blank(*s); s++)
		;
	while (e > s && blank(e[-1]))
		e--;
	ps->in_section = strlen(ps->section) == (size_t)(e - s) &&
	    memcmp(s, ps->section, (size_t)(e - s)) == 0;
	if (ps->in_section)
		ps->found = 1;
}

/* the key of kl bytes at s: its index, or K_COUNT after saying why */
static int
parse_key(struct parse *ps, const char *s, size_t kl)
{
	char name[64];
	const char *hint;
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strlen(keys[k]) == kl && memcmp(s, keys[k], kl) == 0)
			return k;
	if (kl >= sizeof(name)) {
		perr(ps, "unknown key");
		return K_COUNT;
	}
	memcpy(name, s, kl);
	name[kl] = '\0';
	if ((hint = profile_suggest(name)) != NULL)
		perr(ps, "unknown key '%s' (did you mean '%s'?)", name, hint);
	else
		perr(ps, "unknown key '%s'", name);
	return K_COUNT;
}

/* key k's value as written, v of vl bytes (blanks around it trimmed) */
static void
parse_value(struct parse *ps, int k, const char *v, size_t vl)
{
	char val[INI_LINE_MAX + 1];

	if (ps->line[k]) {
		perr(ps, "'%s' is already set on line %d", keys[k],
		    ps->line[k]);
		return;
	}
	ps->line[k] = ps->lineno;
	if (vl == 0) {
		perr(ps, "'%s' has no value", keys[k]);
		return;
	}
	if (memchr(v, '\r', vl) != NULL) {
		perr(ps, "'%s' holds a carriage return", keys[k]);
		return;
	}
	memcpy(val, v, vl);
	val[vl] = '\0';
	handle_value(ps, k, val, vl);
	explicit_bzero(val, vl);
}

/* one line without its end of line, at most INI_LINE_MAX bytes */
static void
parse_line(struct parse *ps, const char *s, size_t n)
{
	const char *sep, *v;
	size_t i, kl, vl;
	int k;

	for (i = 0; i < n && blank(s[i]); i++)
		;
	if (i == n || s[0] == '#' || s[0] == ';')
		return;
	if (i > 0) {
		perr(ps, "indented line; keys start at the beginning of the "
		    "line");
		return;
	}
	if (s[0] == '[') {
		parse_section(ps, s, n);
		return;
	}
	/* key, then the value as written: after the first '=' or ':' */
	for (sep = s; sep < s + n && *sep != '=' && *sep != ':'; sep++)
		;
	for (kl = (size_t)(sep - s); kl && blank(s[kl - 1]); kl--)
		;
	if (sep == s + n || kl == 0) {
		perr(ps, "expected '[profile]', 'key = value' or a comment");
		return;
	}
	if ((k = parse_key(ps, s, kl)) == K_COUNT)
		return;
	if (k == K_SECRET) {
		ps->holds_secret = 1;
		if (untrusted(ps, "secret_access_key"))
			return;
	}
	/* a journal connection string with a password in it is a secret */
	if (k == K_JOURNAL && value_has_password(sep + 1, (size_t)(s + n -
	    sep - 1)) && untrusted(ps, "a journal password"))
		return;
	if (!ps->in_section)
		return;
	for (v = sep + 1; v < s + n && blank(*v); v++)
		;
	for (vl = (size_t)(s + n - v); vl && blank(v[vl - 1]); vl--)
		;
	parse_value(ps, k, v, vl);
}

static int
parse_text(struct profile *p, const char *text, size_t len,
    const char *fname, const char *section, const struct stat *st,
    int *found, int *holds_secret, char *err, size_t errlen)
{
	struct parse ps;
	const char *s = text, *end = text + len, *nl;
	size_t n;

	memset(&ps, 0, sizeof(ps));
	ps.p = p;
	ps.fname = fname;
	ps.section = section;
	ps.st = st;
	ps.err = err;
	ps.errlen = errlen;
	*found = *holds_secret = 0;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "'%s': not a text file", fname);
		return -1;
	}
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;		/* a UTF-8 byte order mark, as editors write */
	for (; s < end && !ps.stop; s = nl ? nl + 1 : end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl ? nl : end) - s);
		if (n && s[n - 1] == '\r')
			n--;
		ps.lineno++;
		if (n > INI_LINE_MAX) {
			perr(&ps, "line too long (more than %d bytes)",
			    INI_LINE_MAX);
			break;
		}
		parse_line(&ps, s, n);
	}
	/* where each key was set: 'agcod config list' names the line */
	_Static_assert(K_COUNT <= PROFILE_NKEYS, "PROFILE_NKEYS is too small");
	memcpy(p->key_line, ps.line, sizeof(ps.line));
	*found = ps.found;
	*holds_secret = ps.holds_secret;
	return ps.failed ? -1 : 0;
}

int
profile_parse(struct profile *p, const char *text, size_t len,
    const char *fname, const char *section, int *found, int *holds_secret,
    char *err, size_t errlen)
{
	return parse_text(p, text, len, fname, section, NULL, found,
	    holds_secret, err, errlen);
}

static const char *
home(void)
{
	const char *h = getenv("HOME");

	return h && *h ? h : "/";
}

static const char *
envv(const struct profile_opts *o, const char *name)
{
	const char *v = o->env ? o->env(name) : getenv(name);

	return v && *v ? v : NULL;
}

/*
 * The profiles of a file, as "a, b, c" in `list`, and the one nearest to
 * `want` in `best` ("" when none is near): for "profile not found".
 * Section names only: the file may hold a secret, nothing else is read.
 */
static void
profile_names(const char *text, size_t len, const char *want, char *list,
    size_t n, char *best, size_t bn)
{
	const char *s = text, *end = text + len, *nl, *e, *b;
	struct suggest sg = { want, NULL, 0 };
	char name[sizeof(((struct profile *)0)->name)];
	size_t used = 0, l;

	list[0] = best[0] = '\0';
	for (; s < end; s = nl ? nl + 1 : end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		l = (size_t)((nl ? nl : end) - s);
		if (l < 3 || s[0] != '[' || (e = memchr(s, ']', l)) == NULL)
			continue;
		for (b = s + 1; b < e && blank(*b); b++)	/* as parse_line */
			;
		while (e > b && blank(e[-1]))
			e--;
		if (e == b || (size_t)(e - b) >= sizeof(name))
			continue;
		memcpy(name, b, (size_t)(e - b));
		name[e - b] = '\0';
		if (used < n)
			used += (size_t)snprintf(list + used, n - used, "%s%s",
			    used ? ", " : "", name);
		suggest_consider(&sg, name);
		if (sg.best == name) {	/* kept: copy it before it changes */
			strlcpy(best, name, bn);
			sg.best = best;
		}
	}
}

/*
 * Read the file through one descriptor, into one buffer: fstat on that
 * descriptor first (a regular file, its size, owner and mode), then parse;
 * the buffer is wiped whatever happens.
 */
static enum agcod_result
read_config(struct profile *p, const struct profile_opts *o, int required,
    int journal_only)
{
	struct stat st;
	char err[700], *text = NULL;
	ssize_t n;
	size_t got = 0;
	int fd, found = 0, holds = 0, r = AGCOD_E_CONFIG;
	const char *section = p->name;

	if ((fd = open(p->config_path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT && (!required || journal_only))
			return 0;	/* none: for a journal, the state dir's */
		msg_err("cannot open configuration '%s': %s", p->config_path,
		    strerror(errno));
		return AGCOD_E_CONFIG;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		msg_err("configuration '%s' is not a regular file",
		    p->config_path);
		goto done;
	}
	if (st.st_size > CONFIG_MAX) {
		msg_err("configuration '%s' is larger than %d bytes",
		    p->config_path, CONFIG_MAX);
		goto done;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL)
		goto done;
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			msg_err("cannot read configuration '%s': %s",
			    p->config_path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (parse_text(p, text, got, p->config_path, section, &st, &found,
	    &holds, err, sizeof(err)) == -1) {
		msg_err("%s", err);
		goto done;
	}
	p->config_read = 1;
	if (!found) {
		int env_complete = envv(o, "AGCOD_PARTNER_ID") &&
		    envv(o, "AGCOD_ACCESS_KEY_ID") &&
		    envv(o, "AGCOD_SECRET_ACCESS_KEY");
		int named = o->profile || envv(o, "AGCOD_PROFILE");

		if (named || (!env_complete && !journal_only)) {
			char list[512], best[sizeof(p->name)];

			profile_names(text, got, p->name, list, sizeof(list),
			    best, sizeof(best));
			msg_err("profile '%s' not found in '%s'%s%s%s; profiles: "
			    "%s", p->name, p->config_path, best[0] ?
			    " (did you mean '" : "", best, best[0] ? "'?)" : "",
			    list[0] ? list : "none");
			goto done;
		}
	}
	r = 0;
done:
	if (text) {
		explicit_bzero(text, (size_t)st.st_size + 1);
		free(text);
	}
	close(fd);
	return r;
}

static enum agcod_result
set_endpoint(struct profile *p, const char *url, const char *origin)
{
	const char *h;
	size_t n;

	if (strncmp(url, "https://", 8) != 0) {
		msg_err("%s: endpoint must start with https://", origin);
		return AGCOD_E_CONFIG;
	}
	h = url + 8;
	n = strcspn(h, "/?#");
	if (n == 0 || (h[n] && strcmp(h + n, "/") != 0) || strchr(h, '@') ||
	    n >= sizeof(p->host)) {
		msg_err("%s: endpoint must be https://HOST[:PORT] with no "
		    "path", origin);
		return AGCOD_E_CONFIG;
	}
	memcpy(p->host, h, n);
	p->host[n] = '\0';
	snprintf(p->endpoint, sizeof(p->endpoint), "https://%s", p->host);
	return 0;
}

static enum agcod_result
env_override(const struct profile_opts *o, const char *name, char *dst,
    size_t n)
{
	const char *v = envv(o, name);

	if (v == NULL)
		return 0;
	if (strlcpy(dst, v, n) >= n) {
		msg_err("%s is longer than %zu characters", name, n - 1);
		return AGCOD_E_CONFIG;
	}
	return 0;
}

static enum agcod_result load(struct profile *, const struct profile_opts *,
	    int);

enum agcod_result
profile_load(struct profile *p, const struct profile_opts *o)
{
	return load(p, o, 0);
}

enum agcod_result
profile_load_partial(struct profile *p, const struct profile_opts *o)
{
	return load(p, o, 1);
}

enum agcod_result
profile_load_journal(struct profile *p, const struct profile_opts *o)
{
	return load(p, o, 2);
}

/* the profile's name and the defaults */
static enum agcod_result
load_name(struct profile *p, const struct profile_opts *o)
{
	const char *v;

	memset(p, 0, sizeof(*p));
	p->region = &regions[0];
	p->max_rps = 10;
	v = o->profile ? o->profile : envv(o, "AGCOD_PROFILE");
	/* never cut: the first 63 bytes may name another profile */
	if (strlcpy(p->name, v ? v : "default", sizeof(p->name)) >=
	    sizeof(p->name)) {
		msg_err("%s: the profile name is longer than %zu bytes",
		    o->profile ? "-p" : "AGCOD_PROFILE", sizeof(p->name) - 1);
		return o->profile ? AGCOD_E_BAD_INPUT : AGCOD_E_CONFIG;
	}
	return 0;
}

/* where the configuration is; *required: it was named, so it must be there */
static enum agcod_result
load_config_path(struct profile *p, const struct profile_opts *o,
    int *required)
{
	const char *v, *cfg;
	int r;

	if ((cfg = o->config) != NULL || (cfg = envv(o, "AGCOD_CONFIG")) != NULL)
		*required = 1;
	if (cfg)
		r = strlcpy(p->config_path, cfg, sizeof(p->config_path)) >=
		    sizeof(p->config_path);
	else if ((v = envv(o, "XDG_CONFIG_HOME")) != NULL)
		r = snprintf(p->config_path, sizeof(p->config_path),
		    "%s/agcod/config.ini", v) >= (int)sizeof(p->config_path);
	else
		r = snprintf(p->config_path, sizeof(p->config_path),
		    "%s/.config/agcod/config.ini", home()) >=
		    (int)sizeof(p->config_path);
	if (r) {
		msg_err("configuration path is too long");
		return AGCOD_E_CONFIG;
	}
	return 0;
}

static enum agcod_result
load_env(struct profile *p, const struct profile_opts *o)
{
	const char *v;
	int r;

	/* the environment overrides the file */
	if ((r = env_override(o, "AGCOD_PARTNER_ID", p->partner_id,
	    sizeof(p->partner_id))) || (r = env_override(o,
	    "AGCOD_ACCESS_KEY_ID", p->access_key_id,
	    sizeof(p->access_key_id))) || (r = env_override(o,
	    "AGCOD_CURRENCY", p->currency, sizeof(p->currency))) ||
	    (r = env_override(o, "AGCOD_JOURNAL", p->journal,
	    sizeof(p->journal))))
		return r;
	if ((v = envv(o, "AGCOD_SECRET_ACCESS_KEY")) != NULL) {
		if (strlen(v) > SECRET_MAX) {
			msg_err("AGCOD_SECRET_ACCESS_KEY is too long");
			return AGCOD_E_CONFIG;
		}
		if (p->secret) {
			explicit_bzero(p->secret, p->secret_len);
			free(p->secret);
		}
		p->secret = strdup(v);
		p->secret_len = strlen(v);
		p->secret_command[0] = '\0';
		strlcpy(p->secret_origin, "AGCOD_SECRET_ACCESS_KEY",
		    sizeof(p->secret_origin));
	}
	v = o->region ? o->region : envv(o, "AGCOD_REGION");
	if (v && (p->region = region_find(v)) == NULL) {
		msg_err("%s: region is not one of na, eu, fe",
		    o->region ? "--region" : "AGCOD_REGION");
		return AGCOD_E_CONFIG;
	}
	v = o->environment ? o->environment : envv(o, "AGCOD_ENVIRONMENT");
	if (v) {
		if (strcmp(v, "sandbox") && strcmp(v, "production")) {
			msg_err("%s: environment is not sandbox or "
			    "production", o->environment ? "--environment" :
			    "AGCOD_ENVIRONMENT");
			return AGCOD_E_CONFIG;
		}
		p->production = strcmp(v, "production") == 0;
	}
	if (o->cacert && strlcpy(p->ca_bundle, o->cacert,
	    sizeof(p->ca_bundle)) >= sizeof(p->ca_bundle)) {
		msg_err("--cacert path is too long");
		return AGCOD_E_CONFIG;
	}
	return 0;
}

static enum agcod_result
load_endpoint(struct profile *p, const struct profile_opts *o)
{
	char origin[PATH_MAX + 64];
	const char *v;
	int r;

	/* endpoint: --endpoint, AGCOD_ENDPOINT, the profile, else the region's */
	if ((v = o->endpoint) != NULL)
		snprintf(origin, sizeof(origin), "--endpoint");
	else if ((v = envv(o, "AGCOD_ENDPOINT")) != NULL)
		snprintf(origin, sizeof(origin), "AGCOD_ENDPOINT");
	else if (p->endpoint[0]) {
		v = strdupa(p->endpoint);
		snprintf(origin, sizeof(origin), "'%s'", p->config_path);
	}
	if (v) {
		if ((r = set_endpoint(p, v, origin)) != 0)
			return r;
	} else {
		snprintf(p->host, sizeof(p->host), "%s", p->production ?
		    p->region->production_host : p->region->sandbox_host);
		snprintf(p->endpoint, sizeof(p->endpoint), "https://%s",
		    p->host);
	}
	return 0;
}

static enum agcod_result
load_key_id(struct profile *p, const struct profile_opts *o)
{
	/*
	 * Before it is signed, sent, printed or traced: an access key id is
	 * upper-case letters and digits (AKIA...), so a secret pasted there
	 * (lower case, '/', '+') is caught, and never quoted.
	 */
	if (p->access_key_id[0] && !access_key_ok(p->access_key_id)) {
		int line = profile_key_line(p, "access_key_id");

		if (envv(o, "AGCOD_ACCESS_KEY_ID") || !line)
			msg_err("AGCOD_ACCESS_KEY_ID is not an access key id "
			    "(upper-case letters and digits, such as AKIA...); "
			    "is a secret there? nothing was sent");
		else
			msg_err("'%s' line %d: access_key_id is not an access "
			    "key id (upper-case letters and digits, such as "
			    "AKIA...); is a secret there? nothing was sent",
			    p->config_path, line);
		return AGCOD_E_CONFIG;
	}
	return 0;
}

/* what every profile must have (config list shows what is set) */
static enum agcod_result
load_complete(struct profile *p, const struct profile_opts *o)
{
	const char *v, *why;

	if (p->partner_id[0] == '\0' || p->access_key_id[0] == '\0' ||
	    (p->secret == NULL && p->secret_command[0] == '\0')) {
		const char *miss = p->partner_id[0] == '\0' ? "partner_id" :
		    p->access_key_id[0] == '\0' ? "access_key_id" :
		    "secret_access_key";

		if (p->config_read)
			msg_err("profile '%s' in '%s' has no %s", p->name,
			    p->config_path, miss);
		else
			msg_err("no %s: no configuration at '%s' and no "
			    "AGCOD_PARTNER_ID, AGCOD_ACCESS_KEY_ID and "
			    "AGCOD_SECRET_ACCESS_KEY in the environment; "
			    "start from %s (see agcod.ini(5))", miss,
			    p->config_path, EXAMPLE_CONFIG);
		return AGCOD_E_CONFIG;
	}
	if (p->secret && p->secret_command[0]) {
		msg_err("profile '%s' in '%s' sets both secret_access_key and "
		    "secret_access_key_command; keep one", p->name,
		    p->config_path);
		return AGCOD_E_CONFIG;
	}
	/* values from the environment, checked as the file's are */
	if ((v = envv(o, "AGCOD_PARTNER_ID")) && (why = partner_why(v))) {
		msg_err("AGCOD_PARTNER_ID %s", why);
		return AGCOD_E_CONFIG;
	}
	if ((v = envv(o, "AGCOD_CURRENCY")) && currency_find(v) == NULL) {
		msg_err("AGCOD_CURRENCY is not one of %s", currency_list());
		return AGCOD_E_CONFIG;
	}
	return 0;
}

static enum agcod_result
load(struct profile *p, const struct profile_opts *o, int partial)
{
	int r, required = 0;

	if ((r = load_name(p, o)) != 0 ||
	    (r = load_config_path(p, o, &required)) != 0 ||
	    (r = read_config(p, o, required, partial == 2)) != 0 ||
	    (r = load_env(p, o)) != 0 || (r = load_endpoint(p, o)) != 0 ||
	    (r = load_key_id(p, o)) != 0)
		return r;
	return partial ? 0 : load_complete(p, o);
}

/* the child's side: stdin /dev/null, stdout the pipe, nothing above 2 */
static void
exec_helper(char *const argv[], int out)
{
	long i, max;
	int devnull;

	if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(devnull, 0) == -1 || dup2(out, 1) == -1 ||
	    fcntl(1, F_SETFD, 0) == -1 || fcntl(0, F_SETFD, 0) == -1)
		_exit(127);
	if (close_range(3, ~0U, 0) == -1) {
		max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (i = 3; i < max; i++)
			close((int)i);
	}
	execvp(argv[0], argv);
	/* stderr is agcod's: say why here, the parent sees exit 127 */
	{
		char m[PATH_MAX + 128];
		int n = snprintf(m, sizeof(m), "agcod: cannot run '%s': %s\n",
		    argv[0], strerror(errno));

		if (n > 0 && write(2, m, (size_t)n < sizeof(m) ? (size_t)n :
		    sizeof(m) - 1) < 0)
			_exit(127);
	}
	_exit(127);
}

/*
 * Read the helper's first line, and wait for the helper to exit, within
 * SECRET_CMD_TIMEOUT seconds.  Never waits for end of file: a child the
 * helper left in the background may hold the pipe open for as long as it
 * likes.  0 when the helper exited (status in *status), -1 on timeout.
 */
static int
collect_secret(pid_t pid, int fd, char *out, size_t outlen, size_t *got,
    int *status)
{
	long long deadline = mono_ms() + SECRET_CMD_TIMEOUT * 1000LL, left;
	char sink[512];
	struct pollfd pfd;
	int exited = 0, eof = 0, line = 0;
	ssize_t n;

	for (;;) {
		if (!exited && waitpid(pid, status, WNOHANG) == pid)
			exited = 1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		/* after the exit, only what is already in the pipe */
		if (!eof && poll(&pfd, 1, 0) == 1) {
			if (line || *got == outlen - 1)
				n = read(fd, sink, sizeof(sink));
			else
				n = read(fd, out + *got, outlen - 1 - *got);
			if (n == 0)
				eof = 1;
			else if (n > 0 && !line && *got < outlen - 1) {
				*got += (size_t)n;
				line = memchr(out, '\n', *got) != NULL;
			}
			if (n != -1 || errno == EINTR || errno == EAGAIN)
				continue;
			eof = 1;
		}
		if (exited) {
			explicit_bzero(sink, sizeof(sink));
			return 0;
		}
		if ((left = deadline - mono_ms()) <= 0) {
			explicit_bzero(sink, sizeof(sink));
			return -1;
		}
		/* wake on output at once, every 10 ms to look for the exit */
		pfd.fd = eof ? -1 : fd;
		poll(&pfd, 1, left < 10 ? (int)left : 10);
	}
}

/*
 * secret_access_key_command: split at blanks into words, no quoting and no
 * expansion of any kind; the first word is looked up in PATH.  Standard input
 * is /dev/null, standard error is agcod's, no other descriptor is inherited,
 * and the first line of standard output is the secret.  The command has
 * SECRET_CMD_TIMEOUT seconds to print it and exit.
 */
enum agcod_result
profile_need_secret(struct profile *p)
{
	char *argv[64], cmd[sizeof(p->secret_command)], out[SECRET_MAX + 2];
	size_t argc = 0, got = 0;
	int fds[2], status = 0;
	pid_t pid;
	char *w, *save = NULL;

	if (p->secret)
		return 0;
	strlcpy(cmd, p->secret_command, sizeof(cmd));
	for (w = strtok_r(cmd, " \t", &save); w && argc < 63;
	    w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	if (argc == 0) {
		msg_err("secret_access_key_command is empty");
		return AGCOD_E_CONFIG;
	}
	if (pipe2(fds, O_CLOEXEC) == -1)
		goto syserr;
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		goto syserr;
	}
	if (pid == 0)
		exec_helper(argv, fds[1]);
	close(fds[1]);
	if (collect_secret(pid, fds[0], out, sizeof(out), &got, &status) ==
	    -1) {
		close(fds[0]);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		explicit_bzero(out, sizeof(out));
		msg_err("secret_access_key_command '%s' did not print the "
		    "secret and exit within %d seconds", argv[0],
		    SECRET_CMD_TIMEOUT);
		return AGCOD_E_CONFIG;
	}
	close(fds[0]);
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(out, sizeof(out));
		msg_err("secret_access_key_command '%s' failed (exit status "
		    "%d)", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return AGCOD_E_CONFIG;
	}
	if (out[0] == '\0' || strlen(out) > SECRET_MAX) {
		explicit_bzero(out, sizeof(out));
		msg_err("secret_access_key_command '%s' printed no usable "
		    "secret on its first line", argv[0]);
		return AGCOD_E_CONFIG;
	}
	p->secret = strdup(out);
	p->secret_len = strlen(out);
	explicit_bzero(out, sizeof(out));
	snprintf(p->secret_origin, sizeof(p->secret_origin),
	    "secret_access_key_command");
	return p->secret ? 0 : AGCOD_E_INTERNAL;
syserr:
	msg_err("cannot run secret_access_key_command: %s", strerror(errno));
	return AGCOD_E_CONFIG;
}

void
profile_free(struct profile *p)
{
	explicit_bzero(p->journal, sizeof(p->journal));
	if (p->secret) {
		explicit_bzero(p->secret, p->secret_len);
		free(p->secret);
	}
	explicit_bzero(p, sizeof(*p));
}

/* the line of the profile's section that set `key`, 0 when none did */
int
profile_key_line(const struct profile *p, const char *key)
{
	size_t k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(keys[k], key) == 0)
			return p->key_line[k];
	return 0;
}

const char *
profile_key_name(size_t k)
{
	return k < K_COUNT ? keys[k] : NULL;
}
