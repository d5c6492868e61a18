/*
 * options.h - every option of agcod, described once.  The option ids
 * (enum opt_id), the option table cli.c parses with and prints --help,
 * --list-options and --list-table from (and so the completions), the
 * operations' options (ops.c), the struct opreq_in member a request is
 * built from, the journal member a later request takes it from and the
 * batch file's column are all expanded from AGCOD_OPTIONS below.
 *
 * Each line is one of:
 *   OPT(ID, name, short, ARG, commands, help)
 *	an option of the commands in `commands` (B_*), or of all (B_GLOBAL);
 *	ARG is its metavar, NULL for a flag; help NULL: hidden
 *   OPER(ID, name, short, ARG, commands, help, fields, flags)
 *	also an option of each operation whose body has one of `fields`
 *	(enum op_field) or which has one of `flags` (enum op_flag)
 *   BODY(ID, name, short, ARG, commands, help, fields, flags, member,
 *	journal, batch, required)
 *	an OPER that fills struct opreq_in's `member`; `journal` names the
 *	journal member a later request can take it from and `batch` the
 *	batch file's column that gives it (NULL: none); `required` says
 *	which of its operations need it: R_ALWAYS each, else those with one
 *	of these flags (enum op_flag), 0 none (opreq.c refuses a request
 *	without it; the synopsis shows it without [])
 *
 * The order is --help's and the ids'.  Each operation's synopsis is
 * generated from these lines (ops.c's op_synopsis: its required options,
 * then its optional ones in [], each group in this order).  A new body
 * option is a BODY line here (its parsing, help, synopses, completions,
 * request member, required-ness, pending journal record and batch column
 * follow), its value check in opreq.c, its member in api.c's body, its
 * journal column if it is new (journal_state.c's journal_columns[] and
 * each store's migration) and its text in man/agcod.1 (the SYNOPSIS lines
 * of its operations: `make man-synopsis`).
 */
#ifndef AGCOD_OPTIONS_H
#define AGCOD_OPTIONS_H

/* the commands an option belongs to, besides the operations (ops.c) */
enum {
	B_SIGN = 1 << 0, B_HISTORY = 1 << 1, B_RECONCILE = 1 << 2,
	B_BATCH = 1 << 3, B_SUPPORT = 1 << 4, B_JOURNAL = 1 << 5,
	B_REPRINT = 1 << 6, B_CONFIG = 1 << 7, B_VERIFY = 1 << 8,
	B_GLOBAL = 1u << 31,
};

/* a BODY line's `required`: by each operation that takes the option */
#define R_ALWAYS	(1u << 31)

