/*
 * cmd_batch_out.c - a batch's results: each row with every input column,
 * as JSON lines, a table or CSV (rows.c's cell writer: a formula is
 * defused), to standard output or a new --out file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agcod.h"
#include "cmd_batch.h"
#include "msg.h"
#include "outcome.h"
#include "output.h"
#include "rows.h"

const char *const batch_result_names[] = {
	"row", "status", "gcId", "gcClaimCode", "errorCode", "errorType",
	"issued_before",
};
_Static_assert(sizeof(batch_result_names) / sizeof(batch_result_names[0]) ==
    BATCH_NRESULT, "BATCH_NRESULT counts batch_result_names");

/* ---- output: JSON lines, a table or CSV, with every input column ---- */

static const char *
row_status(const struct api_result *r)
{
	if (r->result == AGCOD_OK)
		return "SUCCESS";
	if (r->outcome == OUTCOME_UNKNOWN)
		return "UNKNOWN";
	return r->status ? r->status : "FAILURE";
}

/* an input column's output value: amounts as typed, the currency resolved */
const char *
batch_in_value(const struct batch *b, const struct row *w, int k, char *amt,
    size_t n)
{
	if (k == b->idx[C_AMOUNT]) {
		amount_format(&w->req.amount, amt, n);
		return amt;
	}
	if (k == b->idx[C_CURRENCY])
		return w->req.cur->code;
	return w->cr->fields[k];
}

/* a table cell, shown (never obeyed), padded to w */
static void
put_cell(FILE *f, const char *s, size_t w, int last)
{
	size_t n = msg_shown_width(s, strlen(s), SHOW_LINES);

	msg_put_shown(f, s, strlen(s));
	if (!last)
		fprintf(f, "%*s", (int)(w > n ? w - n : 0) + 2, "");
}

/* a CSV cell (rows.c's writer: a formula is defused), then , or the line end */
static void
put_csv(const struct batch *b, const char *s, int last)
{
	rows_csv_cell_sep(b->out, s, b->sep);
	if (!last)
		putc(b->sep, b->out);
	else
		fputs(b->csv.crlf ? "\r\n" : "\n", b->out);
}

void
batch_out_header(struct batch *b)
{
	FILE *f = b->out;
	int k;

	if (b->c->out == OUT_TABLE) {
		fprintf(f, "%6s  ", "ROW");
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_cell(f, b->name[k], b->width[k], 0);
		if (b->idx[C_CURRENCY] == -1)
			put_cell(f, "currency", 8, 0);
		fprintf(f, "%-*s  %-8s  %-20s  %-16s  %s\n", (int)b->idwidth,
		    "REQUEST ID", "STATUS", "ISSUED BEFORE", "GC ID",
		    "CLAIM CODE / ERROR");
	} else if (b->c->out == OUT_CSV) {
		size_t r;

		if (b->csv.bom)		/* as the input: Excel reads it UTF-8 */
			fputs("\xef\xbb\xbf", f);
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_csv(b, b->name[k], 0);
		if (b->idx[C_CURRENCY] == -1)
			put_csv(b, "currency", 0);
		put_csv(b, "row", 0);
		put_csv(b, "request_id", 0);
		for (r = 1; r < BATCH_NRESULT; r++)	/* after "row" */
			put_csv(b, batch_result_names[r],
			    r == BATCH_NRESULT - 1);
	}
}

static json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j ? j : json_text(s, strlen(s));	/* not UTF-8: \xNN */
}

