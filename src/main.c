/*
 * main.c - global options, the command table, run_cmd() and the exit code.
 * The option and command tables also answer --help, --list-commands and
 * --list-options, so help text and completions cannot drift from the code.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <curl/curlver.h>
#include <jansson.h>

#include "agcod.h"
#include "api.h"
#include "guard.h"
#include "http.h"
#include "msg.h"
#include "trace.h"
#include "rotation.h"
#include "suggest.h"

enum {
	B_CREATE = 1 << 0, B_CANCEL = 1 << 1, B_FUNDS = 1 << 2, B_LOAD = 1 << 3,
	B_VOID = 1 << 4, B_ACTIVATE = 1 << 5, B_DEACTIVATE = 1 << 6,
	B_STATUS = 1 << 7, B_SIGN = 1 << 8, B_HISTORY = 1 << 9,
	B_RECONCILE = 1 << 10, B_BATCH = 1 << 11, B_SUPPORT = 1 << 12,
	B_JOURNAL = 1 << 13, B_REPRINT = 1 << 14, B_CONFIG = 1 << 15,
	B_VERIFY = 1 << 16,
	B_GLOBAL = 1u << 31,
	B_MONEY = B_CREATE | B_LOAD | B_VOID | B_ACTIVATE,
	B_SENDS = B_CREATE | B_CANCEL | B_FUNDS | B_LOAD | B_VOID |
	    B_ACTIVATE | B_DEACTIVATE | B_STATUS,
};

struct optspec {
	const char	*name;
	int		 shortopt;
	int		 has_arg;
	int		 id;
	unsigned	 cmds;
	const char	*arg;
	const char	*help;
};

static const struct optspec optspecs[] = {
	{ "profile", 'p', 1, O_PROFILE, B_GLOBAL, "NAME",
	    "profile (INI section) to use" },
	{ "config", 'c', 1, O_CONFIG, B_GLOBAL, "FILE", "configuration file" },
	{ "output", 'o', 1, O_OUTPUT, B_GLOBAL, "json|table|csv",
	    "output format (csv: history, journal export, batch)" },
	{ "region", 0, 1, O_REGION, B_GLOBAL, "na|eu|fe", "region group" },
	{ "environment", 0, 1, O_ENVIRONMENT, B_GLOBAL, "sandbox|production",
	    "Amazon environment" },
	{ "endpoint", 0, 1, O_ENDPOINT, B_GLOBAL, "URL",
	    "send to this base URL instead" },
	{ "cacert", 0, 1, O_CACERT, B_GLOBAL, "FILE", "trust this CA bundle" },
	{ "timeout", 0, 1, O_TIMEOUT, B_GLOBAL, "SECONDS",
	    "limit for one HTTP attempt (10)" },
	{ "retry-for", 0, 1, O_RETRY_FOR, B_GLOBAL, "SECONDS",
	    "time budget for retries, 0 = none (60)" },
	{ "state-dir", 0, 1, O_STATE_DIR, B_GLOBAL, "DIR",
	    "journal and rate-limit state" },
	{ "trace", 0, 1, O_TRACE, B_GLOBAL, "FILE",
	    "append a redacted dump of every HTTP exchange" },
	{ "verbose", 'v', 0, O_VERBOSE, B_GLOBAL, NULL, "more on stderr" },
	{ "quiet", 'q', 0, O_QUIET, B_GLOBAL, NULL, "less on stderr" },
	{ "version", 'V', 0, O_VERSION, B_GLOBAL, NULL,
	    "versions of agcod and its libraries" },
	{ "help", 'h', 0, O_HELP, B_GLOBAL, NULL, "this help" },
	{ "amount", 0, 1, O_AMOUNT, B_MONEY, "A", "amount, e.g. 25 or 19.99" },
	{ "currency", 0, 1, O_CURRENCY, B_MONEY, "C",
	    "ISO 4217 code (profile default)" },
	{ "request-id", 0, 1, O_REQUEST_ID,
	    (B_SENDS & ~B_FUNDS) | B_HISTORY | B_RECONCILE | B_SUPPORT |
	    B_JOURNAL | B_REPRINT, "ID",
	    "request id (generated when optional and omitted)" },
	{ "external-reference", 0, 1, O_EXTREF,
	    B_CREATE | B_LOAD | B_VOID | B_HISTORY,
	    "TEXT", "your own reference, up to 100 characters" },
	{ "program-id", 0, 1, O_PROGRAM_ID, B_CREATE | B_ACTIVATE, "ID",
	    "reseller program id" },
	{ "gc-id", 0, 1, O_GC_ID, B_CANCEL | B_JOURNAL, "ID",
	    "the card's gcId (from the journal when omitted)" },
	{ "below", 0, 1, O_BELOW, B_FUNDS, "AMOUNT",
	    "exit 1 when the funds are below AMOUNT" },
	{ "below-days", 0, 1, O_BELOW_DAYS, B_FUNDS, "N",
	    "exit 1 when the funds last fewer than N days at the recent spend" },
	{ "account-id", 0, 1, O_ACCOUNT_ID, B_LOAD | B_VOID, "ID",
	    "customer account id" },
	{ "account-type", 0, 1, O_ACCOUNT_TYPE, B_LOAD | B_VOID, "T",
	    "customer account type (2)" },
	{ "source-id", 0, 1, O_SOURCE_ID, B_LOAD | B_VOID, "TEXT",
	    "transaction source id" },
	{ "card-number", 0, 1, O_CARD_NUMBER,
	    B_ACTIVATE | B_DEACTIVATE | B_STATUS, "N", "physical card number" },
	{ "date", 0, 1, O_DATE, B_SIGN, "YYYYMMDDTHHMMSSZ",
	    "sign at this time instead of now" },
	{ "send", 0, 0, O_SEND, B_SIGN, NULL,
	    "send the request and report the response" },
	{ "show-signing-key", 0, 0, O_SHOW_KEY, B_SIGN, NULL,
	    "also print the derived signing key" },
	{ "request", 0, 1, O_REQUEST_FILE, B_SIGN, "FILE",
	    "sign (and check) a raw HTTP request; - for stdin" },
	{ "service", 0, 1, O_SERVICE, B_SIGN, "NAME",
	    "service in the scope, with --request (AGCODService)" },
	{ "pending", 0, 0, O_PENDING, B_HISTORY, NULL,
	    "only requests whose outcome is not known yet" },
	{ "requests", 0, 0, O_REQUESTS, B_HISTORY, NULL,
	    "every request with its own outcome, not one row per card" },
	{ "state", 0, 1, O_STATE, B_HISTORY | B_JOURNAL, "STATE",
	    "only in STATE (history); the outcome (journal settle)" },
	{ "operation", 0, 1, O_OPERATION, B_HISTORY | B_JOURNAL, "OP",
	    "only of operation OP: create, load, activate, ..." },
	{ "since", 0, 1, O_SINCE, B_HISTORY, "WHEN",
	    "only since WHEN: 2026-11-22, 2026-11-22T10:00:00Z, 90m, 12h, 7d" },
	{ "until", 0, 1, O_UNTIL, B_HISTORY, "WHEN",
	    "only before WHEN (same forms as --since)" },
	{ "limit", 0, 1, O_LIMIT, B_HISTORY, "N", "at most N rows" },
	{ "before", 0, 1, O_BEFORE, B_JOURNAL, "WHEN",
	    "journal prune: settled records older than WHEN" },
	{ "reason", 0, 1, O_REASON, B_JOURNAL, "TEXT",
	    "journal settle: how the outcome was confirmed" },
	{ "dry-run", 0, 0, O_DRY_RUN, B_BATCH | B_JOURNAL, NULL,
	    "check every row, show totals and funds, send nothing else" },
	{ "list-commands", 0, 0, O_LIST_COMMANDS, B_GLOBAL, NULL, NULL },
	{ "list-options", 0, 1, O_LIST_OPTIONS, B_GLOBAL, "CMD", NULL },
	{ "product-type", 0, 1, O_PRODUCT_TYPE, B_CREATE | B_ACTIVATE, "TYPE",
	    "product voucher type, e.g. hwPV" },
	{ "recover-for", 0, 1, O_RECOVER_FOR, B_ACTIVATE | B_RECONCILE, "SECONDS",
	    "after RESEND: deactivate and activate anew, for at most (120)" },
	{ "yes", 0, 0, O_YES, B_GLOBAL, NULL,
	    "in production, move money without asking on the terminal" },
	{ "list-table", 0, 0, O_LIST_TABLE, B_GLOBAL, NULL, NULL },
	{ "batch-id", 0, 1, O_BATCH_ID, B_BATCH, "NAME",
	    "the batch's name in its row ids (FILE's base name)" },
	{ "reprint", 0, 0, O_REPRINT, B_BATCH, NULL,
	    "a completed batch's cards again: same ids, same claim codes" },
	{ "new-batch", 0, 0, O_NEW_BATCH, B_BATCH, NULL,
	    "new row ids: new cards for rows issued before" },
	{ "out", 0, 1, O_OUT, B_BATCH, "FILE",
	    "write the results to FILE, a new file of mode 0600" },
	{ "allow-reused-reference", 0, 0, O_ALLOW_REUSED_REF, B_BATCH, NULL,
	    "issue rows whose external_reference already has a card" },
};
#define NOPTSPECS (sizeof(optspecs) / sizeof(optspecs[0]))

static const struct cmd cmds[] = {
	{ "create", cmd_op, B_CREATE, NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE,
	    &ops[0], "create --amount A [--currency C] [--request-id ID] "
	    "[--external-reference TEXT] [--program-id ID] [--product-type TYPE]",
	    "issue a gift card code" },
	{ "cancel", cmd_op, B_CANCEL, NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE,
	    &ops[1], "cancel --request-id ID [--gc-id ID]",
	    "cancel a code within 15 minutes" },
	{ "funds", cmd_op, B_FUNDS, NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE,
	    &ops[2], "funds [--below AMOUNT] [--below-days N]", "show the prepaid funds" },
	{ "load", cmd_op, B_LOAD, NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE,
	    &ops[3], "load --amount A [--currency C] --account-id ID "
	    "[--account-type T] [--source-id TEXT] [--request-id ID] "
	    "[--external-reference TEXT]",
	    "load balance onto a customer's account" },
	{ "void", cmd_op, B_VOID, NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE,
	    &ops[4], "void --request-id ID [--amount A] [--currency C] "
	    "[--account-id ID] [--account-type T] [--source-id TEXT] "
	    "[--external-reference TEXT]",
	    "void a balance load" },
	{ "activate", cmd_op, B_ACTIVATE, NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE,
	    &ops[5], "activate --card-number N --amount A [--currency C] "
	    "[--request-id ID] [--program-id ID] [--product-type TYPE] "
	    "[--recover-for SECONDS]",
	    "activate a physical card" },
	{ "deactivate", cmd_op, B_DEACTIVATE,
	    NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE, &ops[6],
	    "deactivate --request-id ID [--card-number N]",
	    "deactivate a physical card" },
	{ "activation-status", cmd_op, B_STATUS,
	    NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE, &ops[7],
	    "activation-status --card-number N [--request-id ID]",
	    "check a physical card's activation" },
	{ "sign-debug", cmd_sign_debug, B_SIGN, NEED_PROFILE | NEED_SECRET,
	    NULL, "sign-debug OPERATION [operation options] "
	    "[--date YYYYMMDDTHHMMSSZ] "
	    "[--send] [--show-signing-key]\n"
	    "       agcod sign-debug --request FILE [--service NAME] "
	    "[--region REGION] [--date STAMP]",
	    "show how a request is signed, for support cases" },
	{ "history", cmd_history, B_HISTORY, 0, NULL,
	    "history [--pending | --requests] [--state STATE] "
	    "[--operation OP] [--request-id ID] [--external-reference TEXT] "
	    "[--since WHEN] [--until WHEN] [--limit N]",
	    "show each card, load and physical card with its state" },
	{ "reconcile", cmd_reconcile, B_RECONCILE,
	    NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE, NULL,
	    "reconcile [--request-id ID] [--recover-for SECONDS]",
	    "settle requests whose outcome is unknown" },
	{ "batch", cmd_batch, B_BATCH,
	    NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE, NULL,
	    "batch create FILE [--dry-run] [--batch-id NAME] "
	    "[--reprint | --new-batch] [--out FILE] [--allow-reused-reference]",
	    "create a card for every row of a CSV file (-o json, table or csv), "
	    "safe to fix and re-run" },
	{ "support-draft", cmd_support_draft, B_SUPPORT,
	    NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE, NULL,
	    "support-draft [--request-id ID] [--trace FILE]",
	    "draft a support case about the latest failed request" },
	{ "journal", cmd_journal, B_JOURNAL, 0, NULL,
	    "journal export [-o json | csv]\n"
	    "       agcod journal check\n"
	    "       agcod journal prune --before WHEN [--dry-run]\n"
	    "       agcod journal settle --request-id ID --state STATE "
	    "--reason TEXT [--operation OP] [--gc-id ID]",
	    "export, check, prune the journal; settle an unknown by hand" },
	{ "reprint", cmd_reprint, B_REPRINT,
	    NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE, &ops[0],
	    "reprint --request-id ID",
	    "fetch a card's claim code again, by its request id" },
	{ "verify", cmd_verify, B_VERIFY, NEED_PROFILE | NEED_SECRET | NEED_NET,
	    NULL, "verify",
	    "check the key with a harmless signed call; show what it proved" },
	{ "config", cmd_config, B_CONFIG, 0, NULL,
	    "config list\n       agcod config profiles",
	    "each setting of the profile and where it comes from; "
	    "the profiles" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

const struct cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

const char *
opt_name(int id)
{
	size_t i;

	for (i = 0; i < NOPTSPECS; i++)
		if (optspecs[i].id == id)
			return optspecs[i].name;
	return "?";
}

int
opt_applies(int id, const struct cmd *c)
{
	size_t i;

	for (i = 0; i < NOPTSPECS; i++)
		if (optspecs[i].id == id)
			return (optspecs[i].cmds & (c->bit | B_GLOBAL)) != 0;
	return 0;
}

static void
print_options(FILE *f, unsigned mask)
{
	char left[64];
	size_t i;

	for (i = 0; i < NOPTSPECS; i++) {
		const struct optspec *o = &optspecs[i];

		if (!(o->cmds & mask) || o->help == NULL)
			continue;
		if (o->shortopt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
			    o->shortopt, o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-34s  %s\n", left, o->help);
	}
}

static void
help_main(FILE *f)
{
	size_t i;

	fprintf(f, "usage: agcod [global options] COMMAND [command options]\n\n"
	    "Amazon Incentives API (AGCOD) from the command line.\n\n"
	    "commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-20s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\nglobal options (before or after COMMAND):\n");
	print_options(f, B_GLOBAL);
	fprintf(f, "\n'agcod help COMMAND' shows a command's options; "
	    "man agcod has the rest.\n");
}

static void
help_cmd(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: agcod %s\n\n%s.\n", c->synopsis, c->summary);
	if (c->bit == B_SIGN) {
		fprintf(f, "\nOPERATION is one of:");
		for (size_t i = 0; i < nops; i++)
			fprintf(f, " %s", ops[i].cmd);
		fprintf(f, ", with that command's options.\n");
	}
	for (size_t i = 0; i < NOPTSPECS; i++)
		if ((optspecs[i].cmds & c->bit) && optspecs[i].help) {
			fprintf(f, "\noptions:\n");
			print_options(f, c->bit);
			break;
		}
	if (c->bit == B_SIGN) {
		fprintf(f, "\noperation options (each with its operation):\n");
		print_options(f, B_SENDS);
	}
	fprintf(f, "\nglobal options are accepted too: see 'agcod --help'.\n");
}

/* the commands that take the options of `bits`, as "cancel" or "load, void" */
static const char *
cmd_names(unsigned bits, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NCMDS && n < len; i++)
		if (cmds[i].bit & bits)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n ? ", " : "", cmds[i].name);
	return buf;
}

