/*
 * agcod.h - the tool's shared types: exit codes, options, commands.  The
 * tool is main.c, cli.c, usage.c, ctx.c (a command's context: ctx.h),
 * trace.c, exitcode.c and the commands (cmd_*.c); the library never
 * includes this header (make layering).
 */
#ifndef AGCOD_H
#define AGCOD_H

#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include "options.h"
#include "result.h"
#include "version.h"

/*
 * Exit status (agcod(1), EXIT STATUS): sysexits.h's names, plus one of
 * our own.
 *   0 EX_OK, 1 EX_BELOW (funds --below), 64 EX_USAGE, 65 EX_DATAERR (refused:
 *   F2xx), 69 EX_UNAVAILABLE (service failed), 70 EX_SOFTWARE, 74 EX_IOERR
 *   (journal), 75 EX_TEMPFAIL (retry later), 77 EX_NOPERM (account, 403),
 *   78 EX_CONFIG.
 */
#define EX_BELOW	1

/*
 * exitcode.c: the one map from a library result to the exit status (0,
 * 64, 65, 69, 70, 74, 75, 77, 78); every command's comes from here
 */
int	exit_code(enum agcod_result);

/* what a command needs before it runs (git's RUN_SETUP idea), and takes */
enum need {
	NEED_PROFILE	= 1 << 0,
	NEED_SECRET	= 1 << 1,
	NEED_NET	= 1 << 2,
	NEED_STATE	= 1 << 3,
	CMD_CSV		= 1 << 4,	/* -o csv */
	CMD_OPERANDS	= 1 << 5,	/* arguments besides options */
};

/* O_PROFILE, ...: an option's id, its index in struct args; 0 is none */
#define OPT_ID(ID, ...)	O_##ID,
enum opt_id {
	O_NONE,
	AGCOD_OPTIONS(OPT_ID, OPT_ID, OPT_ID)
	O_COUNT
};
#undef OPT_ID

/* parsed command line */
struct args {
	const char	*val[O_COUNT];	/* option arguments, last one wins */
	int		 seen[O_COUNT];
	char		**pos;		/* positional arguments */
	int		 npos;
	/* checked by cli_parse for a command: */
	int		 out;		/* -o: an enum output_fmt */
	long		 timeout;	/* --timeout */
	long		 retry_for;	/* --retry-for */
};

struct op;
struct cmd_ctx;

struct cmd {
	const char	*name;
	int		(*fn)(struct cmd_ctx *);
	unsigned	 bit;	/* its options: cli.c; an operation's: ops.c */
	unsigned	 need;
	const struct op	*op;	/* the operation's command: its ops[] entry */
	const char	*synopsis;
	const char	*summary;
};

/* usage.c: one reason line and the command's synopsis; 64 */
int	usage_error(const struct cmd *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* usage.c: the subcommand its synopsis names ('batch create'); 0 or 64 */
int	usage_subcommand(const struct cmd *, const struct args *);
/* usage.c: agcod's version and the libraries' in use */
void	print_versions(FILE *);
void	print_versions_line(FILE *);
/* the commands */
int	cmd_op(struct cmd_ctx *);
int	cmd_sign_debug(struct cmd_ctx *);
int	cmd_history(struct cmd_ctx *);
int	cmd_reconcile(struct cmd_ctx *);
int	cmd_batch(struct cmd_ctx *);
int	cmd_support_draft(struct cmd_ctx *);
int	cmd_journal(struct cmd_ctx *);
int	cmd_reprint(struct cmd_ctx *);
int	cmd_config(struct cmd_ctx *);
int	cmd_verify(struct cmd_ctx *);
/* cmd_history.c: the i-th value history's --state takes (of objects or
 * of requests), for completion; NULL past the end */
const char *history_state(size_t i);

#endif
