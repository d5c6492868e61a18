/* rows.c - lists of records on stdout: JSON lines, a table, or CSV */
#include <string.h>

#include "msg.h"
#include "output.h"
#include "rows.h"

void
rows_csv_cell(FILE *f, const char *s)
{
	rows_csv_cell_sep(f, s, ',');
}

void
rows_csv_cell_sep(FILE *f, const char *s, char sep)
{
	const char *p;

	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' ||
	    *s == '\t' || *s == '\r') {
		/* a formula to a spreadsheet: shown as text instead */
		putc('"', f);
		putc('\'', f);
	} else if (strpbrk(s, "\"\r\n") == NULL && strchr(s, sep) == NULL) {
		/* text from a server or a file: shown, never obeyed */
		msg_show(f, s, strlen(s), 0);
		return;
	} else
		putc('"', f);
	/* runs between quotes whole, so UTF-8 stays whole */
	while ((p = strchr(s, '"')) != NULL) {
		msg_show(f, s, (size_t)(p - s), 0);
		fputs("\"\"", f);
		s = p + 1;
	}
	msg_show(f, s, strlen(s), 0);
	putc('"', f);
}

static const char *
cell(json_t *row, const char *member, char *tmp, size_t n)
{
	json_t *v = json_object_get(row, member);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(tmp, n, "%lld", (long long)json_integer_value(v));
		return tmp;
	}
	return NULL;
}

void
rows_begin(struct rows *r, FILE *f, enum output_fmt fmt,
    const struct rows_col *cols, size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->fmt = fmt;
	r->cols = cols;
	r->ncols = n;
	if (fmt == OUT_JSON)
		return;
	for (i = 0; i < n; i++) {
		if (fmt == OUT_CSV) {
			fputs(i ? "," : "", f);
			rows_csv_cell(f, cols[i].member);
		} else if (cols[i].width)
			fprintf(f, "%-*s  ", cols[i].width, cols[i].title);
		else
			fputs(cols[i].title, f);
	}
	putc('\n', f);
}

void
rows_put(struct rows *r, json_t *row)
{
	char tmp[32];
	const char *v;
	size_t i;

	r->n++;
	if (r->fmt == OUT_JSON) {
		output_json(r->f, row);
		return;
	}
	for (i = 0; i < r->ncols; i++) {
		v = cell(row, r->cols[i].member, tmp, sizeof(tmp));
		if (r->fmt == OUT_CSV) {
			fputs(i ? "," : "", r->f);
			rows_csv_cell(r->f, v ? v : "");
			continue;
		}
		/* the service, files and options wrote these: shown, never
		 * obeyed (the table writer's one sink) */
		v = v ? v : "-";
		output_cell(r->f, v, strlen(v), (size_t)r->cols[i].width);
		if (r->cols[i].width)
			fputs("  ", r->f);
	}
	putc('\n', r->f);
}
