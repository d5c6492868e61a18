/*
 * cli.c - the command line: the option table, the command table (the
 * operations' commands come from ops[]; the others are listed here),
 * parsing, --help, --list-commands, --list-options, --list-table and
 * "did you mean".  The tables answer help and completions too, so neither
 * can drift from the code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>

#include "agcod.h"
#include "api.h"
#include "cli.h"
#include "output.h"
#include "suggest.h"

struct optspec {
	const char	*name;
	int		 shortopt;
	int		 id;
	unsigned	 cmds;	/* B_*; an operation's options: ops.c */
	const char	*arg;	/* NULL: a flag */
	const char	*help;
};

/* the option table, expanded from options.h */
#define SPEC(ID, NAME, SHORT, ARG, CMDS, HELP) \
	{ NAME, SHORT, O_##ID, CMDS, ARG, HELP },
#define SPEC_OPER(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS) \
	SPEC(ID, NAME, SHORT, ARG, CMDS, HELP)
#define SPEC_BODY(ID, NAME, SHORT, ARG, CMDS, HELP, FIELDS, FLAGS, M, J, B) \
	SPEC(ID, NAME, SHORT, ARG, CMDS, HELP)
static const struct optspec optspecs[] = {
	AGCOD_OPTIONS(SPEC, SPEC_OPER, SPEC_BODY)
};
#undef SPEC
#undef SPEC_OPER
#undef SPEC_BODY
#define NOPTSPECS (sizeof(optspecs) / sizeof(optspecs[0]))

/*
 * An option whose meaning depends on the command: what it means there.
 * --help shows these instead of the option's own help; a command of
 * subcommands names the ones that take the option (test_cli.py checks
 * every command's help against its synopsis).
 */
static const struct {
	const char	*cmd;
	int		 id;
	const char	*help;
} cmd_opt_help[] = {
	{ "cancel", O_REQUEST_ID, "the create's request id: the card to cancel" },
	{ "void", O_REQUEST_ID, "the load's request id: the load to void" },
	{ "deactivate", O_REQUEST_ID,
	    "the activation's request id: the card to deactivate" },
	{ "reprint", O_REQUEST_ID,
	    "the create's request id: the card to fetch again" },
	{ "history", O_REQUEST_ID, "only the object of this request id" },
	{ "history", O_EXTREF, "only objects with this external reference" },
	{ "reconcile", O_REQUEST_ID, "only this request id" },
	{ "support-draft", O_REQUEST_ID,
	    "the request to describe (the latest failed one when not given)" },
	{ "journal", O_REQUEST_ID, "settle: the request id to settle" },
	{ "journal", O_STATE, "settle: the outcome, succeeded or failed" },
	{ "journal", O_OPERATION,
	    "settle: the request's operation, when its id has several" },
	{ "journal", O_GC_ID, "settle: the card's gcId, when the journal has "
	    "none" },
	{ "journal", O_REASON, "settle: how the outcome was confirmed" },
	{ "journal", O_BEFORE, "prune: settled records older than WHEN" },
	{ "journal", O_DRY_RUN, "prune: show what would be pruned, remove "
	    "nothing" },
	{ "journal", O_ALL_ENVIRONMENTS, "export: every partner and "
	    "environment, not only the profile's" },
	{ "journal", O_TO, "copy: the PostgreSQL journal to copy journal.db "
	    "into (without: the profile's journal =)" },
};

/* o's help under command c */
static const char *
help_for(const struct optspec *o, const struct cmd *c)
{
	size_t i;

	for (i = 0; c && i < sizeof(cmd_opt_help) / sizeof(cmd_opt_help[0]);
	    i++)
		if (cmd_opt_help[i].id == o->id &&
		    strcmp(cmd_opt_help[i].cmd, c->name) == 0)
			return cmd_opt_help[i].help;
	return o->help;
}

#define NEED_ALL	(NEED_PROFILE | NEED_SECRET | NEED_NET | NEED_STATE)

static const struct cmd others[] = {
	{ "sign-debug", cmd_sign_debug, B_SIGN,
	    NEED_PROFILE | NEED_SECRET | CMD_OPERANDS, NULL,
	    "sign-debug OPERATION [operation options] "
	    "[--date YYYYMMDDTHHMMSSZ] "
	    "[--send] [--show-signing-key]\n"
	    "       agcod sign-debug --request FILE [--service NAME] "
	    "[--region REGION] [--date STAMP]",
	    "show how a request is signed, for support cases" },
	{ "history", cmd_history, B_HISTORY, CMD_CSV, NULL,
	    "history [--pending | --requests] [--state STATE] "
	    "[--operation OP] [--request-id ID] [--external-reference TEXT] "
	    "[--since WHEN] [--until WHEN] [--limit N] [--reverse] "
	    "[--all-environments] [--exit-code]",
	    "show each card, load and physical card with its state" },
	{ "reconcile", cmd_reconcile, B_RECONCILE, NEED_ALL, NULL,
	    "reconcile [--request-id ID] [--recover-for SECONDS]",
	    "settle requests whose outcome is unknown" },
	{ "batch", cmd_batch, B_BATCH, NEED_ALL | CMD_CSV | CMD_OPERANDS, NULL,
	    "batch create FILE [--dry-run] [--batch-id NAME] "
	    "[--reprint | --new-batch] [--out FILE] [--allow-reused-reference] "
	    "[--no-funds-check] [--delimiter CHAR]",
	    "create a card for every row of a CSV file (-o json, table or csv), "
	    "safe to fix and re-run" },
	{ "support-draft", cmd_support_draft, B_SUPPORT, NEED_ALL, NULL,
	    "support-draft [--request-id ID] [--trace FILE]",
	    "draft a support case about the latest failed request" },
	{ "journal", cmd_journal, B_JOURNAL, CMD_CSV | CMD_OPERANDS, NULL,
	    "journal export [-o json | csv] [--all-environments]\n"
	    "       agcod journal check\n"
	    "       agcod journal prune --before WHEN [--dry-run]\n"
	    "       agcod journal settle --request-id ID --state STATE "
	    "--reason TEXT [--operation OP] [--gc-id ID]\n"
	    "       agcod journal copy [--to DATABASE] [-o json]",
	    "export, check, prune the journal; settle an unknown by hand; "
	    "copy journal.db into PostgreSQL" },
	{ "reprint", cmd_reprint, B_REPRINT, NEED_ALL, NULL,
	    "reprint --request-id ID",
	    "fetch a card's claim code again, by its request id" },
	{ "verify", cmd_verify, B_VERIFY, NEED_PROFILE | NEED_SECRET | NEED_NET,
	    NULL, "verify",
	    "check the key with a harmless signed call; show what it proved" },
	{ "config", cmd_config, B_CONFIG, CMD_OPERANDS, NULL,
	    "config list\n       agcod config profiles",
	    "each setting of the profile and where it comes from; "
	    "the profiles" },
};
#define NOTHERS	(sizeof(others) / sizeof(others[0]))

/* the operations' commands, one for each of ops[], first */
#define OPS_MAX	16
static struct cmd opcmds[OPS_MAX];

static size_t
ncmds(void)
{
	size_t i;

	if (opcmds[0].name == NULL) {
		if (nops > OPS_MAX)
			abort();	/* raise OPS_MAX */
		for (i = 0; i < nops; i++) {
			opcmds[i].name = ops[i].cmd;
			opcmds[i].fn = cmd_op;
			opcmds[i].need = NEED_ALL;
			opcmds[i].op = &ops[i];
			opcmds[i].synopsis = ops[i].synopsis;
			opcmds[i].summary = ops[i].summary;
		}
	}
	return nops + NOTHERS;
}

/* the i-th command (operations first, in ops[] order); NULL past the end */
static const struct cmd *
cmd_at(size_t i)
{
	if (i >= ncmds())
		return NULL;
	return i < nops ? &opcmds[i] : &others[i - nops];
}

const struct cmd *
cmd_find(const char *name)
{
	const struct cmd *c;
	size_t i;

	for (i = 0; (c = cmd_at(i)) != NULL; i++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* o is one of c's own options (not sign-debug's borrowed ones) */
static int
own(const struct optspec *o, const struct cmd *c)
{
	return (o->cmds & c->bit) || (c->op && op_takes(c->op, o->name));
}

/* c (NULL: before the command) accepts o */
static int
takes(const struct optspec *o, const struct cmd *c)
{
	if (o->cmds & B_GLOBAL)
		return 1;
	if (c == NULL)
		return 0;
	/* sign-debug OPERATION takes that operation's options */
	return own(o, c) || (c->bit == B_SIGN && op_option(o->name));
}

static const struct optspec *
spec(int id)
{
	size_t i;

	for (i = 0; i < NOPTSPECS; i++)
		if (optspecs[i].id == id)
			return &optspecs[i];
	return NULL;
}

const char *
opt_name(int id)
{
	const struct optspec *o = spec(id);

	return o ? o->name : "?";
}

int
opt_has_arg(int id)
{
	const struct optspec *o = spec(id);

	return o && o->arg != NULL;
}

int
opt_id(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTSPECS; i++)
		if (strcmp(optspecs[i].name, name) == 0)
			return optspecs[i].id;
	return -1;
}

int
opt_applies(int id, const struct cmd *c)
{
	const struct optspec *o = spec(id);

	return o && ((o->cmds & B_GLOBAL) || (c && own(o, c)));
}

void
cli_opreq_in(const struct args *a, struct opreq_in *in)
{
	const char **dst;
	size_t i;
	int id;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < nop_options; i++)
		if ((dst = op_input(in, i)) != NULL &&
		    (id = opt_id(op_options[i].name)) > 0)
			*dst = a->val[id];
}

