/*
 * usage.c - what agcod says about itself: a usage error with the command's
 * synopsis (the man page's text), and the versions of agcod and the
 * libraries it runs with.
 */
#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>
#include <mbedtls/version.h>

#include "agcod.h"
#include "http.h"
#include "msg.h"

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
