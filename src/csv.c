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

int
csv_parse_sep(const char *s, size_t n, char sep, struct csv *c, char *err,
    size_t errlen)
{
	struct buf f = BUF_INIT(CSV_FIELD_MAX);
	struct buf text = BUF_INIT(CSV_MAX_FIELDS * (CSV_FIELD_MAX + 1));
	struct csv_row *row = NULL;
	size_t i = 0, cap = 0, off[CSV_MAX_FIELDS] = { 0 };
	int line = 1, quoted;

	memset(c, 0, sizeof(*c));
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		i = 3;	/* a UTF-8 byte-order mark from spreadsheets */
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
	while (i < n) {
		/* a record */
		if (grow(c, &cap) == -1) {
			snprintf(err, errlen, "too many rows");
			goto fail;
		}
		row = &c->rows[c->nrows++];
		memset(row, 0, sizeof(*row));
		row->line = line;
		buf_reset(&text);
		for (;;) {
			/* a field */
			buf_reset(&f);
			quoted = i < n && s[i] == '"';
			if (quoted) {
				int startline = line;

				for (i++;; i++) {
					if (i >= n) {
						snprintf(err, errlen, "line %d: "
						    "unterminated quoted field",
						    startline);
						goto fail;
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
						line++;
					if (buf_addc(&f, s[i]) == -1)
						goto toolong;
				}
				if (i < n && s[i] != sep && s[i] != '\n' &&
				    !(s[i] == '\r' && i + 1 < n &&
				    s[i + 1] == '\n') && !(s[i] == '\r' &&
				    i + 1 == n)) {
					snprintf(err, errlen, "line %d: text "
					    "after a closing quote", line);
					goto fail;
				}
			} else {
				while (i < n && s[i] != sep && s[i] != '\n' &&
				    !(s[i] == '\r' && (i + 1 == n ||
				    s[i + 1] == '\n'))) {
					if (s[i] == '"') {
						snprintf(err, errlen, "line %d: "
						    "a quote inside an unquoted "
						    "field", line);
						goto fail;
					}
					if (buf_addc(&f, s[i++]) == -1)
						goto toolong;
				}
			}
			if (row->nfields == CSV_MAX_FIELDS) {
				snprintf(err, errlen, "line %d: more than %d "
				    "fields", row->line, CSV_MAX_FIELDS);
				goto fail;
			}
			off[row->nfields++] = text.len;
			if (buf_add(&text, buf_str(&f), f.len + 1) == -1)
				goto toolong;
			if (i < n && s[i] == sep) {
				i++;
				continue;
			}
			if (i < n && s[i] == '\r') {
				i++;
				if (c->nrows == 1 && i < n && s[i] == '\n')
					c->crlf = 1;	/* the line end to write */
			}
			if (i < n && s[i] == '\n') {
				i++;
				line++;
			}
			break;
		}
		/* a blank line is no record */
		if (row->nfields == 1 && text.len == 1) {
			row->nfields = 0;
			c->nrows--;
		} else if (keep_row(row, &text, off) == -1) {
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
	buf_free(&f);
	buf_free(&text);
	return 0;
toolong:
	snprintf(err, errlen, "line %d: a field is longer than %d bytes", line,
	    CSV_FIELD_MAX);
fail:
	if (row && row->fields == NULL)
		row->nfields = 0;	/* its fields were never kept */
	buf_free(&f);
	buf_free(&text);
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
