/* csv.c - RFC 4180 records, with the line each one starts on */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"

#define CSV_MAX_ROWS	1000000

static int
grow(struct csv *c, size_t *cap)
{
	struct csv_row *n;

	if (c->nrows < *cap)
		return 0;
	if (*cap > CSV_MAX_ROWS)
		return -1;
	/* room for one more than the maximum: a blank line there is no row */
	*cap = *cap == 0 ? 64 : *cap * 2 > CSV_MAX_ROWS ? CSV_MAX_ROWS + 1 :
	    *cap * 2;
	if ((n = reallocarray(c->rows, *cap, sizeof(*n))) == NULL)
		return -1;
	c->rows = n;
	return 0;
}

/* a record's fields in one allocation: the pointers, then the texts */
static int
keep_row(struct csv_row *row, const struct buf *text, const size_t *off)
{
	size_t head = (size_t)row->nfields * sizeof(char *);
	char *block;
	int k;

	if ((block = malloc(head + text->len)) == NULL)
		return -1;
	memcpy(block + head, text->data, text->len);
	row->fields = (char **)(void *)block;
	for (k = 0; k < row->nfields; k++)
		row->fields[k] = block + head + off[k];
	return 0;
}

char
csv_sniff(const char *s, size_t n)
{
	size_t i = n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	int quoted = 0, semi = 0, tab = 0;

	for (; i < n && (quoted || s[i] != '\n'); i++) {
		if (s[i] == '"')
			quoted = !quoted;	/* "" inside: out and in again */
		else if (quoted)
			continue;
		else if (s[i] == ',')
			return ',';
		else if (s[i] == ';')
			semi = 1;
		else if (s[i] == '\t')
			tab = 1;
	}
	return semi ? ';' : tab ? '\t' : ',';
}

int
csv_parse(const char *s, size_t n, struct csv *c, char *err, size_t errlen)
{
	return csv_parse_sep(s, n, ',', c, err, errlen);
}

/* one parse: where it is in the text, the field and the record being read */
struct parser {
	const char	*s;
	size_t		 n, i;
	char		 sep;
	int		 line;
	struct buf	 f;	/* the field */
	struct buf	 text;	/* the record's fields, each NUL-terminated */
	char		*err;
	size_t		 errlen;
};

/* a step's result besides 0 and -1 (said why): a field is too long */
#define TOOLONG	(-2)

/*
 * What no record may hold (UTF-16, lines ending in CR alone, NUL); a
 * UTF-8 byte-order mark is skipped (*start) and kept in mind (c->bom).
 * 0, or -1 after saying why.
 */
static int
check_text(const char *s, size_t n, struct csv *c, size_t *start, char *err,
    size_t errlen)
{
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		*start = 3;	/* a UTF-8 byte-order mark from spreadsheets */
		c->bom = 1;
	}
	if (n >= 2 && (memcmp(s, "\xff\xfe", 2) == 0 ||
	    memcmp(s, "\xfe\xff", 2) == 0)) {
		/* Excel's "Unicode Text" */
		snprintf(err, errlen, "the file is UTF-16: save it as "
		    "\"CSV UTF-8\"");
		return -1;
	}
	if (memchr(s, '\r', n) && !memchr(s, '\n', n)) {
		/* Excel for Mac's old "CSV (Macintosh)" */
		snprintf(err, errlen, "its lines end in CR alone: save it as "
		    "\"CSV UTF-8\"");
		return -1;
	}
	if (memchr(s, '\0', n)) {
		snprintf(err, errlen, "the file holds a NUL byte");
		return -1;
	}
	return 0;
}

