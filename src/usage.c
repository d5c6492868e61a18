/*
 * usage.c - what agcod says about itself: a usage error with the command's
 * synopsis (the man page's text), and the versions of agcod and the
 * libraries it runs with.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/version.h>

#include "agcod.h"
#include "http.h"
#include "msg.h"
#include "suggest.h"

int
usage_error(const struct cmd *c, const char *fmt, ...)
{
	char m[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	msg_err("%s", m);
	if (c)
		fprintf(stderr, "usage: agcod %s\n", c->synopsis);
	else
		fprintf(stderr, "usage: agcod [global options] COMMAND "
		    "[command options]; see 'agcod --help'\n");
	return EX_USAGE;
}

/*
 * A command whose synopsis lines name subcommands ("batch create FILE",
 * "journal export"): the first operand is one of them, checked before the
 * command loads a profile or opens anything, so that 'agcod batch' is a
 * usage error wherever it runs.  0, or 64 after the usage.
 */
int
usage_subcommand(const struct cmd *c, const struct args *a)
{
	char subs[8][32], list[256];
	const char *l, *w;
	struct suggest sg;
	size_t n = 0, i, len, used = 0;

	for (l = c->synopsis; l && n < 8; l = strchr(l, '\n') ?
	    strchr(l, '\n') + 1 : NULL) {
		l += strspn(l, " ");
		if (strncmp(l, "agcod ", 6) == 0)
			l += 6;
		len = strlen(c->name);
		if (strncmp(l, c->name, len) != 0 || l[len] != ' ')
			continue;
		w = l + len + 1;
		len = strcspn(w, " \n");
		if (len == 0 || len >= sizeof(subs[0]) ||
		    !islower((unsigned char)w[0]))
			continue;
		memcpy(subs[n], w, len);
		subs[n][len] = '\0';
		for (i = 0; i < n && strcmp(subs[i], subs[n]); i++)
			;
		if (i == n)
			n++;
	}
	if (n == 0)
		return 0;
	list[0] = '\0';
	for (i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", subs[i]);
	if (a->npos == 0)
		return usage_error(c, "%s needs a subcommand: %s", c->name,
		    list);
	sg.word = a->pos[0];
	sg.best = NULL;
	sg.d = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(a->pos[0], subs[i]) == 0)
			return 0;
		suggest_consider(&sg, subs[i]);
	}
	if (sg.best)
		return usage_error(c, "unknown %s subcommand '%s' (did you "
		    "mean '%s'?)", c->name, a->pos[0], sg.best);
	return usage_error(c, "unknown %s subcommand '%s' (%s)", c->name,
	    a->pos[0], list);
}

void
print_versions_line(FILE *f)
{
	char mb[32];

	mbedtls_version_get_string(mb);
	fprintf(f, "agcod %s (%s, mbedTLS %s, Jansson %s)\n", AGCOD_VERSION,
	    http_versions(), mb, jansson_version_str());
}

/* --version: the libraries in use (libcurl's as its runtime reports) */
void
print_versions(FILE *f)
{
	char mb[32];

	mbedtls_version_get_string(mb);
	fprintf(f, "agcod %s\n%s\nmbedTLS %s\nJansson %s\n", AGCOD_VERSION,
	    http_versions(), mb, jansson_version_str());
}
