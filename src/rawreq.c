/* rawreq.c - parse a raw HTTP/1.1 request: request line, headers, body */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rawreq.h"

static char *
dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* the next line of [*pp, end), without its LF or CR LF */
static int
next_line(const char **pp, const char *end, const char **ls, size_t *ll)
{
	const char *p = *pp, *nl;

	if (p >= end)
		return 0;
	nl = memchr(p, '\n', (size_t)(end - p));
	*ls = p;
	*ll = (size_t)((nl ? nl : end) - p);
	if (*ll && p[*ll - 1] == '\r')
		(*ll)--;
	*pp = nl ? nl + 1 : end;
	return 1;
}

static int
fail(char *err, size_t errlen, const char *what, int line)
{
	snprintf(err, errlen, "line %d: %s", line, what);
	return -1;
}

static int
parse_request_line(const char *s, size_t n, struct rawreq *r, char *err,
    size_t errlen)
{
	const char *sp, *ver = NULL, *t, *q;
	size_t i;

	sp = memchr(s, ' ', n);
	if (sp == NULL || sp == s)
		return fail(err, errlen, "expected 'METHOD TARGET HTTP/1.1'", 1);
	for (i = 0; s + i < sp; i++)
		if (!isupper((unsigned char)s[i]) && s[i] != '-')
			return fail(err, errlen, "bad method", 1);
	/* the target may hold raw spaces: it ends at the last " HTTP/" */
	for (t = s + n - 6; t > sp; t--)
		if (memcmp(t, " HTTP/", 6) == 0) {
			ver = t;
			break;
		}
	if (ver == NULL || ver <= sp + 1)
		return fail(err, errlen, "expected 'METHOD TARGET HTTP/1.1'", 1);
	t = sp + 1;
	if (*t != '/')
		return fail(err, errlen, "the target must start with '/'", 1);
	q = memchr(t, '?', (size_t)(ver - t));
	r->method = dupn(s, (size_t)(sp - s));
	r->path = dupn(t, (size_t)((q ? q : ver) - t));
	if (q)
		r->query = dupn(q + 1, (size_t)(ver - q - 1));
	if (r->method == NULL || r->path == NULL || (q && r->query == NULL))
		return fail(err, errlen, "out of memory", 1);
	return 0;
}

static int
add_header(struct rawreq *r, const char *s, size_t n, int line, char *err,
    size_t errlen)
{
	const char *colon = memchr(s, ':', n);
	char *name, *value;
	size_t i;

	if (colon == NULL || colon == s)
		return fail(err, errlen, "expected 'Name:value'", line);
	for (i = 0; s + i < colon; i++)
		if (!isgraph((unsigned char)s[i]))
			return fail(err, errlen, "bad header name", line);
	name = dupn(s, (size_t)(colon - s));
	value = dupn(colon + 1, n - (size_t)(colon + 1 - s));
	if (name == NULL || value == NULL) {
		free(name);
		free(value);
		return fail(err, errlen, "out of memory", line);
	}
	if (strcasecmp(name, "authorization") == 0) {
		size_t b = strspn(value, " \t"), e = strlen(value);

		while (e > b && (value[e - 1] == ' ' || value[e - 1] == '\t'))
			e--;
		memmove(value, value + b, e - b);
		value[e - b] = '\0';
		free(name);
		free(r->authorization);
		r->authorization = value;
		return 0;
	}
	if (r->nheaders == RAWREQ_MAX_HEADERS) {
		free(name);
		free(value);
		return fail(err, errlen, "too many headers", line);
	}
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = value;
	r->nheaders++;
	return 0;
}

/* an obs-fold line continues the last header's value */
static int
continue_header(struct rawreq *r, const char *s, size_t n, int line,
    char *err, size_t errlen)
{
	const char *old;
	char *v;
	size_t ol;

	if (r->nheaders == 0)
		return fail(err, errlen, "continuation line before any header",
		    line);
	if ((old = r->headers[r->nheaders - 1].value) == NULL)
		return fail(err, errlen, "out of memory", line);
	ol = strlen(old);
	if ((v = malloc(ol + 1 + n + 1)) == NULL)
		return fail(err, errlen, "out of memory", line);
	memcpy(v, old, ol);
	v[ol] = '\n';
	memcpy(v + ol + 1, s, n);
	v[ol + 1 + n] = '\0';
	free((char *)old);
	r->headers[r->nheaders - 1].value = v;
	return 0;
}

int
rawreq_parse(const char *data, size_t len, struct rawreq *r, char *err,
    size_t errlen)
{
	const char *p = data, *end = data + len, *ls;
	size_t ll;
	int line = 1;

	memset(r, 0, sizeof(*r));
	if (memchr(data, '\0', len) != NULL)
		return fail(err, errlen, "the request holds a NUL byte", 1);
	if (!next_line(&p, end, &ls, &ll))
		return fail(err, errlen, "empty request", 1);
	if (parse_request_line(ls, ll, r, err, errlen) == -1)
		goto bad;
	if ((r->headers = calloc(RAWREQ_MAX_HEADERS,
	    sizeof(*r->headers))) == NULL) {
		fail(err, errlen, "out of memory", 1);
		goto bad;
	}
	while (next_line(&p, end, &ls, &ll)) {
		line++;
		if (ll == 0)
			break;		/* blank line: the body follows */
		if (*ls == ' ' || *ls == '\t') {
			if (continue_header(r, ls, ll, line, err, errlen) == -1)
				goto bad;
		} else if (add_header(r, ls, ll, line, err, errlen) == -1)
			goto bad;
	}
	r->body_len = (size_t)(end - p);
	if ((r->body = dupn(p, r->body_len)) == NULL) {
		fail(err, errlen, "out of memory", line);
		goto bad;
	}
	return 0;
bad:
	rawreq_free(r);
	return -1;
}

void
rawreq_free(struct rawreq *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->headers);
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->authorization);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *
rawreq_header(const struct rawreq *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void
rawreq_sigv4_input(const struct rawreq *r, struct sigv4_input *in)
{
	memset(in, 0, sizeof(*in));
	in->method = r->method;
	in->path = r->path;
	in->query = r->query;
	in->headers = r->headers;
	in->nheaders = r->nheaders;
	in->body = r->body;
	in->body_len = r->body_len;
}