enum which { W_GLOBAL, W_OWN, W_OPERATIONS };

static void
print_options(FILE *f, const struct cmd *c, enum which w)
{
	char left[64];
	size_t i;

	for (i = 0; i < NOPTSPECS; i++) {
		const struct optspec *o = &optspecs[i];

		if (o->help == NULL)
			continue;
		if (w == W_GLOBAL ? !(o->cmds & B_GLOBAL) : w == W_OWN ?
		    (o->cmds & B_GLOBAL) || !own(o, c) : !op_option(o->name))
			continue;
		if (o->shortopt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
			    o->shortopt, o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-34s  %s\n", left,
		    w == W_OWN ? help_for(o, c) : o->help);
	}
}

void
cli_help(FILE *f, const struct cmd *c)
{
	const struct cmd *k;
	size_t i;

	if (c == NULL) {
		fprintf(f, "usage: agcod [global options] COMMAND "
		    "[command options]\n\n"
		    "Amazon Incentives API (AGCOD) from the command line.\n\n"
		    "commands:\n");
		for (i = 0; (k = cmd_at(i)) != NULL; i++)
			fprintf(f, "  %-20s %s\n", k->name, k->summary);
		fprintf(f, "\nglobal options (before or after COMMAND):\n");
		print_options(f, NULL, W_GLOBAL);
		fprintf(f, "\n'agcod help COMMAND' shows a command's options; "
		    "man agcod has the rest.\n");
		return;
	}
	fprintf(f, "usage: agcod %s\n\n%s.\n", c->synopsis, c->summary);
	if (c->bit == B_SIGN) {
		fprintf(f, "\nOPERATION is one of:");
		for (i = 0; i < nops; i++)
			fprintf(f, " %s", ops[i].cmd);
		fprintf(f, ", with that command's options.\n");
	}
	for (i = 0; i < NOPTSPECS; i++)
		if (!(optspecs[i].cmds & B_GLOBAL) && own(&optspecs[i], c) &&
		    optspecs[i].help) {
			fprintf(f, "\noptions:\n");
			print_options(f, c, W_OWN);
			break;
		}
	if (c->bit == B_SIGN) {
		fprintf(f, "\noperation options (each with its operation):\n");
		print_options(f, c, W_OPERATIONS);
	}
	fprintf(f, "\nglobal options are accepted too: see 'agcod --help'.\n");
}

