/*
 * profile.c - configuration: an INI file read through libinih, then the
 * AGCOD_* environment, then command-line overrides.
 *
 * libinih (as Debian builds it) strips " ;" inline comments and joins
 * indented lines to the previous value.  The contract says only whole lines
 * are comments, and a secret may contain " ;".  So we feed inih through our
 * own line reader, which remembers the raw line, and take the value from
 * that raw line; indented lines are refused instead of being joined.
 */
#include <sys/stat.h>
#include <sys/wait.h>

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
#include <ini.h>

#include "agcod.h"
#include "amount.h"
#include "msg.h"
#include "profile.h"
#include "reqid.h"
#include "suggest.h"

#define CONFIG_MAX	(64 * 1024)
#define SECRET_MAX	1024

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
	K_KEY_CREATED, K_COUNT
};

static const char *const keys[K_COUNT] = {
	"partner_id", "access_key_id", "secret_access_key",
	"secret_access_key_command", "region", "environment", "currency",
	"endpoint", "ca_bundle", "max_rps", "key_created",
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

struct reader {
	const char	*data;
	size_t		 len, pos;
	int		 line;
	const char	*cur;		/* raw text of the line inih handles */
	size_t		 curlen;
	int		 long_line;
};

static char *
reader_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	const char *p, *nl;
	size_t n, copy;

	if (r->pos >= r->len)
		return NULL;
	p = r->data + r->pos;
	nl = memchr(p, '\n', r->len - r->pos);
	n = nl ? (size_t)(nl - p) + 1 : r->len - r->pos;
	r->pos += n;
	r->line++;
	r->cur = p;
	r->curlen = n;
	while (r->curlen && (p[r->curlen - 1] == '\n' || p[r->curlen - 1] == '\r'))
		r->curlen--;
	copy = n < (size_t)num - 1 ? n : (size_t)num - 1;
	if (copy < n && !r->long_line)
		r->long_line = r->line;
	memcpy(str, p, copy);
	str[copy] = '\0';
	return str;
}

struct parse {
	struct reader	 rd;
	struct profile	*p;
	const char	*fname;
	const char	*section;
	int		 found;
	int		 holds_secret;
	int		 line[K_COUNT];
	char		*err;
	size_t		 errlen;
	int		 failed;
};

