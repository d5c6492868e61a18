/*
 * cmd_config.c - config list: each effective setting of a profile and where
 * it came from (like 'aws configure list'); config profiles: the profile
 * names of the configuration file.  The secret is shown only as its last
 * four characters.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agcod.h"
#include "ctx.h"
#include "msg.h"
#include "output.h"
#include "suggest.h"

#define CONFIG_MAX	(64 * 1024)
#define NSETTINGS	(PROFILE_NKEYS + 4)

/* the keys config_list() shows with their effective value and origin */
static const char *const shown[] = {
	"partner_id", "access_key_id", "secret_access_key",
	"secret_access_key_command", "region", "environment", "endpoint",
	"currency", "ca_bundle", "max_rps", "journal",
};

static const char *
envv(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/*
 * The configuration file and why that one: the rule of profile_load()
 * (-c, AGCOD_CONFIG, XDG_CONFIG_HOME, HOME).
 */
static int
config_path(const struct cmd_ctx *c, char *path, size_t len,
    const char **origin)
{
	const char *v;
	int r;

	if ((v = c->args.val[O_CONFIG]) != NULL) {
		*origin = "--config";
		r = snprintf(path, len, "%s", v);
	} else if ((v = envv("AGCOD_CONFIG")) != NULL) {
		*origin = "AGCOD_CONFIG";
		r = snprintf(path, len, "%s", v);
	} else if ((v = envv("XDG_CONFIG_HOME")) != NULL) {
		*origin = "XDG_CONFIG_HOME";
		r = snprintf(path, len, "%s/agcod/config.ini", v);
	} else {
		*origin = "default";
		r = snprintf(path, len, "%s/.config/agcod/config.ini",
		    envv("HOME") ? envv("HOME") : "");
	}
	if (r < 0 || (size_t)r >= len) {
		msg_err("configuration path is too long");
		return EX_CONFIG;
	}
	return 0;
}

/*
 * The whole configuration file, NUL-terminated, in one allocation that the
 * caller wipes (it may hold the secret); NULL with errno.
 */
static char *
read_text(const char *path, size_t *len)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	text[got] = '\0';
	*len = got;
	return text;
}

/* config profiles: the [sections] of the file, in order, one a line */
static int
config_profiles(struct cmd_ctx *c)
{
	char path[PATH_MAX], *text, *line, *save = NULL;
	const char *origin;
	size_t got = 0;
	int rc;

	if ((rc = config_path(c, path, sizeof(path), &origin)) != 0)
		return rc;
	if ((text = read_text(path, &got)) == NULL) {
		if (errno == ENOENT && strcmp(origin, "--config") &&
		    strcmp(origin, "AGCOD_CONFIG"))
			return 0;	/* no file: no profiles */
		msg_err("cannot read configuration '%s': %s", path,
		    errno == EINVAL ? "not a regular file of at most 64 KiB" :
		    strerror(errno));
		return EX_CONFIG;
	}
	/* section names only: the file may hold a secret, nothing else shows */
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t l = strcspn(line, "\r");

		if (line[0] == '[' && l > 2 && line[l - 1] == ']') {
			line[l - 1] = '\0';
			msg_put_shown(stdout, line + 1, strlen(line + 1));
			putchar('\n');
		}
	}
	explicit_bzero(text, got);
	free(text);
	return 0;
}

struct setting {
	char	name[32];
	char	value[PATH_MAX];
	char	origin[PATH_MAX + 32];
	int	unset;	/* shown as <not set>, null in JSON */
};

#define NOT_SET	"<not set>"


/* where a profile key came from: option, environment, file:line, default */
static void
origin_of(const struct profile *p, const char *opt, const char *optval,
    const char *env, const char *key, const char *dflt, char *out, size_t n)
{
	int line = key ? profile_key_line(p, key) : 0;

	if (opt && optval)
		snprintf(out, n, "%s", opt);
	else if (env && envv(env))
		snprintf(out, n, "%s", env);
	else if (line && p->config_read)
		snprintf(out, n, "%s:%d", p->config_path, line);
	else
		snprintf(out, n, "%s", dflt);
}