/* an option getopt did not know: another command's, a prefix or a typo */
static int
unknown_option(const struct cmd *c, unsigned mask, const char *bad)
{
	char name[64], which[256], prefixed[256];
	struct suggest s = { name, NULL, 0 };
	size_t i, n = 0, np = 0, len;
	const char *of = c ? c->name : "agcod";

	len = strcspn(bad + 2, "=");
	if (strncmp(bad, "--", 2) != 0 || len >= sizeof(name))
		return usage_error(c, "unknown option '%s'%s%s", bad,
		    c ? " for " : "", c ? c->name : "");
	memcpy(name, bad + 2, len);
	name[len] = '\0';
	prefixed[0] = '\0';
	for (i = 0; i < NOPTSPECS; i++) {
		const struct optspec *o = &optspecs[i];

		if (o->help == NULL)
			continue;
		if (strcmp(o->name, name) == 0 && !(o->cmds & mask))
			return usage_error(c, "unknown option '--%s' for %s "
			    "('--%s' is an option of %s%s)", name, of, name,
			    cmd_names(o->cmds, which, sizeof(which)),
			    c ? "" : ": give it after the command");
		if (!(o->cmds & mask))
			continue;
		if (len && strncmp(o->name, name, len) == 0 &&
		    np < sizeof(prefixed)) {
			np += (size_t)snprintf(prefixed + np,
			    sizeof(prefixed) - np, "%s--%s", n ? ", " : "",
			    o->name);
			n++;
		}
		suggest_consider(&s, o->name);
	}
	if (n > 1)
		return usage_error(c, "option '--%s' is ambiguous: %s", name,
		    prefixed);
	if (s.best)
		return usage_error(c, "unknown option '--%s' for %s (did you "
		    "mean '--%s'?)", name, of, s.best);
	return usage_error(c, "unknown option '--%s' for %s", name, of);
}

