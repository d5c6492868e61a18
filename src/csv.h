/* csv.h - RFC 4180 CSV: quoted fields, "" escapes, CRLF or LF, any separator */
#ifndef AGCOD_CSV_H
#define AGCOD_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS	32
#define CSV_FIELD_MAX	1024

struct csv_row {
	int	 line;			/* where the record starts */
	int	 nfields;
	char	**fields;			/* nfields, one allocation */
};

struct csv {
	struct csv_row	*rows;		/* rows[0] is the header */
	size_t		 nrows;
	int		 bom;		/* the text began with a UTF-8 BOM */
	int		 crlf;		/* its first line ended in CR LF */
};

/* 0, or -1 with err naming the line; fields separated by commas */
int	csv_parse(const char *, size_t, struct csv *, char *err, size_t errlen);
/* the same, fields separated by sep (',', ';', a tab, ...) */
int	csv_parse_sep(const char *, size_t, char sep, struct csv *, char *err,
	    size_t errlen);
/*
 * The separator of a spreadsheet's export, from its first line outside
 * quotes: a comma if there is one, else a semicolon (German and French
 * Excel), else a tab, else a comma.
 */
char	csv_sniff(const char *, size_t);
void	csv_free(struct csv *);

#endif
