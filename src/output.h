/* output.h - results on stdout: one compact JSON line, or a table */
#ifndef AGCOD_OUTPUT_H
#define AGCOD_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include "buf.h"

enum output_fmt { OUT_JSON, OUT_TABLE, OUT_CSV };

/*
 * The service's body as it came, minified (OUT_JSON); or its members as
 * rows under the environment (production: PRODUCTION, else SANDBOX).  -1
 * after a message when it cannot be shown (nothing is printed then).
 */
int	output_body(enum output_fmt, int production, const struct buf *raw,
	    json_t *exact);
/*
 * Rows of (key, value) pairs for people, aligned; every cell shown through
 * msg_show: control characters (C1 included) as \xNN, never obeyed.
 */
void	output_rows(FILE *, const char *const *kv, size_t n);
/* one table cell, padded with blanks to width columns (display width) */
void	output_cell(FILE *, const char *, size_t len, size_t width);
/*
 * One compact JSON line (members in order) with DEL and C1 controls as \u
 * escapes: for every JSON document agcod prints of its own.
 */
int	output_json(FILE *, const json_t *);
/*
 * printf to stdout for text that quotes outside values (support drafts,
 * summaries): the formatted text is shown with msg_show(SHOW_LINES).
 */
int	output_printf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