static int
unknown_command(const char *name)
{
	struct suggest s = { name, NULL, 0 };
	size_t i;

	for (i = 0; i < NCMDS; i++)
		suggest_consider(&s, cmds[i].name);
	suggest_consider(&s, "help");
	if (s.best)
		return usage_error(NULL, "unknown command '%s' (did you mean "
		    "'%s'?)", name, s.best);
	return usage_error(NULL, "unknown command '%s'", name);
}

/*
 * An option with a value says it once: of '--amount 5 --amount 500' neither
 * "last wins" nor "first wins" is what every caller meant.  Flags may repeat.
 */
static int
check_repeats(const struct cmd *c, const struct args *a)
{
	size_t i;

	for (i = 0; i < NOPTSPECS; i++) {
		int n = a->seen[optspecs[i].id];

		if (optspecs[i].has_arg && n > 1)
			return n == 2 ? usage_error(c, "'--%s' given twice: "
			    "give it once", optspecs[i].name) :
			    usage_error(c, "'--%s' given %d times: give it "
			    "once", optspecs[i].name, n);
	}
	return 0;
}

/*
 * Parse argv with the options whose mask meets `mask`.  With stop_at_cmd,
 * stop at the first non-option (the command); otherwise collect operands.
 */
static int
parse_args(int argc, char **argv, unsigned mask, int stop_at_cmd,
    const struct cmd *c, struct args *a, int *next)
{
	struct option lo[NOPTSPECS + 1];
	char so[2 * NOPTSPECS + 3];
	size_t i, nlo = 0, nso = 0;
	int ch, idx;

	so[nso++] = stop_at_cmd ? '+' : '-';
	so[nso++] = ':';
	for (i = 0; i < NOPTSPECS; i++) {
		const struct optspec *o = &optspecs[i];

		if (!(o->cmds & mask))
			continue;
		lo[nlo].name = o->name;
		lo[nlo].has_arg = o->has_arg ? required_argument : no_argument;
		lo[nlo].flag = NULL;
		lo[nlo++].val = 1000 + o->id;
		if (o->shortopt) {
			so[nso++] = (char)o->shortopt;
			if (o->has_arg)
				so[nso++] = ':';
		}
	}
	memset(&lo[nlo], 0, sizeof(lo[nlo]));
	so[nso] = '\0';

	opterr = 0;
	optind = 0;	/* GNU: full reinitialisation */
	while ((ch = getopt_long(argc, argv, so, lo, &idx)) != -1) {
		int id = -1;

		if (ch == 1) {	/* an operand, in order ('-' mode) */
			a->pos[a->npos++] = optarg;
			continue;
		}
		if (ch == '?' || ch == ':') {
			const char *bad = argv[optind - 1];

			if (ch == ':')
				return usage_error(c, "option '%s' needs a "
				    "value", bad);
			if (optopt >= 1000)
				return usage_error(c, "option '--%s' takes no "
				    "value", opt_name(optopt - 1000));
			if (optopt)
				return usage_error(c, "unknown option '-%c'%s%s",
				    optopt, c ? " for " : "", c ? c->name : "");
			return unknown_option(c, mask, bad);
		}
		if (ch >= 1000)
			id = ch - 1000;
		else
			for (i = 0; i < NOPTSPECS; i++)
				if (optspecs[i].shortopt == ch &&
				    (optspecs[i].cmds & mask))
					id = optspecs[i].id;
		if (id < 0)
			return usage_error(c, "unknown option");
		a->val[id] = optarg ? optarg : "1";
		a->seen[id]++;
	}
	*next = optind;
	return 0;
}