static int
perr(struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
	    ps->rd.line, m);
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

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	const char *raw = ps->rd.cur, *sep, *v;
	char val[1024];
	size_t rl = ps->rd.curlen, vl;
	int k;

	(void)value;	/* inih's copy may have lost an inline " ;..." */
	if (rl && (raw[0] == ' ' || raw[0] == '\t'))
		return perr(ps, "indented line; keys start at the beginning of "
		    "the line");
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(name, keys[k]) == 0)
			break;
	if (k == K_COUNT) {
		const char *s = profile_suggest(name);

		return s ? perr(ps, "unknown key '%s' (did you mean '%s'?)",
		    name, s) : perr(ps, "unknown key '%s'", name);
	}
	if (k == K_SECRET)
		ps->holds_secret = 1;
	if (strcmp(section, ps->section) != 0)
		return 1;
	ps->found = 1;
	if (ps->line[k])
		return perr(ps, "'%s' is already set on line %d", name,
		    ps->line[k]);
	ps->line[k] = ps->rd.line;
	/* the value as written: after the first '=' or ':', trimmed */
	sep = raw;
	while (sep < raw + rl && *sep != '=' && *sep != ':')
		sep++;
	if (sep == raw + rl)
		return perr(ps, "expected 'key = value'");
	for (v = sep + 1; v < raw + rl && (*v == ' ' || *v == '\t'); v++)
		;
	vl = (size_t)(raw + rl - v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= sizeof(val))
		return perr(ps, "the value of '%s' is too long", name);
	memcpy(val, v, vl);
	val[vl] = '\0';
	if (vl == 0)
		return perr(ps, "'%s' has no value", name);

	switch (k) {
	case K_PARTNER:
		if (partner_why(val))
			return perr(ps, "partner_id '%s' %s", val,
			    partner_why(val));
		return setv(ps, ps->p->partner_id, sizeof(ps->p->partner_id),
		    name, val);
	case K_ACCESS_KEY:
		return setv(ps, ps->p->access_key_id,
		    sizeof(ps->p->access_key_id), name, val);
	case K_SECRET:
		if (vl > SECRET_MAX)
			return perr(ps, "secret_access_key is too long");
		free(ps->p->secret);
		ps->p->secret = strdup(val);
		ps->p->secret_len = vl;
		explicit_bzero(val, sizeof(val));
		snprintf(ps->p->secret_origin, sizeof(ps->p->secret_origin),
		    "'%s' line %d", ps->fname, ps->rd.line);
		return ps->p->secret ? 1 : perr(ps, "out of memory");
	case K_SECRET_CMD:
		return setv(ps, ps->p->secret_command,
		    sizeof(ps->p->secret_command), name, val);
	case K_REGION:
		if ((ps->p->region = region_find(val)) == NULL)
			return perr(ps, "region '%s' is not one of na, eu, fe",
			    val);
		return 1;
	case K_ENVIRONMENT:
		if (strcmp(val, "sandbox") && strcmp(val, "production"))
			return perr(ps, "environment '%s' is not sandbox or "
			    "production", val);
		ps->p->production = strcmp(val, "production") == 0;
		return 1;
	case K_CURRENCY:
		if (currency_find(val) == NULL)
			return perr(ps, "currency '%s' is not one of %s", val,
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
			return perr(ps, "max_rps '%s' is %s (1 to 10)", val, why);
		ps->p->max_rps = (int)n;
		return 1;
	}
	case K_KEY_CREATED: {
		struct tm tm;
		const char *e;

		memset(&tm, 0, sizeof(tm));
		if ((e = strptime(val, "%Y-%m-%d", &tm)) == NULL || *e != '\0')
			return perr(ps, "key_created '%s' is not a date "
			    "YYYY-MM-DD", val);
		ps->p->key_created = timegm(&tm);
		return 1;
	}
	}
	return 1;
}

int
profile_parse(struct profile *p, const char *text, size_t len,
    const char *fname, const char *section, int *found, int *holds_secret,
    char *err, size_t errlen)
{
	struct parse ps;
	int r;

	memset(&ps, 0, sizeof(ps));
	ps.rd.data = text;
	ps.rd.len = len;
	ps.p = p;
	ps.fname = fname;
	ps.section = section;
	ps.err = err;
	ps.errlen = errlen;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "'%s': not a text file", fname);
		return -1;
	}
	r = ini_parse_stream(reader_line, &ps.rd, handler, &ps);
	_Static_assert(K_COUNT <= PROFILE_NKEYS, "PROFILE_NKEYS is too small");
	memcpy(p->key_line, ps.line, sizeof(ps.line));
	*found = ps.found;
	*holds_secret = ps.holds_secret;
	if (ps.rd.long_line && !ps.failed) {
		snprintf(err, errlen, "'%s' line %d: line too long", fname,
		    ps.rd.long_line);
		return -1;
	}
	if (ps.failed)
		return -1;
	if (r != 0) {
		snprintf(err, errlen, "'%s' line %d: expected '[profile]', "
		    "'key = value' or a comment", fname, r);
		return -1;
	}
	return 0;
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

