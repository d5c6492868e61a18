/*
 * guard.c - before anything is sent or journaled: a configuration that
 * cannot work is refused (AGCOD_E_CONFIG) instead of being "sent" and journaled, and in
 * production nothing moves money without a confirmation on a terminal or an
 * explicit opt-in (--yes, assume_yes = yes), within the profile's limits.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api.h"
#include "guard.h"
#include "msg.h"

#define ANSWER_MAX	64

/* "yes"/"true" 1, "no"/"false" 0, else -1 */
static int
yes_no(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		return 1;
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		return 0;
	return -1;
}

static int
limit(const char *text, struct amount *a)
{
	return text[0] && amount_parse_number(text, a) == 0 && a->units > 0 ?
	    0 : -1;
}

/* HOST[:PORT], HOST a DNS name or an address, or [IPv6][:PORT] */
static const char *
host_why(const char *hp, char *name, size_t namelen)
{
	const char *p = hp, *end;
	size_t n;

	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return "has an unclosed '['";
		for (p++; p < end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				return "has a character that cannot be in an "
				    "address";
		p = end + 1;
	} else {
		for (; *p && *p != ':'; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '_')
				return "has a character that cannot be in a "
				    "host name (a space?)";
	}
	n = (size_t)(p - hp);
	if (n == 0)
		return "has no host";
	if (n >= namelen)
		return "has a host name that is too long";
	memcpy(name, hp, n);
	name[n] = '\0';
	if (*p == ':') {
		char *e;
		long port;

		p++;
		if (!isdigit((unsigned char)*p))
			return "has a port that is not a number";
		errno = 0;
		port = strtol(p, &e, 10);
		if (*e != '\0' || errno)
			return "has a port that is not a number";
		if (port < 1 || port > 65535)
			return "has a port outside 1 to 65535";
	} else if (*p != '\0')
		return "has a character that cannot be in a host name";
	return NULL;
}

/*
 * 1 production host, 0 sandbox host, -1 any other host; *group: the
 * region group whose host it is
 */
static int
amazon_host(const char *name, const struct region_info **group)
{
	static const char *const groups[] = { "na", "eu", "fe" };
	char h[300];
	size_t i, n;

	n = strlen(name);
	if (n >= sizeof(h))
		return -1;
	memcpy(h, name, n + 1);
	if (n && h[n - 1] == '.')
		h[n - 1] = '\0';
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		const struct region_info *r = region_find(groups[i]);

		*group = r;
		if (r && strcasecmp(h, r->production_host) == 0)
			return 1;
		if (r && strcasecmp(h, r->sandbox_host) == 0)
			return 0;
	}
	*group = NULL;
	return -1;
}

/* where a profile key was set, as "'FILE' line N:", to name it by */
static const char *
setting(const struct profile *p, const char *key, char *buf, size_t n)
{
	int line = profile_key_line(p, key);

	if (line && p->config_read)
		snprintf(buf, n, "'%s' line %d:", p->config_path, line);
	else
		snprintf(buf, n, "the");
	return buf;
}

/* the endpoint: https, a host that can be one, Amazon's of this region
 * and environment if it is Amazon's */