static int
list_options(const char *name)
{
	const struct cmd *c = cmd_find(name);
	unsigned mask;
	size_t i;

	if (c == NULL)
		return unknown_command(name);
	mask = c->bit | B_GLOBAL;
	if (c->bit == B_SIGN)
		mask |= B_SENDS;
	for (i = 0; i < NOPTSPECS; i++)
		if ((optspecs[i].cmds & mask) && optspecs[i].help)
			printf("--%s\n", optspecs[i].name);
	return 0;
}

/*
 * --list-table: the tables, tab-separated, for tests/gen_completions.py:
 *   command NAME SUMMARY operation|-     one a command
 *   usage   NAME SYNOPSIS-LINE           one a synopsis line
 *   option  --NAME -X|- ARG|- HELP       one an option
 * (--list-options CMD says which options a command takes)
 */
static int
list_table(void)
{
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		const char *l = cmds[i].synopsis, *e;

		/* an operation: what sign-debug takes as OPERATION */
		printf("command\t%s\t%s\t%s\n", cmds[i].name, cmds[i].summary,
		    op_find(cmds[i].name) ? "operation" : "-");
		for (; l; l = e ? e + 1 : NULL) {
			e = strchr(l, '\n');
			l += strspn(l, " ");
			if (strncmp(l, "agcod ", 6) == 0)
				l += 6;
			printf("usage\t%s\t%.*s\n", cmds[i].name,
			    e ? (int)(e - l) : (int)strlen(l), l);
		}
	}
	for (i = 0; i < NOPTSPECS; i++) {
		const struct optspec *o = &optspecs[i];

		if (o->help == NULL)
			continue;
		printf("option\t--%s\t", o->name);
		if (o->shortopt)
			printf("-%c", o->shortopt);
		else
			putchar('-');
		printf("\t%s\t%s\n", o->arg ? o->arg : "-", o->help);
	}
	return 0;
}

