/*
 * ctx.h - a command's context (struct cmd_ctx): the command line, the
 * profile, the state directory, the journal and the send environment, and
 * what ctx.c builds from it.  The tool's; the library takes what it needs
 * as parameters.
 */
#ifndef AGCOD_CTX_H
#define AGCOD_CTX_H

#include <limits.h>

#include <jansson.h>

#include "agcod.h"
#include "journal.h"
#include "output.h"
#include "profile.h"
#include "ratelimit.h"
#include "send.h"

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
	enum agcod_result	 journal_res;	/* why it could not be opened */
	int			 journal_where;	/* prof.journal is read */
	json_t			*kept;		/* journal rows requests point into */
	int			 trace_fd;	/* --trace: -1 not yet open */
	int			 out_checked;	/* a failed stdout was reported */
};

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

/*
 * outcome_deliver for the command's request: printed in its -o format,
 * a failed stdout marked as said (main.c says it once); the exit status.
 */
int	ctx_deliver(struct cmd_ctx *, const struct opreq *, struct api_result *,
	    json_t *before, enum agcod_result rc);

#endif