static enum agcod_result
guard_endpoint(const struct profile *p)
{
	const struct region_info *group;
	const char *why;
	char name[300];
	int kind;

	if (strncmp(p->endpoint, "https://", 8) != 0) {
		msg_err("endpoint '%s' must start with https://; nothing was "
		    "sent", p->endpoint);
		return AGCOD_E_CONFIG;
	}
	if ((why = host_why(p->host, name, sizeof(name))) != NULL) {
		char shown[600];

		msg_sanitize(shown, sizeof(shown), p->endpoint,
		    strlen(p->endpoint));
		msg_err("endpoint '%s' %s; nothing was sent", shown, why);
		return AGCOD_E_CONFIG;
	}
	kind = amazon_host(name, &group);
	/* Amazon's host of one region, signed for another: refused there */
	if (kind != -1 && group != p->region) {
		msg_err("endpoint '%s' is Amazon's %s %s host, but profile "
		    "'%s' signs for region '%s' (%s): use --region %s%s, or the "
		    "endpoint https://%s; nothing was sent", p->endpoint,
		    group->name, kind ? "production" : "sandbox", p->name,
		    p->region->name, p->region->signing_region, group->name,
		    kind == p->production ? "" : kind ? " --environment "
		    "production" : " --environment sandbox",
		    p->production ? p->region->production_host :
		    p->region->sandbox_host);
		return AGCOD_E_CONFIG;
	}
	if (kind == 1 && !p->production) {
		msg_err("profile '%s' is a sandbox profile but its endpoint '%s' "
		    "is Amazon's production host; nothing was sent", p->name,
		    p->endpoint);
		return AGCOD_E_CONFIG;
	}
	if (kind == 0 && p->production) {
		msg_err("profile '%s' is a production profile but its endpoint "
		    "'%s' is Amazon's sandbox host; nothing was sent", p->name,
		    p->endpoint);
		return AGCOD_E_CONFIG;
	}
	return AGCOD_OK;
}

/*
 * The CA bundle, a regular file that can be read.  Non-blocking: a FIFO
 * would wait for a writer forever.  The profile's value is not quoted (it
 * may be a misplaced secret): its line is.
 */
static enum agcod_result
guard_ca_bundle(const struct profile *p, int cacert_option)
{
	char kb[PATH_MAX + 32];
	struct stat st;
	int fd;

	if (p->ca_bundle[0] == '\0')
		return AGCOD_OK;
	fd = open(p->ca_bundle, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		const char *err = fd == -1 ? strerror(errno) :
		    "not a regular file";

		if (cacert_option)
			msg_err("--cacert '%s' cannot be read: %s; "
			    "nothing was sent", p->ca_bundle, err);
		else
			msg_err("%s ca_bundle of profile '%s' cannot "
			    "be read: %s; nothing was sent",
			    setting(p, "ca_bundle", kb, sizeof(kb)),
			    p->name, err);
		if (fd != -1)
			close(fd);
		return AGCOD_E_CONFIG;
	}
	close(fd);
	return AGCOD_OK;
}

enum agcod_result
guard_config(const struct profile *p, int cacert_option)
{
	char kb[PATH_MAX + 32];
	struct amount a;
	enum agcod_result rc;

	if ((rc = guard_endpoint(p)) != AGCOD_OK ||
	    (rc = guard_ca_bundle(p, cacert_option)) != AGCOD_OK)
		return rc;
	if (p->max_amount[0] && limit(p->max_amount, &a) == -1) {
		msg_err("%s max_amount of profile '%s' is not a positive "
		    "decimal amount", setting(p, "max_amount", kb, sizeof(kb)),
		    p->name);
		return AGCOD_E_CONFIG;
	}
	if (p->max_batch_total[0] && limit(p->max_batch_total, &a) == -1) {
		msg_err("%s max_batch_total of profile '%s' is not a positive "
		    "decimal amount", setting(p, "max_batch_total", kb,
		    sizeof(kb)), p->name);
		return AGCOD_E_CONFIG;
	}
	if (p->assume_yes[0] && yes_no(p->assume_yes) == -1) {
		msg_err("%s assume_yes of profile '%s' is not yes or no",
		    setting(p, "assume_yes", kb, sizeof(kb)), p->name);
		return AGCOD_E_CONFIG;
	}
	return AGCOD_OK;
}

static enum agcod_result
over(const char *key, const char *text,
    const struct amount *a, const char *cur, const char *what)
{
	struct amount max;
	char amt[AMOUNT_TEXT_MAX];

	if (text[0] == '\0' || limit(text, &max) == -1 ||
	    amount_cmp(a, &max) <= 0)
		return AGCOD_OK;
	amount_format(a, amt, sizeof(amt));
	msg_err("%s %s %s is over the profile's %s of %s; nothing was sent",
	    what, amt, cur ? cur : "", key, text);
	return AGCOD_E_BAD_INPUT;
}