/* the commands that take o, as "cancel" or "load, void" */
static const char *
cmd_names(const struct optspec *o, char *buf, size_t len)
{
	const struct cmd *k;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; (k = cmd_at(i)) != NULL && n < len; i++)
		if (own(o, k))
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    n ? ", " : "", k->name);
	return buf;
}

/* an option getopt did not know: another command's, a prefix or a typo */
static int
unknown_option(const struct cmd *c, const char *bad)
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
		if (strcmp(o->name, name) == 0 && !takes(o, c))
			return usage_error(c, "unknown option '--%s' for %s "
			    "('--%s' is an option of %s%s)", name, of, name,
			    cmd_names(o, which, sizeof(which)),
			    c ? "" : ": give it after the command");
		if (!takes(o, c))
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

int
cli_unknown_command(const char *name)
{
	struct suggest s = { name, NULL, 0 };
	const struct cmd *k;
	size_t i;

	for (i = 0; (k = cmd_at(i)) != NULL; i++)
		suggest_consider(&s, k->name);
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
int
cli_check_repeats(const struct cmd *c, const struct args *a)
{
	size_t i;

	for (i = 0; i < NOPTSPECS; i++) {
		int n = a->seen[optspecs[i].id];

		if (optspecs[i].arg && n > 1)
			return n == 2 ? usage_error(c, "'--%s' given twice: "
			    "give it once", optspecs[i].name) :
			    usage_error(c, "'--%s' given %d times: give it "
			    "once", optspecs[i].name, n);
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

/*
 * The command's options once all are read: each said once, and -o,
 * --timeout and --retry-for valid, into a->out, a->timeout, a->retry_for;
 * --trace a file's name.
 * Nothing is checked when -V or --help will answer instead.
 */
static int
check_values(const struct cmd *c, struct args *a)
{
	const char *o = a->val[O_OUTPUT];
	int rc;

	if (a->seen[O_VERSION] || a->seen[O_HELP])
		return 0;
	if ((rc = cli_check_repeats(c, a)) != 0)
		return rc;
	if (o == NULL)
		a->out = isatty(STDOUT_FILENO) ? OUT_TABLE : OUT_JSON;
	else if (strcmp(o, "json") == 0)
		a->out = OUT_JSON;
	else if (strcmp(o, "table") == 0)
		a->out = OUT_TABLE;
	else if (strcmp(o, "csv") == 0 && (c->need & CMD_CSV))
		a->out = OUT_CSV;
	else
		return usage_error(c, "--output '%s' is not json or table%s",
		    o, (c->need & CMD_CSV) ? " or csv" : "");
	/* curl's '-' is standard output, where the results (claim codes)
	 * go: not a file named '-' either */
	if (a->val[O_TRACE] && strcmp(a->val[O_TRACE], "-") == 0)
		return usage_error(c, "--trace takes a file name: '-' would be "
		    "standard output, which carries the results");
	a->timeout = 10;
	a->retry_for = 60;
	if ((a->val[O_TIMEOUT] && (rc = long_arg(c, a->val[O_TIMEOUT],
	    O_TIMEOUT, 1, 600, &a->timeout))) || (a->val[O_RETRY_FOR] &&
	    (rc = long_arg(c, a->val[O_RETRY_FOR], O_RETRY_FOR, 0, 86400,
	    &a->retry_for))))
		return rc;
	return 0;
}

int
cli_parse(int argc, char **argv, const struct cmd *c, struct args *a,
    int *next)
{
	struct option lo[NOPTSPECS + 1];
	char so[2 * NOPTSPECS + 3];
	size_t i, nlo = 0, nso = 0;
	int ch, idx;

	so[nso++] = c == NULL ? '+' : '-';
	so[nso++] = ':';
	for (i = 0; i < NOPTSPECS; i++) {
		const struct optspec *o = &optspecs[i];

		if (!takes(o, c))
			continue;
		lo[nlo].name = o->name;
		lo[nlo].has_arg = o->arg ? required_argument : no_argument;
		lo[nlo].flag = NULL;
		lo[nlo++].val = 1000 + o->id;
		if (o->shortopt) {
			so[nso++] = (char)o->shortopt;
			if (o->arg)
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
			return unknown_option(c, bad);
		}
		if (ch >= 1000)
			id = ch - 1000;
		else
			for (i = 0; i < NOPTSPECS; i++)
				if (optspecs[i].shortopt == ch &&
				    takes(&optspecs[i], c))
					id = optspecs[i].id;
		if (id < 0)
			return usage_error(c, "unknown option");
		a->val[id] = optarg ? optarg : "1";
		a->seen[id]++;
	}
	*next = optind;
	return c ? check_values(c, a) : 0;
}

int
cli_list_commands(void)
{
	const struct cmd *k;
	size_t i;

	for (i = 0; (k = cmd_at(i)) != NULL; i++)
		printf("%s\n", k->name);
	return 0;
}

int
cli_list_options(const char *name)
{
	const struct cmd *c = cmd_find(name);
	size_t i;

	if (c == NULL)
		return cli_unknown_command(name);
	for (i = 0; i < NOPTSPECS; i++)
		if (takes(&optspecs[i], c) && optspecs[i].help)
			printf("--%s\n", optspecs[i].name);
	return 0;
}

/*
 * --list-table: the tables, tab-separated, for tools/gen_completions.py:
 *   command NAME SUMMARY operation|-     one a command
 *   usage   NAME SYNOPSIS-LINE           one a synopsis line
 *   option  --NAME -X|- ARG|- HELP       one an option
 *   value   --NAME WORD                  one a value an option takes
 *   help    CMD --NAME HELP              the option's help under CMD,
 *                                        where it means something else
 * (--list-options CMD says which options a command takes)
 */
int
cli_list_table(void)
{
	const struct cmd *k;
	const char *s;
	size_t i;

	for (i = 0; (k = cmd_at(i)) != NULL; i++) {
		const char *l = k->synopsis, *e;

		/* an operation: what sign-debug takes as OPERATION */
		printf("command\t%s\t%s\t%s\n", k->name, k->summary,
		    k->op ? "operation" : "-");
		for (; l; l = e ? e + 1 : NULL) {
			e = strchr(l, '\n');
			l += strspn(l, " ");
			if (strncmp(l, "agcod ", 6) == 0)
				l += 6;
			printf("usage\t%s\t%.*s\n", k->name,
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
	/* the values an option's metavar does not spell out */
	for (i = 0; (s = history_state(i)) != NULL; i++)
		printf("value\t--state\t%s\n", s);
	for (i = 0; i < nops; i++)
		if (ops[i].flags & OP_JOURNAL)
			printf("value\t--operation\t%s\n", ops[i].cmd);
	for (i = 0; i < sizeof(cmd_opt_help) / sizeof(cmd_opt_help[0]); i++)
		printf("help\t%s\t--%s\t%s\n", cmd_opt_help[i].cmd,
		    opt_name(cmd_opt_help[i].id), cmd_opt_help[i].help);
	return 0;
}
