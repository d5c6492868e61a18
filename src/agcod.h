/* agcod.h - shared types: exit codes, options, commands, the run context */
#ifndef AGCOD_H
#define AGCOD_H

#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include <jansson.h>

#include "amount.h"
#include "journal.h"
#include "options.h"
#include "profile.h"
#include "ratelimit.h"
#include "send.h"

#define AGCOD_VERSION	"0.3.0"

/*
 * Exit status (agcod(1), EXIT STATUS): sysexits.h's names, plus one of
 * our own.
 *   0 EX_OK, 1 EX_BELOW (funds --below), 64 EX_USAGE, 65 EX_DATAERR (refused:
 *   F2xx), 69 EX_UNAVAILABLE (service failed), 70 EX_SOFTWARE, 74 EX_IOERR
 *   (journal), 75 EX_TEMPFAIL (retry later), 77 EX_NOPERM (account, 403),
 *   78 EX_CONFIG.
 */
#define EX_BELOW	1

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

enum output_fmt { OUT_JSON, OUT_TABLE, OUT_CSV };

struct cmd_ctx {
	const struct cmd	*cmd;
	struct args		 args;
	struct profile		 prof;
	enum output_fmt		 out;
	long			 timeout;	/* seconds per attempt */
	long			 retry_for;	/* seconds of retrying */
	struct sender		 send;		/* api env (http handle, rate
						 * limit, trace) and journal */
	char			 state_dir[PATH_MAX];
	struct journal		 journal;	/* fd -1 until opened */
	struct ratelimit	 rl;
	int			 rl_ready;
	int			 journal_read;	/* ctx_journal has opened it */
	int			 journal_where;	/* prof.journal is read */
	json_t			*kept;		/* journal rows requests point into */
	int			 trace_fd;	/* --trace: -1 not yet open */
	int			 out_checked;	/* a failed stdout was reported */
};

/* usage.c: one reason line and the command's synopsis; 64 */
int	usage_error(const struct cmd *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* usage.c: the subcommand its synopsis names ('batch create'); 0 or 64 */
int	usage_subcommand(const struct cmd *, const struct args *);
/* usage.c: agcod's version and the libraries' in use */
void	print_versions(FILE *);
void	print_versions_line(FILE *);
/* ctx.c: the state directory, journal and shared rate limit; 0 or 74 */
int	ctx_open_state(struct cmd_ctx *, int journal);
/*
 * Where the journal is: the profile's journal = or AGCOD_JOURNAL (a
 * PostgreSQL connection string), "" for the state directory's; NULL after
 * a message when the profile cannot be read (78)
 */
const char *ctx_journal_where(struct cmd_ctx *);
/* what opening it imported of agcod 0.1's journal, said on stderr */
void	ctx_say_import(const struct journal *);
/* why ctx_journal gave NULL: 78 for the configuration, else 74 */
int	ctx_journal_failed(const struct cmd_ctx *);
/*
 * What sends need, ready (the HTTP handle started if a command did not,
 * the rate limit, the trace callback): 0, or an exit status after a
 * message.
 */
int	ctx_sender(struct cmd_ctx *, struct sender **);
/*
 * The command line's values -> a checked request, completed from the
 * journal row it refers to; 0, or 64 after a usage error.
 */
int	ctx_prepare(struct cmd_ctx *, const struct op *, struct opreq *);
/*
 * The journal for reading (opened, and an old journal.jsonl imported, on
 * first use); NULL after saying why on stderr.  With no journal yet, an
 * open handle whose db is NULL reads as empty.
 */
struct journal *ctx_journal(struct cmd_ctx *);
/* keep a journal row alive as long as the command runs */
void	ctx_keep(struct cmd_ctx *, json_t *);
/* journal_lookup, the row kept alive as long as the command runs */
json_t	*ctx_lookup(struct cmd_ctx *, const char *op, const char *rid);
/*
 * A journal query's scope: the profile's partner and environment (the
 * profile is loaded if the command did not need it), or everything with
 * --all-environments; 0, or 78 after saying why.
 */
int	ctx_scope(struct cmd_ctx *, struct journal_query *);
/*
 * reconcile and reprint: the request a journal row records, sent again
 * with its own request id, printed as the original command would and
 * recorded; the exit status.
 */
struct resend {
	const char	*verb;		/* "reconciling" */
	/* msg_note, or msg_verbose for a step only -v shows */
	void		(*say)(const char *, ...);
	/* how long Amazon's activation recovery may go on; NULL: none */
	long		(*recover_for)(struct cmd_ctx *, json_t *row);
};
int	ctx_resend(struct cmd_ctx *, const struct op *, json_t *row,
	    const struct resend *);

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