enum agcod_result
guard_amount(const struct profile *p, const struct amount *a,
    const char *cur)
{
	return over("max_amount", p->max_amount, a, cur, "amount");
}

enum agcod_result
guard_batch_total(const struct profile *p, const struct amount *total,
    const char *cur)
{
	return over("max_batch_total", p->max_batch_total, total, cur,
	    "the batch total");
}

/* the first line typed on the terminal, trimmed */
static int
ask(int fd, const char *question, char *answer, size_t n)
{
	size_t got = 0;
	char ch;

	if (write(fd, question, strlen(question)) == -1)
		return -1;
	while (got + 1 < n && read(fd, &ch, 1) == 1 && ch != '\n')
		if (ch != '\r')
			answer[got++] = ch;
	answer[got] = '\0';
	while (got && isspace((unsigned char)answer[got - 1]))
		answer[--got] = '\0';
	return 0;
}

/* --yes or assume_yes = yes */
static int
opted_in(const struct profile *p, int yes)
{
	return yes || yes_no(p->assume_yes) == 1;
}

enum agcod_result
guard_confirm(const struct profile *p, int yes, const char *summary)
{
	char q[1024], answer[ANSWER_MAX], *a;
	int fd, n;

	if (!p->production)
		return AGCOD_OK;
	if (opted_in(p, yes))
		return AGCOD_OK;
	n = snprintf(q, sizeof(q), "agcod: PRODUCTION: %s for partner %s at "
	    "%s\nagcod: proceed? [y/N] ", summary, p->partner_id, p->endpoint);
	if (n < 0 || (size_t)n >= sizeof(q)) {
		msg_err("the confirmation question is too long");
		return AGCOD_E_INTERNAL;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1) {
		msg_err("PRODUCTION: %s for partner %s at %s needs a "
		    "confirmation and there is no terminal to ask on; nothing "
		    "was sent: give --yes, or set assume_yes = yes in profile "
		    "'%s', to confirm from a script", summary, p->partner_id,
		    p->endpoint, p->name);
		return AGCOD_E_BAD_INPUT;
	}
	answer[0] = '\0';
	if (ask(fd, q, answer, sizeof(answer)) == -1) {
		close(fd);
		msg_err("cannot ask on the terminal: %s; nothing was sent",
		    strerror(errno));
		return AGCOD_E_BAD_INPUT;
	}
	close(fd);
	for (a = answer; *a == ' ' || *a == '\t'; a++)
		;
	if (strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0)
		return AGCOD_OK;
	msg_err("not confirmed; nothing was sent");
	return AGCOD_E_BAD_INPUT;
}

enum agcod_result
guard_request(const struct profile *p, int yes, const struct opreq *r)
{
	const struct op *op = r->op;
	char amt[AMOUNT_TEXT_MAX], what[256];
	enum agcod_result rc;
	int n;

	if (!(op->flags & OP_MOVES_MONEY))
		return AGCOD_OK;
	if (r->cur && (rc = guard_amount(p, &r->amount, r->cur->code)) !=
	    AGCOD_OK)
		return rc;
	if (!p->production)
		return AGCOD_OK;
	if (r->cur) {
		amount_format(&r->amount, amt, sizeof(amt));
		/* a load names the account that will be credited */
		n = snprintf(what, sizeof(what), "%s of %s %s%s%s", op->name,
		    amt, r->cur->code, r->text.account_id ?
		    " credited to account " : "", r->text.account_id ?
		    r->text.account_id : "");
	} else
		n = snprintf(what, sizeof(what), "%s", op->name);
	if (n < 0 || (size_t)n >= sizeof(what))
		return AGCOD_E_INTERNAL;
	if (!opted_in(p, yes))	/* the question or the refusal names it all */
		return guard_confirm(p, yes, what);
	msg_note("PRODUCTION: %s for partner %s at %s", what, p->partner_id,
	    p->endpoint);
	return AGCOD_OK;
}
