/*
 * cmd_batch_id.c - a batch's request ids: the batch's name (--batch-id or
 * FILE's), a row's content digest, the id derived from both, and the
 * generation the journal says the run is in.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "agcod.h"
#include "cmd_batch.h"
#include "msg.h"

#define GEN_MAX		10000
/* base-62 digits after the partner id and "B"; fewer for long partner ids */
#define ID_DIGITS	22

int
batch_name(struct batch *b)
{
	const char *v = b->c->args.val[O_BATCH_ID], *base, *dot;
	size_t i, n;

	if (v) {
		for (i = 0; v[i]; i++)
			if (!isalnum((unsigned char)v[i]) &&
			    !strchr("-_.", v[i]))
				return usage_error(b->c->cmd, "--batch-id "
				    "must be letters, digits, '-', '_' and "
				    "'.'");
		if (i == 0 || i > BATCH_ID_MAX)
			return usage_error(b->c->cmd, "--batch-id must be 1 to "
			    "%d characters", BATCH_ID_MAX);
		strlcpy(b->id, v, sizeof(b->id));
		b->id_given = 1;
		return 0;
	}
	/* the file's base name without its extension, in safe letters */
	base = strrchr(b->file, '/') ? strrchr(b->file, '/') + 1 : b->file;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n == 0)
		return usage_error(b->c->cmd, "name the batch with --batch-id");
	if (n > BATCH_ID_MAX)
		n = BATCH_ID_MAX;
	for (i = 0; i < n; i++)
		b->id[i] = isalnum((unsigned char)base[i]) ||
		    strchr("-_.", base[i]) ? base[i] : '_';
	b->id[n] = '\0';
	return 0;
}


/* ---- row ids ---- */

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* the digest of what a row is: amount, currency, every other cell */
int
batch_row_content(struct batch *b, struct row *w, struct buf *t)
{
	const struct csv_row *cr = w->cr;
	int64_t minor;
	int k;

	if (amount_minor(&w->req.amount, w->req.cur, &minor) == -1)
		return -1;	/* cannot happen below the currency's ceiling */
	buf_reset(t);
	if (buf_printf(t, "amount=%lld\n%s=%s\n", (long long)minor, "currency",
	    w->req.cur->code) == -1)
		return -1;
	for (k = 0; k < b->norder; k++) {
		const char *v = cr->fields[b->order[k]];
		const char *p;

		if (*v == '\0')
			continue;	/* adding an empty column: no change */
		for (p = b->name[b->order[k]]; *p; p++)
			if (buf_addc(t, (char)tolower((unsigned char)*p)) == -1)
				return -1;
		/* name NUL value NUL: neither can hold a NUL */
		if (buf_addc(t, '\0') == -1 ||
		    buf_add(t, v, strlen(v) + 1) == -1)
			return -1;
	}
	return sigv4_sha256_hex(t->data ? t->data : "", t->len, w->content);
}

static int
hexval(char ch)
{
	return ch <= '9' ? ch - '0' : ch - 'a' + 10;
}

/* partner id + "B" + base-62 digits of the row's digest in this batch */
int
batch_derive_id(struct batch *b, const struct row *w, unsigned gen,
    char out[REQID_MAX + 1])
{
	const struct profile *p = &b->c->prof;
	char line[512], hex[SIGV4_HEX_LEN + 1];
	size_t plen = strlen(p->partner_id), nd, i;
	int len;

	len = snprintf(line, sizeof(line),
	    "agcod batch 1\n%s\n%s\n%s\n%u\n%s\n%u", p->partner_id,
	    p->production ? "production" : "sandbox", b->id, gen, w->content,
	    w->occ);
	if (len < 0 || len >= (int)sizeof(line) || plen + 1 + 16 > REQID_MAX ||
	    sigv4_sha256_hex(line, (size_t)len, hex) == -1)
		return -1;
	nd = REQID_MAX - plen - 1;
	if (nd > ID_DIGITS)
		nd = ID_DIGITS;
	memcpy(out, p->partner_id, plen);
	out[plen] = 'B';
	for (i = 0; i < nd; i++)
		out[plen + 1 + i] = b62[(hexval(hex[2 * i]) << 4 |
		    hexval(hex[2 * i + 1])) % 62];
	out[plen + 1 + nd] = '\0';
	return 0;
}

/*
 * The journal decides the generation: the latest one any row of this batch
 * was sent in (a resumed run), the next with --new-batch.
 */
int
batch_choose_generation(struct batch *b, int new_batch)
{
	char rid[REQID_MAX + 1];
	unsigned gen;
	int any_derived = 0, found = 0, last = -1;
	size_t i;

	for (i = 0; i < b->n; i++)
		any_derived |= !b->rows[i].explicit_id;
	if (new_batch && !any_derived)
		return 0;
	for (gen = 0; gen < GEN_MAX; gen++) {
		found = 0;
		for (i = 0; i < b->n && !found; i++) {
			if (b->rows[i].explicit_id)
				continue;
			if (gen == 0)	/* derived by batch_check_rows */
				strlcpy(rid, b->rows[i].req.request_id,
				    sizeof(rid));
			else if (batch_derive_id(b, &b->rows[i], gen,
			    rid) == -1)
				return -1;
			found = batch_journal_entry(b, rid) != NULL;
		}
		if (!found)
			break;
		last = (int)gen;
	}
	if (gen == GEN_MAX)
		return -1;
	/* new cards while the last run's outcomes are unknown: maybe twice */
	for (i = 0; new_batch && last >= 0 && i < b->n; i++) {
		json_t *e;
		const char *st;

		if (b->rows[i].explicit_id)
			continue;
		if (batch_derive_id(b, &b->rows[i], (unsigned)last, rid) == -1)
			return -1;
		if ((e = batch_journal_entry(b, rid)) != NULL &&
		    (st = json_str(e, "state")) != NULL &&
		    strcmp(st, "succeeded") != 0 && strcmp(st, "failed") != 0 &&
		    strcmp(st, "cancelled") != 0) {
			msg_err("%s line %d: the last run of batch '%s' has an "
			    "unsettled outcome for this row (request id %s, "
			    "%s): run the batch without --new-batch, or "
			    "'agcod reconcile', before issuing new cards",
			    b->file, b->rows[i].cr->line, b->id, rid, st);
			return -2;
		}
	}
	b->gen = last < 0 ? 0 : new_batch ? (unsigned)last + 1 : (unsigned)last;
	for (i = 0; b->gen > 0 && i < b->n; i++)
		if (!b->rows[i].explicit_id && batch_derive_id(b,
		    &b->rows[i], b->gen, b->rows[i].req.request_id) == -1)
			return -1;
	return 0;
}