static int
long_arg(const struct cmd *c, const char *v, int id, long lo, long hi,
    long *out)
{
	const char *why = NULL;

	*out = (long)strtonum(v, lo, hi, &why);
	if (why)
		return usage_error(c, "--%s '%s' is %s (%ld to %ld)",
		    opt_name(id), v, why, lo, hi);
	return 0;
}

/* whoever read standard output has gone: a pipe or socket with no reader */
static int
stdout_reader_gone(int err)
{
	struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };
	struct stat st;

	if (err == EPIPE)
		return 1;
	if (fstat(STDOUT_FILENO, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return 0;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP));
}

/*
 * A result that cannot be written is an error (a claim code lost to a full
 * disk must not look like success), except for a command that sent nothing
 * and whose reader stopped reading ('agcod history | head -1'): like cat,
 * it has nobody left to tell and exits quietly.
 */
static int
finish_stdout(struct cmd_ctx *ctx, int rc)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (!ctx->sent && stdout_reader_gone(errno))
			return rc;
		if (!ctx->out_checked)	/* else the command said what to do */
			msg_err("cannot write the result to standard output%s",
			    ctx->sent ? "; it was not delivered: 'agcod history' "
			    "has the request ids; 'agcod reprint --request-id ID' "
			    "fetches a card's claim code again" : "");
		return rc ? rc : ctx->sent ? EX_TEMPFAIL : EX_IOERR;
	}
	return rc;
}