/* value NULL or "": not set by anything */
static size_t
add(struct setting *s, size_t i, const char *name, const char *value)
{
	strlcpy(s[i].name, name, sizeof(s[i].name));
	s[i].unset = value == NULL || value[0] == '\0';
	strlcpy(s[i].value, s[i].unset ? NOT_SET : value, sizeof(s[i].value));
	return i + 1;
}

/* the secret as '****' and its last four characters, never more */
static void
secret_tail(const struct profile *p, char *out, size_t n)
{
	if (p->secret_len >= 12)
		snprintf(out, n, "****%s", p->secret + p->secret_len - 4);
	else
		snprintf(out, n, "****");
}

/*
 * The value of `key` on line `line` of `text`: after the first '=' or ':',
 * trimmed; -1 unless that line sets that key (the file may have changed).
 */
static int
value_on_line(const char *text, size_t len, const char *key, int line,
    char *out, size_t n)
{
	size_t kl = strlen(key);
	const char *p = text, *end = text + len, *e, *v;
	size_t vl;

	for (; line > 1 && p < end; line--)
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		else
			p++;
	if (p >= end)
		return -1;
	e = memchr(p, '\n', (size_t)(end - p));
	e = e ? e : end;
	while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t)(e - p) <= kl || strncmp(p, key, kl) != 0 ||
	    strspn(p + kl, " \t") + kl >= (size_t)(e - p) ||
	    strchr("=:", p[kl + strspn(p + kl, " \t")]) == NULL)
		return -1;
	v = p + kl + strspn(p + kl, " \t");
	for (v++; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	vl = (size_t)(e - v);
	if (vl >= n)
		vl = n - 1;
	memcpy(out, v, vl);
	out[vl] = '\0';
	return 0;
}

/*
 * The keys of the profile's section that config_list() has no row of its
 * own for (key_created, and keys added later), as written in the file:
 * read again, a regular file that profile_load() has just accepted.
 */
static int
as_written(const struct profile *p, struct setting *s, size_t *i, size_t max)
{
	const char *name;
	char *text = NULL;
	size_t k, j, len = 0;
	int line;

	for (k = 0; (name = profile_key_name(k)) != NULL; k++) {
		for (j = 0; j < sizeof(shown) / sizeof(shown[0]); j++)
			if (strcmp(shown[j], name) == 0)
				break;
		if (j < sizeof(shown) / sizeof(shown[0]) || *i >= max ||
		    (line = profile_key_line(p, name)) == 0 || !p->config_read)
			continue;
		if (text == NULL && (text = read_text(p->config_path,
		    &len)) == NULL) {
			msg_err("cannot read configuration '%s' again: %s",
			    p->config_path, strerror(errno));
			return EX_CONFIG;
		}
		if (value_on_line(text, len, name, line, s[*i].value,
		    sizeof(s[*i].value)) == -1)
			continue;
		strlcpy(s[*i].name, name, sizeof(s[*i].name));
		snprintf(s[*i].origin, sizeof(s[*i].origin), "%s:%d",
		    p->config_path, line);
		(*i)++;
	}
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	return 0;
}

