/* cmd_history.c - history: the journal, the latest state of each request */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agcod.h"
#include "msg.h"
#include "output.h"

/* 2026-11-22, 2026-11-22T10:00:00Z, or an age: 90m, 12h, 7d */
static int
parse_since(const char *s, time_t now, char out[32])
{
	struct tm tm;
	const char *e;
	char *end;
	long n;

	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) && *e == '\0') {
		journal_time(timegm(&tm), out);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%d", &tm)) && *e == '\0') {
		journal_time(timegm(&tm), out);
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	n = strtol(s, &end, 10);
	if (n < 0 || n > 100000 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'm': n *= 60; break;
	case 'h': n *= 3600; break;
	case 'd': n *= 86400; break;
	default: return -1;
	}
	journal_time(now - n, out);
	return 0;
}

static const char *
member(json_t *e, const char *k)
{
	const char *v = json_string_value(json_object_get(e, k));

	return v ? v : "-";
}

int
cmd_history(struct cmd_ctx *c)
{
	const char *rid = c->args.val[O_REQUEST_ID];
	char since[32] = "";
	json_t *entries, *e;
	size_t i, shown = 0;

	if (c->args.val[O_SINCE] &&
	    parse_since(c->args.val[O_SINCE], time(NULL), since) == -1)
		return usage_error(c->cmd, "--since '%s' is not a date "
		    "(2026-11-22, 2026-11-22T10:00:00Z) or an age (90m, 12h, 7d)",
		    c->args.val[O_SINCE]);
	if ((entries = ctx_entries(c)) == NULL)
		return EX_IOERR;
	if (c->out == OUT_TABLE)
		printf("%-20s  %-9s  %-21s  %-32s  %10s  %-3s  %s\n", "TIME",
		    "STATE", "OPERATION", "REQUEST ID", "AMOUNT", "CUR",
		    "GC ID / ERROR");
	json_array_foreach(entries, i, e) {
		const char *state = member(e, "state");

		if (c->args.seen[O_PENDING] && strcmp(state, "pending") &&
		    strcmp(state, "unknown"))
			continue;
		if (rid && strcmp(member(e, "request_id"), rid))
			continue;
		if (since[0] && strcmp(member(e, "time"), since) < 0)
			continue;
		shown++;
		if (c->out == OUT_JSON) {
			json_dumpf(e, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			putchar('\n');
			continue;
		}
		{
			/* gc_id and error_type came from the service */
			const char *col[7] = { member(e, "time"), state,
			    member(e, "operation"), member(e, "request_id"),
			    member(e, "amount"), member(e, "currency"),
			    strcmp(member(e, "error_type"), "-") ?
			    member(e, "error_type") : member(e, "gc_id") };
			char shown_col[7][160];
			size_t k;

			for (k = 0; k < 7; k++)
				msg_sanitize(shown_col[k], sizeof(shown_col[k]),
				    col[k], strlen(col[k]));
			printf("%-20s  %-9s  %-21s  %-32s  %10s  %-3s  %s\n",
			    shown_col[0], shown_col[1], shown_col[2],
			    shown_col[3], shown_col[4], shown_col[5],
			    shown_col[6]);
		}
	}
	if (shown == 0)
		msg_note("no matching journal entries in '%s'", c->state_dir);
	return 0;
}