static int
run_cmd(struct cmd_ctx *ctx)
{
	const struct args *a = &ctx->args;
	const struct cmd *c = ctx->cmd;
	char sd[PATH_MAX];
	int rc;

	if (c->need & NEED_PROFILE) {
		struct profile_opts po = {
			a->val[O_PROFILE], a->val[O_CONFIG], a->val[O_REGION],
			a->val[O_ENVIRONMENT], a->val[O_ENDPOINT],
			a->val[O_CACERT], NULL
		};

		/* sign-debug --request --region us-east-1: a signing region */
		if (c->bit == B_SIGN && po.region && region_find(po.region) ==
		    NULL && a->val[O_REQUEST_FILE])
			po.region = NULL;
		if ((rc = profile_load(&ctx->prof, &po)) != 0)
			return rc;
		if (state_dir_resolve(a->val[O_STATE_DIR], sd, sizeof(sd)) == 0)
			rotation_remind(&ctx->prof, sd, time(NULL));
	}
	/* before anything is journaled or sent: 78 for what cannot work */
	if (((c->need & NEED_NET) || a->seen[O_SEND]) &&
	    (rc = guard_config(ctx)) != 0)
		return rc;
	if ((c->need & NEED_SECRET) &&
	    (rc = profile_need_secret(&ctx->prof)) != 0)
		return rc;
	if ((c->need & NEED_NET) && (rc = http_start(&ctx->http, &ctx->prof,
	    ctx->timeout)) != 0)
		return rc;
	if ((c->need & NEED_STATE) && (rc = ctx_open_state(ctx,
	    c->op == NULL || (c->op->flags & OP_JOURNAL))) != 0)
		return rc;
	/* a --trace that cannot be written is refused before anything is sent */
	if ((c->need & NEED_NET) && (rc = trace_prepare(ctx)) != 0)
		return rc;
	rc = c->fn(ctx);
	http_free(ctx->http);
	ctx->http = NULL;
	return rc;
}