/* a quoted field into p->f; 0, -1 after saying why, or TOOLONG */
static int
quoted_field(struct parser *p)
{
	const char *s = p->s;
	size_t n = p->n, i = p->i;
	int startline = p->line;

	for (i++;; i++) {
		if (i >= n) {
			snprintf(p->err, p->errlen, "line %d: "
			    "unterminated quoted field", startline);
			return -1;
		}
		if (s[i] == '"') {
			if (i + 1 < n && s[i + 1] == '"') {
				i++;
			} else {
				i++;
				break;
			}
		}
		if (s[i] == '\n')
			p->line++;
		if (buf_addc(&p->f, s[i]) == -1)
			return TOOLONG;
	}
	if (i < n && s[i] != p->sep && s[i] != '\n' &&
	    !(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') &&
	    !(s[i] == '\r' && i + 1 == n)) {
		snprintf(p->err, p->errlen, "line %d: text after a closing "
		    "quote", p->line);
		return -1;
	}
	p->i = i;
	return 0;
}

/* an unquoted field into p->f; 0, -1 after saying why, or TOOLONG */
static int
plain_field(struct parser *p)
{
	const char *s = p->s;
	size_t n = p->n, i = p->i;

	while (i < n && s[i] != p->sep && s[i] != '\n' &&
	    !(s[i] == '\r' && (i + 1 == n || s[i + 1] == '\n'))) {
		if (s[i] == '"') {
			snprintf(p->err, p->errlen, "line %d: a quote inside "
			    "an unquoted field", p->line);
			return -1;
		}
		if (buf_addc(&p->f, s[i++]) == -1)
			return TOOLONG;
	}
	p->i = i;
	return 0;
}

/*
 * A record's fields into p->text, where each starts in off, and past its
 * line end; 0, -1 after saying why, or TOOLONG
 */
static int
read_record(struct parser *p, struct csv *c, struct csv_row *row,
    size_t *off)
{
	const char *s = p->s;
	size_t n = p->n;
	int rc;

	for (;;) {
		buf_reset(&p->f);
		rc = p->i < n && s[p->i] == '"' ? quoted_field(p) :
		    plain_field(p);
		if (rc != 0)
			return rc;
		if (row->nfields == CSV_MAX_FIELDS) {
			snprintf(p->err, p->errlen, "line %d: more than %d "
			    "fields", row->line, CSV_MAX_FIELDS);
			return -1;
		}
		off[row->nfields++] = p->text.len;
		if (buf_add(&p->text, buf_str(&p->f), p->f.len + 1) == -1)
			return TOOLONG;
		if (p->i < n && s[p->i] == p->sep) {
			p->i++;
			continue;
		}
		if (p->i < n && s[p->i] == '\r') {
			p->i++;
			if (c->nrows == 1 && p->i < n && s[p->i] == '\n')
				c->crlf = 1;	/* the line end to write */
		}
		if (p->i < n && s[p->i] == '\n') {
			p->i++;
			p->line++;
		}
		return 0;
	}
}

int
csv_parse_sep(const char *s, size_t n, char sep, struct csv *c, char *err,
    size_t errlen)
{
	struct parser p = { s, n, 0, sep, 1, BUF_INIT(CSV_FIELD_MAX),
	    BUF_INIT(CSV_MAX_FIELDS * (CSV_FIELD_MAX + 1)), err, errlen };
	struct csv_row *row = NULL;
	size_t cap = 0, off[CSV_MAX_FIELDS] = { 0 };
	int rc;

	memset(c, 0, sizeof(*c));
	if (check_text(s, n, c, &p.i, err, errlen) == -1)
		return -1;
	while (p.i < n) {
		/* a record */
		if (grow(c, &cap) == -1) {
			snprintf(err, errlen, "too many rows");
			goto fail;
		}
		row = &c->rows[c->nrows++];
		memset(row, 0, sizeof(*row));
		row->line = p.line;
		buf_reset(&p.text);
		if ((rc = read_record(&p, c, row, off)) == TOOLONG)
			goto toolong;
		if (rc == -1)
			goto fail;
		/* a blank line is no record */
		if (row->nfields == 1 && p.text.len == 1) {
			row->nfields = 0;
			c->nrows--;
		} else if (keep_row(row, &p.text, off) == -1) {
			row->nfields = 0;
			snprintf(err, errlen, "out of memory");
			goto fail;
		} else if (c->nrows > CSV_MAX_ROWS) {
			snprintf(err, errlen, "line %d: too many rows (at "
			    "most %d, the header included)", row->line,
			    CSV_MAX_ROWS);
			goto fail;
		}
	}
	buf_free(&p.f);
	buf_free(&p.text);
	return 0;
toolong:
	snprintf(err, errlen, "line %d: a field is longer than %d bytes",
	    p.line, CSV_FIELD_MAX);
fail:
	if (row && row->fields == NULL)
		row->nfields = 0;	/* its fields were never kept */
	buf_free(&p.f);
	buf_free(&p.text);
	csv_free(c);
	return -1;
}

void
csv_free(struct csv *c)
{
	size_t i;

	for (i = 0; i < c->nrows; i++)
		free(c->rows[i].fields);
	free(c->rows);
	memset(c, 0, sizeof(*c));
}