/* the settings every profile has, and where each comes from; 0 or exit */
static int
known_settings(struct cmd_ctx *c, struct setting *s, size_t *ip)
{
	const struct args *a = &c->args;
	struct profile *p = &c->prof;
	const char *origin;
	char buf[64], jshown[400];
	size_t i = 0;
	int rc;

	i = add(s, i, "profile", p->name);
	snprintf(s[0].origin, sizeof(s[0].origin), "%s", a->val[O_PROFILE] ?
	    "--profile" : envv("AGCOD_PROFILE") ? "AGCOD_PROFILE" : "default");
	i = add(s, i, "config", p->config_path);
	if ((rc = config_path(c, s[1].value, sizeof(s[1].value), &origin)) != 0)
		return rc;
	snprintf(s[1].origin, sizeof(s[1].origin), "%s%s", origin,
	    p->config_read ? "" : " (not found)");
	i = add(s, i, "partner_id", p->partner_id);
	origin_of(p, NULL, NULL, "AGCOD_PARTNER_ID", "partner_id", "-",
	    s[i - 1].origin, sizeof(s[0].origin));
	i = add(s, i, "access_key_id", p->access_key_id);
	origin_of(p, NULL, NULL, "AGCOD_ACCESS_KEY_ID", "access_key_id", "-",
	    s[i - 1].origin, sizeof(s[0].origin));
	if (p->secret) {
		secret_tail(p, buf, sizeof(buf));
		i = add(s, i, "secret_access_key", buf);
		origin_of(p, NULL, NULL, "AGCOD_SECRET_ACCESS_KEY",
		    "secret_access_key", "-", s[i - 1].origin,
		    sizeof(s[0].origin));
	} else if (p->secret_command[0] == '\0') {
		i = add(s, i, "secret_access_key", NULL);
		origin_of(p, NULL, NULL, "AGCOD_SECRET_ACCESS_KEY",
		    "secret_access_key", "-", s[i - 1].origin,
		    sizeof(s[0].origin));
	} else {
		/* not run: listing settings has no side effects */
		i = add(s, i, "secret_access_key_command", p->secret_command);
		origin_of(p, NULL, NULL, NULL, "secret_access_key_command",
		    "-", s[i - 1].origin, sizeof(s[0].origin));
	}
	i = add(s, i, "region", p->region->name);
	origin_of(p, "--region", a->val[O_REGION], "AGCOD_REGION", "region",
	    "default", s[i - 1].origin, sizeof(s[0].origin));
	i = add(s, i, "environment", p->production ? "production" : "sandbox");
	origin_of(p, "--environment", a->val[O_ENVIRONMENT],
	    "AGCOD_ENVIRONMENT", "environment", "default", s[i - 1].origin,
	    sizeof(s[0].origin));
	i = add(s, i, "endpoint", p->endpoint);
	origin_of(p, "--endpoint", a->val[O_ENDPOINT], "AGCOD_ENDPOINT",
	    "endpoint", "default (region and environment)", s[i - 1].origin,
	    sizeof(s[0].origin));
	i = add(s, i, "currency", p->currency);
	origin_of(p, NULL, NULL, "AGCOD_CURRENCY", "currency", "-",
	    s[i - 1].origin, sizeof(s[0].origin));
	i = add(s, i, "ca_bundle", p->ca_bundle[0] ? p->ca_bundle : "system");
	origin_of(p, "--cacert", a->val[O_CACERT], NULL, "ca_bundle",
	    "default", s[i - 1].origin, sizeof(s[0].origin));
	snprintf(buf, sizeof(buf), "%d", p->max_rps);
	i = add(s, i, "max_rps", buf);
	origin_of(p, NULL, NULL, NULL, "max_rps", "default", s[i - 1].origin,
	    sizeof(s[0].origin));
	/* where the journal is, never its password */
	if (p->journal[0])
		journal_where_shown(p->journal, jshown, sizeof(jshown));
	i = add(s, i, "journal", p->journal[0] ? jshown : NULL);
	origin_of(p, NULL, NULL, "AGCOD_JOURNAL", "journal",
	    "default (journal.db in state_dir)", s[i - 1].origin,
	    sizeof(s[0].origin));
	*ip = i;
	return 0;
}