#define AGCOD_OPTIONS(OPT, OPER, BODY) \
	OPT(PROFILE, "profile", 'p', "NAME", B_GLOBAL, \
	    "profile (INI section) to use") \
	OPT(CONFIG, "config", 'c', "FILE", B_GLOBAL, \
	    "configuration file") \
	OPT(OUTPUT, "output", 'o', "json|table|csv", B_GLOBAL, \
	    "output format (csv: history, journal export, batch)") \
	OPT(REGION, "region", 0, "na|eu|fe", B_GLOBAL, \
	    "region group") \
	OPT(ENVIRONMENT, "environment", 0, "sandbox|production", B_GLOBAL, \
	    "Amazon environment") \
	OPT(ENDPOINT, "endpoint", 0, "URL", B_GLOBAL, \
	    "send to this base URL instead") \
	OPT(CACERT, "cacert", 0, "FILE", B_GLOBAL, \
	    "trust this CA bundle") \
	OPT(TIMEOUT, "timeout", 0, "SECONDS", B_GLOBAL, \
	    "limit for one HTTP attempt (10)") \
	OPT(RETRY_FOR, "retry-for", 0, "SECONDS", B_GLOBAL, \
	    "time budget for retries, 0 = none (60)") \
	OPT(STATE_DIR, "state-dir", 0, "DIR", B_GLOBAL, \
	    "journal and rate-limit state") \
	OPT(TRACE, "trace", 0, "FILE", B_GLOBAL, \
	    "append a redacted dump of every HTTP exchange") \
	OPT(VERBOSE, "verbose", 'v', NULL, B_GLOBAL, \
	    "more on stderr") \
	OPT(QUIET, "quiet", 'q', NULL, B_GLOBAL, \
	    "less on stderr") \
	OPT(VERSION, "version", 'V', NULL, B_GLOBAL, \
	    "versions of agcod and its libraries") \
	OPT(HELP, "help", 'h', NULL, B_GLOBAL, \
	    "this help") \
	BODY(AMOUNT, "amount", 0, "A", 0, \
	    "amount, e.g. 25 or 19.99", \
	    F_VALUE | F_AMOUNT, 0, amount, "amount", "amount", R_ALWAYS) \
	BODY(CURRENCY, "currency", 0, "C", 0, \
	    "ISO 4217 code (profile default)", \
	    F_VALUE | F_AMOUNT, 0, currency, "currency", "currency", 0) \
	BODY(REQUEST_ID, "request-id", 0, "ID", \
	    B_HISTORY | B_RECONCILE | B_SUPPORT | B_JOURNAL | B_REPRINT, \
	    "request id (generated when omitted)", \
	    F_REQID, 0, request_id, "request_id", "request_id", \
	    OP_ID_REQUIRED) \
	BODY(EXTREF, "external-reference", 0, "TEXT", B_HISTORY, \
	    "your own reference, up to 100 characters", \
	    F_EXTREF, 0, extref, "external_reference", \
	    "external_reference", 0) \
	BODY(PROGRAM_ID, "program-id", 0, "ID", 0, \
	    "reseller program id", \
	    F_PROGRAM, 0, program_id, "program_id", NULL, 0) \
	BODY(GC_ID, "gc-id", 0, "ID", B_JOURNAL, \
	    "the card's gcId (from the journal when omitted)", \
	    F_GCID, 0, gc_id, "gc_id", NULL, 0) \
	OPER(BELOW, "below", 0, "AMOUNT", 0, \
	    "exit 1 when the funds are below AMOUNT", 0, OP_BALANCE) \
	OPER(BELOW_DAYS, "below-days", 0, "N", 0, \
	    "exit 1 when the funds last fewer than N days at the recent " \
	    "spend", \
	    0, OP_BALANCE) \
	BODY(ACCOUNT_ID, "account-id", 0, "ID", 0, \
	    "customer account id", F_ACCOUNT, 0, account_id, "account", NULL, \
	    R_ALWAYS) \
	BODY(ACCOUNT_TYPE, "account-type", 0, "T", 0, \
	    "customer account type (2)", \
	    F_ACCOUNT, 0, account_type, "account_type", NULL, 0) \
	BODY(SOURCE_ID, "source-id", 0, "TEXT", 0, \
	    "transaction source id", \
	    F_SOURCE, 0, source_id, "source_id", NULL, 0) \
	BODY(CARD_NUMBER, "card-number", 0, "N", 0, \
	    "physical card number", \
	    F_CARD, 0, card_number, "card_number", NULL, R_ALWAYS) \
	OPT(DATE, "date", 0, "YYYYMMDDTHHMMSSZ", B_SIGN, \
	    "sign at this time instead of now") \
	OPT(SEND, "send", 0, NULL, B_SIGN, \
	    "send the request and report the response") \
	OPT(SHOW_KEY, "show-signing-key", 0, NULL, B_SIGN, \
	    "also print the derived signing key") \
	OPT(REQUEST_FILE, "request", 0, "FILE", B_SIGN, \
	    "sign (and check) a raw HTTP request; - for stdin") \
	OPT(SERVICE, "service", 0, "NAME", B_SIGN, \
	    "service in the scope, with --request (AGCODService)") \
	OPT(PENDING, "pending", 0, NULL, B_HISTORY, \
	    "only requests whose outcome is not known yet") \
	OPT(REQUESTS, "requests", 0, NULL, B_HISTORY, \
	    "every request with its own outcome, not one row per card") \
	OPT(STATE, "state", 0, "STATE", B_HISTORY | B_JOURNAL, \
	    "only objects in STATE: issued, cancelled, unknown, ...") \
	OPT(OPERATION, "operation", 0, "OP", B_HISTORY | B_JOURNAL, \
	    "only of operation OP: create, load, activate, ...") \
	OPT(SINCE, "since", 0, "WHEN", B_HISTORY, \
	    "only since WHEN: 2026-11-22, 2026-11-22T10:00:00Z, 90m, 12h, 7d") \
	OPT(UNTIL, "until", 0, "WHEN", B_HISTORY, \
	    "only before WHEN (same forms as --since)") \
	OPT(LIMIT, "limit", 0, "N", B_HISTORY, \
	    "at most N rows") \
	OPT(BEFORE, "before", 0, "WHEN", B_JOURNAL, \
	    "journal prune: settled records older than WHEN") \
	OPT(REASON, "reason", 0, "TEXT", B_JOURNAL, \
	    "journal settle: how the outcome was confirmed") \
	OPT(TO, "to", 0, "DATABASE", B_JOURNAL, \
	    "journal copy: the PostgreSQL journal to copy journal.db into") \
	OPT(DRY_RUN, "dry-run", 0, NULL, B_BATCH | B_JOURNAL, \
	    "check every row, show totals and funds, send nothing else") \
	OPT(LIST_COMMANDS, "list-commands", 0, NULL, B_GLOBAL, \
	    NULL) \
	OPT(LIST_OPTIONS, "list-options", 0, "CMD", B_GLOBAL, \
	    NULL) \
	BODY(PRODUCT_TYPE, "product-type", 0, "TYPE", 0, \
	    "product voucher type, e.g. hwPV", \
	    F_PRODUCT, 0, product_type, "product_type", NULL, 0) \
	BODY(RECOVER_FOR, "recover-for", 0, "SECONDS", B_RECONCILE, \
	    "after RESEND: deactivate and activate anew, for at most (120)", \
	    0, OP_RECOVERS, recover_for, NULL, NULL, 0) \
	OPT(YES, "yes", 0, NULL, B_GLOBAL, \
	    "in production, move money without asking on the terminal") \
	OPT(LIST_TABLE, "list-table", 0, NULL, B_GLOBAL, \
	    NULL) \
	OPT(BATCH_ID, "batch-id", 0, "NAME", B_BATCH, \
	    "the batch's name in its row ids (FILE's base name)") \
	OPT(REPRINT, "reprint", 0, NULL, B_BATCH, \
	    "a completed batch's cards again: same ids, same claim codes") \
	OPT(NEW_BATCH, "new-batch", 0, NULL, B_BATCH, \
	    "new row ids: new cards for rows issued before") \
	OPT(OUT, "out", 0, "FILE", B_BATCH, \
	    "write the results to FILE, a new file of mode 0600 (.csv: CSV, " \
	    ".txt: a table, else JSON lines, unless -o)") \
	OPT(ALLOW_REUSED_REF, "allow-reused-reference", 0, NULL, B_BATCH, \
	    "issue rows whose external_reference already has a card") \
	OPT(ALL_ENVIRONMENTS, "all-environments", 0, NULL, \
	    B_HISTORY | B_JOURNAL, \
	    "every partner and environment, not only the profile's") \
	OPT(REVERSE, "reverse", 0, NULL, B_HISTORY, \
	    "oldest first (newest first by default)") \
	OPT(EXIT_CODE, "exit-code", 0, NULL, B_HISTORY, \
	    "exit 1 when any row matches, 0 when none does") \
	OPT(NO_FUNDS_CHECK, "no-funds-check", 0, NULL, B_BATCH, \
	    "send without first checking that the funds cover the rows") \
	OPT(DELIMITER, "delimiter", 0, "CHAR", B_BATCH, \
	    "FILE's field separator: , ; | or tab (from its header line)")

#endif
