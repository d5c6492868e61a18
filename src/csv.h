/* csv.h - RFC 4180 CSV: quoted fields, "" escapes, CRLF or LF */
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
};

/* 0, or -1 with err naming the line */
int	csv_parse(const char *, size_t, struct csv *, char *err, size_t errlen);
void	csv_free(struct csv *);

#endif