/* one row's result; -1 when the output cannot be written */
int
batch_out_row(struct batch *b, const struct row *w, size_t i,
    const struct api_result *r)
{
	FILE *f = b->out;
	const char *gc = json_str(r->json, "gcId");
	const char *code = json_str(r->json, "gcClaimCode");
	const char *st = row_status(r);
	char amt[AMOUNT_TEXT_MAX], num[32];
	int k;

	if (b->c->out == OUT_JSON) {
		json_t *o = json_object();

		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				json_object_set_new(o, b->name[k],
				    jstr(batch_in_value(b, w, k, amt,
				    sizeof(amt))));
		if (b->idx[C_CURRENCY] == -1)
			json_object_set_new(o, "currency",
			    json_string(w->req.cur->code));
		json_object_set_new(o, "row", json_integer((json_int_t)i + 1));
		json_object_set_new(o, "request_id",
		    json_string(w->req.request_id));
		json_object_set_new(o, "status", jstr(st));
		json_object_set_new(o, "gcId", jstr(gc));
		json_object_set_new(o, "gcClaimCode", jstr(code));
		json_object_set_new(o, "errorCode", jstr(r->error_code));
		json_object_set_new(o, "errorType", jstr(r->error_type));
		json_object_set_new(o, "issued_before", jstr(w->since));
		output_json(f, o);
		json_decref(o);
	} else if (b->c->out == OUT_TABLE) {
		fprintf(f, "%6zu  ", i + 1);
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_cell(f, batch_in_value(b, w, k, amt,
				    sizeof(amt)), b->width[k], 0);
		if (b->idx[C_CURRENCY] == -1)
			put_cell(f, w->req.cur->code, 8, 0);
		put_cell(f, w->req.request_id, b->idwidth, 0);
		put_cell(f, st, 8, 0);
		put_cell(f, w->since ? w->since : "-", 20, 0);
		put_cell(f, gc ? gc : "-", 16, 0);
		put_cell(f, code ? code : r->error_type ? r->error_type : "-",
		    0, 1);
		putc('\n', f);
	} else {
		for (k = 0; k < b->ncols; k++)
			if (k != b->idx[C_REQUEST_ID])
				put_csv(b, batch_in_value(b, w, k, amt,
				    sizeof(amt)), 0);
		if (b->idx[C_CURRENCY] == -1)
			put_csv(b, w->req.cur->code, 0);
		snprintf(num, sizeof(num), "%zu", i + 1);
		put_csv(b, num, 0);
		put_csv(b, w->req.request_id, 0);
		put_csv(b, st, 0);
		put_csv(b, gc ? gc : "", 0);
		put_csv(b, code ? code : "", 0);
		put_csv(b, r->error_code ? r->error_code : "", 0);
		put_csv(b, r->error_type ? r->error_type : "", 0);
		put_csv(b, w->since ? w->since : "", 1);
	}
	/* each row's result as it completes; a lost claim code stops the run */
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

/*
 * --out FILE without -o: the format its name says (cards.csv is CSV), not
 * the terminal's; JSON lines when the name does not say.
 */
void
batch_out_format(struct batch *b)
{
	static const struct {
		const char	*ext;
		enum output_fmt	 fmt;
	} by_ext[] = {
		{ ".csv", OUT_CSV }, { ".json", OUT_JSON }, { ".jsonl", OUT_JSON },
		{ ".txt", OUT_TABLE }, { ".table", OUT_TABLE },
	};
	const char *path = b->c->args.val[O_OUT], *base, *ext;
	size_t i;

	if (path == NULL || b->c->args.val[O_OUTPUT])
		return;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	ext = strrchr(base, '.');
	b->c->out = OUT_JSON;
	for (i = 0; ext && i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
		if (strcasecmp(ext, by_ext[i].ext) == 0)
			b->c->out = by_ext[i].fmt;
}

static int
out_error(struct batch *b, const char *path, int e)
{
	return usage_error(b->c->cmd, "--out '%s': %s%s", path, strerror(e),
	    e == EEXIST ? " (results never overwrite a file: give a new "
	    "name)" : "");
}

/*
 * Before the funds are asked and the run confirmed: --out names no file
 * yet, in a directory agcod may write.  The file itself is created only
 * once the run goes ahead (batch_open_out), so a run stopped before its first
 * row (funds short, not confirmed, Ctrl-C at the prompt) leaves none.
 */
int
batch_out_check(struct batch *b)
{
	const char *path = b->c->args.val[O_OUT], *slash;
	char dir[PATH_MAX];
	struct stat st;

	b->out = stdout;
	b->outname = "standard output";
	b->outfd = -1;
	if (path == NULL)
		return 0;
	if (*path == '\0')
		return out_error(b, path, ENOENT);
	if (lstat(path, &st) == 0)
		return out_error(b, path, EEXIST);
	if (errno != ENOENT)
		return out_error(b, path, errno);
	if ((slash = strrchr(path, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if ((size_t)(slash - path) + 2 > sizeof(dir))
		return out_error(b, path, ENAMETOOLONG);
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) == -1)
		return out_error(b, path, errno);
	return 0;
}

/* --out FILE: a new file, 0600, never through a symbolic link */
int
batch_open_out(struct batch *b)
{
	const char *path = b->c->args.val[O_OUT];
	int fd;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return out_error(b, path, errno);
	if ((b->out = fdopen(fd, "w")) == NULL) {
		close(fd);
		msg_err("--out '%s': %s", path, strerror(errno));
		return EX_OSERR;
	}
	b->outname = path;
	return 0;
}
