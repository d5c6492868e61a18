/*
 * cmd_batch.h - what the files of 'batch create' share: a batch, its rows
 * and its totals, and each file's steps.
 *
 *   cmd_batch.c         the command: its steps in order, the run, its summary
 *   cmd_batch_input.c   FILE: delimiter, reading, the header, each row checked
 *   cmd_batch_id.c      the batch id, a row's content digest, its request id,
 *                       the generation the journal says
 *   cmd_batch_resume.c  the journal: earlier cards, may the run go ahead, the
 *                       lock, external references, the command that resumes
 *   cmd_batch_guard.c   before sending: totals, limits, funds, confirmation,
 *                       --dry-run
 *   cmd_batch_out.c     the results: JSON lines, a table or CSV, --out
 */
#ifndef AGCOD_CMD_BATCH_H
#define AGCOD_CMD_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "agcod.h"
#include "api.h"
#include "csv.h"
#include "ctx.h"
#include "sigv4.h"

#define BATCH_ID_MAX	64

/* the columns a row can give, one for each of options.h's BODY lines */
#define COL_NONE(...)
#define COL(ID, ...)	C_##ID,
enum col { AGCOD_OPTIONS(COL_NONE, COL_NONE, COL) C_COUNT };
#undef COL_NONE
#undef COL

/* the names batch output adds to every row: no input column may take them */
extern const char *const batch_result_names[];
#define BATCH_NRESULT	7

enum prev { PREV_NONE, PREV_ISSUED, PREV_OTHER };

struct row {
	const struct csv_row	*cr;
	struct opreq		 req;
	char			 content[SIGV4_HEX_LEN + 1];	/* digest */
	unsigned		 occ;		/* 1st, 2nd... identical row */
	unsigned char		 explicit_id;	/* from a request_id column */
	unsigned char		 prev;		/* enum prev: the journal's */
	const char		*since;		/* PREV_ISSUED: first sent */
};

struct batch {
	struct cmd_ctx		*c;
	const char		*file;
	char			 id[BATCH_ID_MAX + 1];
	int			 id_given;
	struct csv		 csv;
	int			 idx[C_COUNT];		/* column of each */
	int			 ncols;
	const char		*name[CSV_MAX_FIELDS];	/* output names */
	int			 order[CSV_MAX_FIELDS];	/* identity order */
	int			 norder;
	size_t			 width[CSV_MAX_FIELDS];	/* table widths */
	size_t			 idwidth;
	struct row		*rows;			/* rows[0..n-1] */
	char			 sep;		/* FILE's field separator */
	size_t			 n;
	unsigned		 gen;
	json_t			*jindex;	/* request id -> entry */
	int			 jerr;		/* a lookup failed: j->err */
	/* output */
	FILE			*out;
	const char		*outname;
	int			 outfd;
	int			 lockfd;	/* held while it runs */
};

struct total {
	const struct currency	*cur;
	int64_t			 all, todo;	/* minor units */
	size_t			 rows, todo_rows;
};

#define NTOTALS	32

struct sender;

/* cmd_batch_input.c */
int	batch_sep(struct batch *);
int	batch_read(struct batch *);
int	batch_map_header(struct batch *);
int	batch_check_rows(struct batch *);

/* cmd_batch_id.c */
int	batch_name(struct batch *);
int	batch_row_content(struct batch *, struct row *, struct buf *);
int	batch_derive_id(struct batch *, const struct row *, unsigned gen,
	    char out[REQID_MAX + 1]);
int	batch_choose_generation(struct batch *, int new_batch);

/* cmd_batch_resume.c */
json_t	*batch_journal_entry(struct batch *, const char *rid);
void	batch_issued_elsewhere(struct batch *, struct row *,
	    const struct sender *);
int	batch_check_journal(struct batch *);
int	batch_lock(struct batch *);
int	batch_resume_cmd(const struct batch *, struct buf *);
int	batch_resume_out(const struct batch *, struct buf *);

/* cmd_batch_guard.c */
int64_t	batch_minor_units(const struct opreq *);
size_t	batch_totals(const struct batch *, struct total *);
void	batch_fmt_minor(const struct currency *, int64_t minor, char *,
	    size_t);
int	batch_guard_limits(struct batch *, const struct total *, size_t nt);
int	batch_check_funds(struct batch *, const struct total *, size_t nt);
int	batch_confirm(struct batch *, const struct total *, size_t nt);
int	batch_dry_run(struct batch *);

/* cmd_batch_out.c */
const char *batch_in_value(const struct batch *, const struct row *, int k,
	    char *, size_t);
void	batch_out_header(struct batch *);
int	batch_out_row(struct batch *, const struct row *, size_t i,
	    const struct api_result *);
void	batch_out_format(struct batch *);
int	batch_out_check(struct batch *);
int	batch_open_out(struct batch *);

#endif
