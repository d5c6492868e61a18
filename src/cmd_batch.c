/*
 * cmd_batch.c - batch create FILE: a card for every row of a CSV file.
 * Every row is checked before anything is sent.  Rows without a request_id
 * get one derived from the partner id, a digest of the file and the row
 * number, so running the same file again re-sends the same ids and can
 * never issue a row twice.  One HTTPS connection serves the whole batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agcod.h"
#include "csv.h"
#include "msg.h"
#include "output.h"
#include "send.h"

#define BATCH_FILE_MAX	(64 * 1024 * 1024)
#define BATCH_ROWS_MAX	999999

enum col { C_AMOUNT, C_CURRENCY, C_EXTREF, C_REQUEST_ID, C_COUNT };

static const struct {
	const char	*name;
	int		 opt;
} columns[C_COUNT] = {
	{ "amount", O_AMOUNT }, { "currency", O_CURRENCY },
	{ "external_reference", O_EXTREF }, { "request_id", O_REQUEST_ID },
};

struct row {
	int		line;
	struct opreq	req;
};

/* header -> column index per known column; 0 or -1 after saying why */
static int
map_header(const char *file, const struct csv_row *h, int idx[C_COUNT])
{
	int i, k, bad = 0;

	for (k = 0; k < C_COUNT; k++)
		idx[k] = -1;
	for (i = 0; i < h->nfields; i++) {
		for (k = 0; k < C_COUNT; k++)
			if (strcmp(h->fields[i], columns[k].name) == 0)
				break;
		if (k == C_COUNT) {
			msg_err("%s line %d: unknown column '%s' (columns: "
			    "amount, currency, external_reference, request_id)",
			    file, h->line, h->fields[i]);
			bad = 1;
		} else if (idx[k] != -1) {
			msg_err("%s line %d: column '%s' appears twice", file,
			    h->line, h->fields[i]);
			bad = 1;
		} else
			idx[k] = i;
	}
	if (!bad && idx[C_AMOUNT] == -1) {
		msg_err("%s line %d: no 'amount' column", file, h->line);
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* check every row; -1 when any is bad (each reported with its line) */
static int
check_rows(struct cmd_ctx *c, const char *file, const struct csv *csv,
    const char *digest, struct row *rows)
{
	const struct op *op = op_find("create");
	char why[512];
	int idx[C_COUNT], bad = 0, k;
	size_t i, j;

	if (map_header(file, &csv->rows[0], idx) == -1)
		return -1;
	for (i = 1; i < csv->nrows; i++) {
		const struct csv_row *cr = &csv->rows[i];
		const char *vals[O_COUNT];
		char derived[REQID_MAX + 1];

		memset(vals, 0, sizeof(vals));
		rows[i].line = cr->line;
		if (cr->nfields != csv->rows[0].nfields) {
			msg_err("%s line %d: %d fields, but the header has %d",
			    file, cr->line, cr->nfields, csv->rows[0].nfields);
			bad++;
			continue;
		}
		for (k = 0; k < C_COUNT; k++)
			if (idx[k] != -1 && cr->fields[idx[k]][0])
				vals[columns[k].opt] = cr->fields[idx[k]];
		/* partner id (at most 20) + B + 13 hex of the digest + row */
		if (vals[O_REQUEST_ID] == NULL) {
			if (snprintf(derived, sizeof(derived), "%sB%.13s%06zu",
			    c->prof.partner_id, digest, i) >=
			    (int)sizeof(derived)) {
				msg_err("%s: partner id too long to derive "
				    "request ids", file);
				return -1;
			}
			vals[O_REQUEST_ID] = derived;
		}
		rows[i].line = cr->line;
		if (opreq_build(&c->prof, op, vals, &rows[i].req, why,
		    sizeof(why)) == -1) {
			msg_err("%s line %d: %s", file, cr->line, why);
			bad++;
		}
	}
	/* one id, one card: a repeated id would silently merge two rows */
	for (i = 1; i < csv->nrows; i++)
		for (j = i + 1; j < csv->nrows; j++)
			if (rows[i].req.request_id[0] &&
			    strcmp(rows[i].req.request_id,
			    rows[j].req.request_id) == 0) {
				msg_err("%s line %d: request id '%s' is also on "
				    "line %d", file, rows[j].line,
				    rows[j].req.request_id, rows[i].line);
				bad++;
			}
	if (bad)
		msg_err("%s: %d bad row%s; nothing was sent", file, bad,
		    bad == 1 ? "" : "s");
	return bad ? -1 : 0;
}

static int
dry_run(struct cmd_ctx *c, const struct row *rows, size_t n)
{
	struct { const struct currency *cur; int64_t minor; size_t rows; }
	    tot[16];
	size_t nt = 0, i, k;
	struct buf body = BUF_INIT(1024);
	struct api_result r;
	struct opreq fr;
	const char *vals[O_COUNT];
	char why[256], text[AMOUNT_TEXT_MAX];
	json_t *out = json_object(), *totals = json_array();
	int rc;

	memset(tot, 0, sizeof(tot));
	for (i = 1; i < n; i++) {
		const struct opreq *q = &rows[i].req;
		int64_t m = q->amount.units;

		for (k = (size_t)q->amount.scale; k < (size_t)q->cur->exponent; k++)
			m *= 10;
		for (k = 0; k < nt && tot[k].cur != q->cur; k++)
			;
		if (k == nt) {
			if (nt == sizeof(tot) / sizeof(tot[0]))
				continue;	/* more currencies than exist */
			tot[nt].cur = q->cur;
			tot[nt].minor = 0;
			tot[nt++].rows = 0;
		}
		tot[k].minor += m;
		tot[k].rows++;
	}
	json_object_set_new(out, "dry_run", json_true());
	json_object_set_new(out, "rows", json_integer((json_int_t)(n - 1)));
	for (k = 0; k < nt; k++) {
		struct amount a = { tot[k].minor, tot[k].cur->exponent };
		json_t *t = json_object();

		amount_format(&a, text, sizeof(text));
		json_object_set_new(t, "currency", json_string(tot[k].cur->code));
		json_object_set_new(t, "amount", json_string(text));
		json_object_set_new(t, "rows", json_integer((json_int_t)tot[k].rows));
		json_array_append_new(totals, t);
	}
	json_object_set_new(out, "totals", totals);

	/* the one request a dry run sends: how much is there */
	memset(vals, 0, sizeof(vals));
	opreq_build(&c->prof, op_find("funds"), vals, &fr, why, sizeof(why));
	api_body(&c->prof, &fr, &body);
	rc = api_call(c, fr.op, body.data, body.len, &r);
	if (rc == 0) {
		json_t *f = json_path(r.json, "availableFunds");

		json_object_set(out, "available_funds", f);
	} else
		msg_err("funds: %s", r.why);
	if (c->out == OUT_JSON) {
		json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		printf("rows             %zu\n", n - 1);
		for (k = 0; k < json_array_size(totals); k++) {
			json_t *t = json_array_get(totals, k);

			printf("total %-10s %s (%lld rows)\n",
			    json_string_value(json_object_get(t, "currency")),
			    json_string_value(json_object_get(t, "amount")),
			    (long long)json_integer_value(json_object_get(t,
			    "rows")));
		}
		if (rc == 0)
			printf("available funds  %s %s\n", json_string_value(
			    json_path(r.json, "availableFunds.amount")),
			    json_string_value(json_path(r.json,
			    "availableFunds.currencyCode")));
		printf("nothing was sent (--dry-run)\n");
	}
	json_decref(out);
	api_result_free(&r);
	buf_free(&body);
	return rc;
}

static void
progress(size_t done, size_t total, time_t start)
{
	double el = difftime(time(NULL), start), rate = el > 0 ? done / el : 0;
	long eta = rate > 0 ? (long)((total - done) / rate) : 0;
	int w = 30, fill = total ? (int)(w * done / total) : w;

	fprintf(stderr, "\r%6zu/%zu [%.*s%*s] %5.1f/s ETA %ld:%02ld ", done,
	    total, fill, "##############################", w - fill, "", rate,
	    eta / 60, eta % 60);
	if (done == total)
		fputc('\n', stderr);
}

static const char *
row_status(const struct api_result *r)
{
	if (r->exit == 0)
		return "SUCCESS";
	if (r->outcome == OUTCOME_UNKNOWN)
		return "UNKNOWN";
	return r->status ? r->status : "FAILURE";
}

static void
print_row(const struct cmd_ctx *c, size_t i, const struct opreq *q,
    const struct api_result *r)
{
	const char *gc = json_str(r->json, "gcId");
	const char *code = json_str(r->json, "gcClaimCode");
	char amt[AMOUNT_TEXT_MAX];
	json_t *o;

	amount_format(&q->amount, amt, sizeof(amt));
	if (c->out == OUT_TABLE) {
		printf("%6zu  %-32s  %-8s  %10s %s  %-16s  %s\n", i,
		    q->request_id, row_status(r), amt, q->cur->code,
		    gc ? gc : "-", code ? code : r->error_type ? r->error_type :
		    r->exit ? "-" : "");
	} else {
		o = json_object();
		json_object_set_new(o, "row", json_integer((json_int_t)i));
		json_object_set_new(o, "request_id", json_string(q->request_id));
		json_object_set_new(o, "status", json_string(row_status(r)));
		json_object_set_new(o, "gcId", gc ? json_string(gc) : json_null());
		json_object_set_new(o, "gcClaimCode", code ? json_string(code) :
		    json_null());
		json_object_set_new(o, "amount", json_string(amt));
		json_object_set_new(o, "currency", json_string(q->cur->code));
		json_object_set_new(o, "errorCode", r->error_code ?
		    json_string(r->error_code) : json_null());
		json_object_set_new(o, "errorType", r->error_type ?
		    json_string(r->error_type) : json_null());
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	fflush(stdout);	/* each row's result as it completes */
}

int
cmd_batch(struct cmd_ctx *c)
{
	const char *file;
	char *text, err[256], digest[SIGV4_HEX_LEN + 1];
	struct csv csv;
	struct row *rows;
	size_t len, i, ok = 0;
	int rc = 0, unknown = 0, bar;
	time_t start;

	if (c->args.npos < 1 || strcmp(c->args.pos[0], "create") != 0)
		return usage_error(c->cmd, "only 'batch create FILE' exists");
	if (c->args.npos != 2)
		return usage_error(c->cmd, "give one FILE");
	file = c->args.pos[1];
	if ((text = buf_slurp(file, BATCH_FILE_MAX, &len)) == NULL)
		return usage_error(c->cmd, "cannot read '%s': %s", file,
		    strerror(errno));
	sigv4_sha256_hex(text, len, digest);
	if (csv_parse(text, len, &csv, err, sizeof(err)) == -1) {
		free(text);
		return usage_error(c->cmd, "%s: %s", file, err);
	}
	free(text);
	if (csv.nrows < 2 || csv.nrows - 1 > BATCH_ROWS_MAX) {
		csv_free(&csv);
		return usage_error(c->cmd, "%s: %s", file, csv.nrows < 2 ?
		    "no rows after the header" : "more than 999999 rows");
	}
	if ((rows = calloc(csv.nrows, sizeof(*rows))) == NULL) {
		csv_free(&csv);
		return EX_OSERR;
	}
	if (check_rows(c, file, &csv, digest, rows) == -1) {
		rc = EX_USAGE;
		goto done;
	}
	if (c->args.seen[O_DRY_RUN]) {
		rc = dry_run(c, rows, csv.nrows);
		goto done;
	}
	if (c->prof.production)
		msg_note("PRODUCTION: %zu cards for partner %s at %s",
		    csv.nrows - 1, c->prof.partner_id, c->prof.endpoint);
	bar = isatty(STDERR_FILENO) && msg_verbosity >= 0;
	if (c->out == OUT_TABLE)
		printf("%6s  %-32s  %-8s  %14s  %-16s  %s\n", "ROW",
		    "REQUEST ID", "STATUS", "AMOUNT", "GC ID", "CLAIM CODE");
	start = time(NULL);
	for (i = 1; i < csv.nrows; i++) {
		struct buf body = BUF_INIT(64 * 1024);
		struct api_result r;
		int e;

		if (api_body(&c->prof, &rows[i].req, &body) == -1) {
			buf_free(&body);
			rc = EX_SOFTWARE;
			break;
		}
		e = op_send(c, &rows[i].req, &body, &r);
		print_row(c, i, &rows[i].req, &r);
		if (e == 0)
			ok++;
		else {
			if (bar)
				fputc('\n', stderr);
			msg_err("%s line %d: %s", file, rows[i].line, r.why);
			if (e == EX_TEMPFAIL)
				unknown = 1;
			else if (rc == 0)
				rc = e;
		}
		api_result_free(&r);
		buf_free(&body);
		if (bar)
			progress(i, csv.nrows - 1, start);
		if (e == EX_IOERR) {
			rc = e;
			break;	/* without a journal nothing more is sent */
		}
	}
	msg_verbose("%zu of %zu rows succeeded over %ld connection(s)", ok,
	    csv.nrows - 1, http_connections(c->http));
	if (unknown && rc == 0)
		rc = EX_TEMPFAIL;
done:
	free(rows);
	csv_free(&csv);
	return rc;
}