int
main(int argc, char **argv)
{
	struct rlimit nocore = { 0, 0 };
	static struct cmd_ctx ctx;
	const struct cmd *c;
	struct args g;
	char *posbuf[1];
	unsigned mask;
	int rc, next;

	/* secrets live in this process: no core dumps, no ptrace by others */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit makes a journal write fail (EFBIG), not kill us */
	signal(SIGXFSZ, SIG_IGN);
	umask(077);

	memset(&g, 0, sizeof(g));
	g.pos = posbuf;
	if ((rc = parse_args(argc, argv, B_GLOBAL, 1, NULL, &g, &next)) != 0)
		return rc;
	msg_verbosity = g.seen[O_VERBOSE];
	if (g.seen[O_VERSION]) {
		print_versions(stdout);
		return finish_stdout(&ctx, 0);
	}
	if (g.seen[O_LIST_COMMANDS]) {
		for (size_t i = 0; i < NCMDS; i++)
			printf("%s\n", cmds[i].name);
		return finish_stdout(&ctx, 0);
	}
	if (g.seen[O_LIST_OPTIONS])
		return finish_stdout(&ctx, list_options(g.val[O_LIST_OPTIONS]));
	if (g.seen[O_LIST_TABLE])
		return finish_stdout(&ctx, list_table());
	if (next >= argc) {
		if (g.seen[O_HELP]) {
			help_main(stdout);
			return finish_stdout(&ctx, 0);
		}
		return usage_error(NULL, "no command given");
	}
	if (strcmp(argv[next], "help") == 0) {
		if (next + 1 >= argc) {
			help_main(stdout);
			return finish_stdout(&ctx, 0);
		}
		if ((c = cmd_find(argv[next + 1])) == NULL)
			return unknown_command(argv[next + 1]);
		help_cmd(stdout, c);
		return finish_stdout(&ctx, 0);
	}
	if ((c = cmd_find(argv[next])) == NULL)
		return unknown_command(argv[next]);

	/* the command's own options, global ones again, and operands */
	ctx.cmd = c;
	ctx.args = g;
	if ((ctx.args.pos = calloc((size_t)argc, sizeof(char *))) == NULL)
		return EX_OSERR;
	ctx.args.npos = 0;
	mask = c->bit | B_GLOBAL;
	if (c->bit == B_SIGN)
		mask |= B_SENDS;	/* checked against the operation later */
	if ((rc = parse_args(argc - next, argv + next, mask, 0, c, &ctx.args,
	    &next)) != 0)
		return rc;
	/* -V and --help win wherever they are: nothing runs, nothing is sent */
	if (ctx.args.seen[O_VERSION]) {
		msg_verbosity = ctx.args.seen[O_VERBOSE];
		print_versions(stdout);
		return finish_stdout(&ctx, 0);
	}
	if (ctx.args.seen[O_HELP]) {
		help_cmd(stdout, c);
		return finish_stdout(&ctx, 0);
	}
	if ((rc = check_repeats(c, &ctx.args)) != 0)
		return rc;

	/* ctx.args counts the -v given before the command too */
	msg_verbosity = ctx.args.seen[O_QUIET] ? -1 : 0;
	msg_verbosity += ctx.args.seen[O_VERBOSE];
	if (ctx.args.val[O_OUTPUT] == NULL)
		ctx.out = isatty(STDOUT_FILENO) ? OUT_TABLE : OUT_JSON;
	else if (strcmp(ctx.args.val[O_OUTPUT], "json") == 0)
		ctx.out = OUT_JSON;
	else if (strcmp(ctx.args.val[O_OUTPUT], "table") == 0)
		ctx.out = OUT_TABLE;
	else if (strcmp(ctx.args.val[O_OUTPUT], "csv") == 0 &&
	    (c->bit & (B_HISTORY | B_JOURNAL | B_BATCH)))
		ctx.out = OUT_CSV;
	else
		return usage_error(c, "--output '%s' is not json or table%s",
		    ctx.args.val[O_OUTPUT], (c->bit & (B_HISTORY | B_JOURNAL |
		    B_BATCH)) ? " or csv" : "");
	ctx.timeout = 10;
	ctx.retry_for = 60;
	if ((ctx.args.val[O_TIMEOUT] && (rc = long_arg(c,
	    ctx.args.val[O_TIMEOUT], O_TIMEOUT, 1, 600, &ctx.timeout))) ||
	    (ctx.args.val[O_RETRY_FOR] && (rc = long_arg(c,
	    ctx.args.val[O_RETRY_FOR], O_RETRY_FOR, 0, 86400,
	    &ctx.retry_for))))
		return rc;
	if (c->bit != B_SIGN && c->bit != B_BATCH && c->bit != B_JOURNAL &&
	    c->bit != B_CONFIG &&
	    ctx.args.npos > 0)
		return usage_error(c, "unexpected argument '%s'",
		    ctx.args.pos[0]);

	ctx.trace_fd = -1;
	rc = run_cmd(&ctx);
	if (ctx.trace_fd >= 0)
		close(ctx.trace_fd);
	journal_close(&ctx.journal);
	json_decref(ctx.kept);
	profile_free(&ctx.prof);
	free(ctx.args.pos);
	return finish_stdout(&ctx, rc);
}
