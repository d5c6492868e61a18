/* rows.h - lists of records on stdout: JSON lines, a table, or CSV */
#ifndef AGCOD_ROWS_H
#define AGCOD_ROWS_H

#include <stdio.h>

#include <jansson.h>

#include "output.h"

struct rows_col {
	const char	*member;	/* the record's member */
	const char	*title;		/* table and CSV header */
	int		 width;		/* table column width; 0: the last */
};

struct rows {
	FILE			*f;
	enum output_fmt		 fmt;
	const struct rows_col	*cols;
	size_t			 ncols;
	size_t			 n;		/* rows written */
};

/* the header (table, CSV) */
void	rows_begin(struct rows *, FILE *, enum output_fmt,
	    const struct rows_col *, size_t ncols);
/*
 * One record: JSON lines carry every member; a table and CSV carry the
 * columns.  Table cells go through output_cell (control characters shown
 * as \xNN, never obeyed); CSV cells are
 * quoted as RFC 4180 says, and a cell a spreadsheet would run as a
 * formula (=, +, -, @ first) is prefixed with a single quote.
 */
void	rows_put(struct rows *, json_t *);
/* one CSV cell, quoted as needed (for other writers of CSV) */
void	rows_csv_cell(FILE *, const char *);
/* the same in a file whose fields are separated by sep (';' ...) */
void	rows_csv_cell_sep(FILE *, const char *, char sep);

#endif