/* read the file through one descriptor, and trust it only after fstat on it */
static int
read_config(struct profile *p, const struct profile_opts *o, int required)
{
	struct stat st;
	char err[700], *text = NULL;
	ssize_t n;
	size_t got = 0;
	int fd, found = 0, holds = 0, r = EX_CONFIG;
	const char *section = p->name;

	if ((fd = open(p->config_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT && !required)
			return 0;
		msg_err("cannot open configuration '%s': %s", p->config_path,
		    strerror(errno));
		return EX_CONFIG;
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
	while (got < (size_t)st.st_size &&
	    (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (profile_parse(p, text, got, p->config_path, section, &found,
	    &holds, err, sizeof(err)) == -1) {
		msg_err("%s", err);
		goto done;
	}
	if (holds && ((st.st_mode & 077) || st.st_uid != geteuid())) {
		if (st.st_uid != geteuid())
			msg_err("'%s' holds secret_access_key but belongs to "
			    "uid %u, not to you (uid %u); use a file of your "
			    "own with mode 600", p->config_path,
			    (unsigned)st.st_uid, (unsigned)geteuid());
		else
			msg_err("'%s' holds secret_access_key but others can "
			    "access it (mode %03o); run: chmod 600 '%s'",
			    p->config_path, (unsigned)(st.st_mode & 0777),
			    p->config_path);
		goto done;
	}
	p->config_read = 1;
	if (!found) {
		int env_complete = envv(o, "AGCOD_PARTNER_ID") &&
		    envv(o, "AGCOD_ACCESS_KEY_ID") &&
		    envv(o, "AGCOD_SECRET_ACCESS_KEY");
		int named = o->profile || envv(o, "AGCOD_PROFILE");

		if (named || !env_complete) {
			msg_err("profile '%s' not found in '%s'", p->name,
			    p->config_path);
			goto done;
		}
	}
	r = 0;
done:
	if (text) {
		explicit_bzero(text, got);
		free(text);
	}
	close(fd);
	return r;
}

static int
set_endpoint(struct profile *p, const char *url, const char *origin)
{
	const char *h;
	size_t n;

	if (strncmp(url, "https://", 8) != 0) {
		msg_err("%s: endpoint '%s' must start with https://", origin, url);
		return EX_CONFIG;
	}
	h = url + 8;
	n = strcspn(h, "/?#");
	if (n == 0 || (h[n] && strcmp(h + n, "/") != 0) || strchr(h, '@') ||
	    n >= sizeof(p->host)) {
		msg_err("%s: endpoint '%s' must be https://HOST[:PORT] with no "
		    "path", origin, url);
		return EX_CONFIG;
	}
	memcpy(p->host, h, n);
	p->host[n] = '\0';
	snprintf(p->endpoint, sizeof(p->endpoint), "https://%s", p->host);
	return 0;
}

static int
env_override(const struct profile_opts *o, const char *name, char *dst,
    size_t n)
{
	const char *v = envv(o, name);

	if (v == NULL)
		return 0;
	if (strlcpy(dst, v, n) >= n) {
		msg_err("%s is longer than %zu characters", name, n - 1);
		return EX_CONFIG;
	}
	return 0;
}

int
profile_load(struct profile *p, const struct profile_opts *o)
{
	char origin[PATH_MAX + 64];
	const char *v, *cfg, *why;
	int r, required = 0;

	memset(p, 0, sizeof(*p));
	p->region = &regions[0];
	p->max_rps = 10;
	v = o->profile ? o->profile : envv(o, "AGCOD_PROFILE");
	strlcpy(p->name, v ? v : "default", sizeof(p->name));

	if ((cfg = o->config) != NULL || (cfg = envv(o, "AGCOD_CONFIG")) != NULL)
		required = 1;
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
		return EX_CONFIG;
	}
	if ((r = read_config(p, o, required)) != 0)
		return r;

	/* the environment overrides the file */
	if ((r = env_override(o, "AGCOD_PARTNER_ID", p->partner_id,
	    sizeof(p->partner_id))) || (r = env_override(o,
	    "AGCOD_ACCESS_KEY_ID", p->access_key_id,
	    sizeof(p->access_key_id))) || (r = env_override(o,
	    "AGCOD_CURRENCY", p->currency, sizeof(p->currency))))
		return r;
	if ((v = envv(o, "AGCOD_SECRET_ACCESS_KEY")) != NULL) {
		if (strlen(v) > SECRET_MAX) {
			msg_err("AGCOD_SECRET_ACCESS_KEY is too long");
			return EX_CONFIG;
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
		msg_err("%s: region '%s' is not one of na, eu, fe",
		    o->region ? "--region" : "AGCOD_REGION", v);
		return EX_CONFIG;
	}
	v = o->environment ? o->environment : envv(o, "AGCOD_ENVIRONMENT");
	if (v) {
		if (strcmp(v, "sandbox") && strcmp(v, "production")) {
			msg_err("%s: environment '%s' is not sandbox or "
			    "production", o->environment ? "--environment" :
			    "AGCOD_ENVIRONMENT", v);
			return EX_CONFIG;
		}
		p->production = strcmp(v, "production") == 0;
	}
	if (o->cacert && strlcpy(p->ca_bundle, o->cacert,
	    sizeof(p->ca_bundle)) >= sizeof(p->ca_bundle)) {
		msg_err("--cacert path is too long");
		return EX_CONFIG;
	}

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

	/* what every profile must have */
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
			    "AGCOD_SECRET_ACCESS_KEY in the environment "
			    "(see agcod.ini(5))", miss, p->config_path);
		return EX_CONFIG;
	}
	if (p->secret && p->secret_command[0]) {
		msg_err("profile '%s' in '%s' sets both secret_access_key and "
		    "secret_access_key_command; keep one", p->name,
		    p->config_path);
		return EX_CONFIG;
	}
	/* values from the environment, checked as the file's are */
	if ((v = envv(o, "AGCOD_PARTNER_ID")) && (why = partner_why(v))) {
		msg_err("AGCOD_PARTNER_ID '%s' %s", v, why);
		return EX_CONFIG;
	}
	if (strcspn(p->access_key_id, " \t\r\n") != strlen(p->access_key_id)) {
		msg_err("the access key id holds white space");
		return EX_CONFIG;
	}
	if ((v = envv(o, "AGCOD_CURRENCY")) && currency_find(v) == NULL) {
		msg_err("AGCOD_CURRENCY '%s' is not one of %s", v,
		    currency_list());
		return EX_CONFIG;
	}
	return 0;
}

/*
 * secret_access_key_command: split at blanks into words, no quoting and no
 * expansion of any kind; the first word is looked up in PATH.  Standard input
 * is /dev/null, standard error is agcod's, and the first line of standard
 * output is the secret.
 */
int
profile_need_secret(struct profile *p)
{
	char *argv[64], cmd[sizeof(p->secret_command)], out[SECRET_MAX + 2];
	size_t argc = 0, got = 0;
	int fds[2], status, devnull;
	ssize_t n;
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
		return EX_CONFIG;
	}
	if (pipe2(fds, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		msg_err("cannot run secret_access_key_command: %s",
		    strerror(errno));
		return EX_CONFIG;
	}
	if (pid == 0) {
		/* close-on-exec: the command gets 0, 1, 2 and nothing else */
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull == -1 || dup2(devnull, 0) == -1 ||
		    dup2(fds[1], 1) == -1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "agcod: cannot run '%s': %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	/* drain the rest so the command never blocks on a full pipe */
	{
		char sink[512];

		while (read(fds[0], sink, sizeof(sink)) > 0)
			;
		explicit_bzero(sink, sizeof(sink));
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(out, sizeof(out));
		msg_err("secret_access_key_command '%s' failed (exit status "
		    "%d)", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return EX_CONFIG;
	}
	if (out[0] == '\0' || strlen(out) > SECRET_MAX) {
		explicit_bzero(out, sizeof(out));
		msg_err("secret_access_key_command '%s' printed no usable "
		    "secret on its first line", argv[0]);
		return EX_CONFIG;
	}
	p->secret = strdup(out);
	p->secret_len = strlen(out);
	explicit_bzero(out, sizeof(out));
	snprintf(p->secret_origin, sizeof(p->secret_origin),
	    "secret_access_key_command");
	return p->secret ? 0 : EX_SOFTWARE;
}

void
profile_free(struct profile *p)
{
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