/* state_dir, as resolved, and where it comes from */
static int
state_dir_setting(struct cmd_ctx *c, struct setting *s, size_t *ip)
{
	const struct args *a = &c->args;
	size_t i = *ip;

	if (state_dir_resolve(a->val[O_STATE_DIR], s[i].value,
	    sizeof(s[i].value)) == -1) {
		msg_err("the state directory path is too long");
		return EX_CONFIG;
	}
	strlcpy(s[i].name, "state_dir", sizeof(s[i].name));
	snprintf(s[i].origin, sizeof(s[i].origin), "%s",
	    a->val[O_STATE_DIR] ? "--state-dir" : envv("AGCOD_STATE_DIR") ?
	    "AGCOD_STATE_DIR" : envv("XDG_STATE_HOME") ? "XDG_STATE_HOME" :
	    "default");
	i++;
	*ip = i;
	return 0;
}

/* the settings as JSON, or name, value and origin in columns */
static int
print_settings(struct cmd_ctx *c, const struct setting *s, size_t i)
{
	const char *kv[2 * NSETTINGS];
	size_t k;
	int rc;

	if (c->out == OUT_JSON) {
		json_t *o = json_object();

		for (k = 0; k < i; k++)
			json_object_set_new(o, s[k].name, json_pack("{s:s?,s:s}",
			    "value", s[k].unset ? NULL : s[k].value, "origin",
			    s[k].origin));
		rc = output_json(stdout, o) == -1 ? EX_SOFTWARE : 0;
		json_decref(o);
		return rc;
	}
	/* name, value, origin: the origin in a column of its own */
	{
		char *rows[NSETTINGS];
		size_t w = 0, sw[NSETTINGS];

		/* padded by display width: a path may hold 'José' or CJK */
		for (k = 0; k < i; k++)
			if ((sw[k] = msg_shown_width(s[k].value,
			    strlen(s[k].value), 0)) > w)
				w = sw[k];
		for (k = 0; k < i; k++) {
			if (asprintf(&rows[k], "%s%*s  %s", s[k].value,
			    (int)(w - sw[k]), "", s[k].origin) == -1) {
				while (k > 0)
					free(rows[--k]);
				return EX_OSERR;
			}
			kv[2 * k] = s[k].name;
			kv[2 * k + 1] = rows[k];
		}
		output_rows(stdout, kv, 2 * i);
		for (k = 0; k < i; k++)
			free(rows[k]);
	}
	return 0;
}

static int
config_list(struct cmd_ctx *c)
{
	const struct args *a = &c->args;
	struct profile_opts po = {
		a->val[O_PROFILE], a->val[O_CONFIG], a->val[O_REGION],
		a->val[O_ENVIRONMENT], a->val[O_ENDPOINT], a->val[O_CACERT],
		NULL
	};
	struct setting s[NSETTINGS];
	size_t i = 0;
	int rc;

	memset(s, 0, sizeof(s));
	/* what is set, and what is not: a missing key is no error here */
	if ((rc = exit_code(profile_load_partial(&c->prof, &po))) != 0 ||
	    (rc = known_settings(c, s, &i)) != 0)
		return rc;
	/* every other key the section sets, as written */
	if ((rc = as_written(&c->prof, s, &i, NSETTINGS - 1)) != 0 ||
	    (rc = state_dir_setting(c, s, &i)) != 0)
		return rc;
	return print_settings(c, s, i);
}

int
cmd_config(struct cmd_ctx *c)
{
	const char *sub = c->args.npos > 0 ? c->args.pos[0] : NULL;

	if (c->args.npos > 1)
		return usage_error(c->cmd, "unexpected argument '%s'",
		    c->args.pos[1]);
	if (sub && strcmp(sub, "list") == 0)
		return config_list(c);
	if (sub && strcmp(sub, "profiles") == 0)
		return config_profiles(c);
	if (sub) {
		struct suggest sg = { sub, NULL, 0 };

		suggest_consider(&sg, "list");
		suggest_consider(&sg, "profiles");
		if (sg.best)
			return usage_error(c->cmd, "unknown config command "
			    "'%s' (did you mean '%s'?)", sub, sg.best);
		return usage_error(c->cmd, "unknown config command '%s' "
		    "(list or profiles)", sub);
	}
	return usage_error(c->cmd, "config needs list or profiles");
}
