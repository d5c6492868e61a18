/*
 * main.c - the top, and nothing else: process hardening, the command line
 * (through cli.c), what a command needs before it runs (profile, guards,
 * HTTP, state), running it, and the exit code.  Nothing calls into it.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
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
#include "cli.h"
#include "ctx.h"
#include "guard.h"
#include "http.h"
#include "msg.h"
#include "trace.h"
#include "rotation.h"

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
		if (!ctx->send.api.sent && stdout_reader_gone(errno))
			return rc;
		if (!ctx->out_checked)	/* else the command said what to do */
			msg_err("cannot write the result to standard output%s",
			    ctx->send.api.sent ? "; it was not delivered: 'agcod history' "
			    "has the request ids; 'agcod reprint --request-id ID' "
			    "fetches a card's claim code again" : "");
		/* a status that says more wins, but not 1 ("below", "a row
		 * matched"): a reader must not take a lost result for an answer */
		return rc > EX_BELOW ? rc : ctx->send.api.sent ? EX_TEMPFAIL :
		    EX_IOERR;
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
		if (po.region && region_find(po.region) == NULL &&
		    a->val[O_REQUEST_FILE])
			po.region = NULL;
		if ((rc = exit_code(profile_load(&ctx->prof, &po))) != 0)
			return rc;
		if (state_dir_resolve(a->val[O_STATE_DIR], sd, sizeof(sd)) == 0)
			rotation_remind(&ctx->prof, sd, time(NULL));
	}
	/* before anything is journaled or sent: 78 for what cannot work */
	if (((c->need & NEED_NET) || a->seen[O_SEND]) &&
	    (rc = exit_code(guard_config(&ctx->prof,
	    a->val[O_CACERT] != NULL))) != 0)
		return rc;
	if ((c->need & NEED_SECRET) &&
	    (rc = exit_code(profile_need_secret(&ctx->prof))) != 0)
		return rc;
	if ((c->need & NEED_NET) && (rc = exit_code(http_start(
	    &ctx->send.api.http, &ctx->prof, ctx->timeout))) != 0)
		return rc;
	if ((c->need & NEED_STATE) && (rc = ctx_open_state(ctx,
	    c->op == NULL || (c->op->flags & OP_JOURNAL))) != 0)
		return rc;
	/* a --trace that cannot be written is refused before anything is sent */
	if ((c->need & NEED_NET) && (rc = trace_prepare(ctx)) != 0)
		return rc;
	rc = c->fn(ctx);
	http_free(ctx->send.api.http);
	ctx->send.api.http = NULL;
	return rc;
}

/*
 * Secrets live in this process: no core dumps, no ptrace by others.
 * Neither can fail as called (lowering a limit, clearing a flag of our
 * own); if one does, the secret would be exposed: stop.
 */
static int
harden(void)
{
	struct rlimit nocore = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &nocore) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		msg_err("cannot disable core dumps: %s; nothing was done",
		    strerror(errno));
		return EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit makes a journal write fail (EFBIG), not kill us */
	signal(SIGXFSZ, SIG_IGN);
	umask(077);
	return 0;
}

#define GO_ON	(-1)	/* not answered yet: go on to the command */

/*
 * What the options before the command answer by themselves (-V, the
 * lists, help), or the command named at argv[next] into *cp (GO_ON)
 */
static int
answer_global(struct cmd_ctx *ctx, const struct args *g, int argc,
    char **argv, int next, const struct cmd **cp)
{
	if (g->seen[O_VERSION]) {
		print_versions(stdout);
		return finish_stdout(ctx, 0);
	}
	if (g->seen[O_LIST_COMMANDS])
		return finish_stdout(ctx, cli_list_commands());
	if (g->seen[O_LIST_OPTIONS])
		return finish_stdout(ctx,
		    cli_list_options(g->val[O_LIST_OPTIONS]));
	if (g->seen[O_LIST_TABLE])
		return finish_stdout(ctx, cli_list_table());
	if (next >= argc) {
		if (g->seen[O_HELP]) {
			cli_help(stdout, NULL);
			return finish_stdout(ctx, 0);
		}
		return usage_error(NULL, "no command given");
	}
	if (strcmp(argv[next], "help") == 0) {
		if (next + 1 >= argc) {
			cli_help(stdout, NULL);
			return finish_stdout(ctx, 0);
		}
		if ((*cp = cmd_find(argv[next + 1])) == NULL)
			return cli_unknown_command(argv[next + 1]);
		cli_help(stdout, *cp);
		return finish_stdout(ctx, 0);
	}
	if ((*cp = cmd_find(argv[next])) == NULL)
		return cli_unknown_command(argv[next]);
	return GO_ON;
}

/*
 * The command's own options, global ones again, and operands into
 * ctx->args; -V and --help answered; GO_ON when the command is to run
 */
static int
parse_command(struct cmd_ctx *ctx, const struct cmd *c, int argc,
    char **argv, int next)
{
	int rc;

	if (c == NULL)
		return EX_SOFTWARE;
	ctx->cmd = c;
	if ((ctx->args.pos = calloc((size_t)argc, sizeof(char *))) == NULL)
		return EX_OSERR;
	ctx->args.npos = 0;
	/* sign-debug's operation options are checked against it later */
	if ((rc = cli_parse(argc - next, argv + next, c, &ctx->args,
	    &next)) != 0)
		return rc;
	/* -V and --help win wherever they are: nothing runs, nothing is sent */
	if (ctx->args.seen[O_VERSION]) {
		msg_verbosity = ctx->args.seen[O_VERBOSE];
		print_versions(stdout);
		return finish_stdout(ctx, 0);
	}
	if (ctx->args.seen[O_HELP]) {
		cli_help(stdout, c);
		return finish_stdout(ctx, 0);
	}

	/* ctx->args counts the -v given before the command too */
	msg_verbosity = ctx->args.seen[O_QUIET] ? -1 : 0;
	msg_verbosity += ctx->args.seen[O_VERBOSE];
	ctx->out = ctx->args.out;
	ctx->timeout = ctx->args.timeout;
	ctx->retry_for = ctx->args.retry_for;
	if (!(c->need & CMD_OPERANDS) && ctx->args.npos > 0)
		return usage_error(c, "unexpected argument '%s'",
		    ctx->args.pos[0]);
	/* 'agcod batch': usage, before a profile is looked for */
	if ((c->need & CMD_OPERANDS) &&
	    (rc = usage_subcommand(c, &ctx->args)) != 0)
		return rc;
	return GO_ON;
}

int
main(int argc, char **argv)
{
	static struct cmd_ctx ctx;
	const struct cmd *c = NULL;
	struct args g;
	char *posbuf[1];
	int rc, next;

	if ((rc = harden()) != 0)
		return rc;
	memset(&g, 0, sizeof(g));
	g.pos = posbuf;
	if ((rc = cli_parse(argc, argv, NULL, &g, &next)) != 0)
		return rc;
	msg_verbosity = g.seen[O_VERBOSE];
	if ((rc = answer_global(&ctx, &g, argc, argv, next, &c)) != GO_ON)
		return rc;
	ctx.args = g;
	if ((rc = parse_command(&ctx, c, argc, argv, next)) != GO_ON)
		return rc;

	ctx.trace_fd = -1;
	rc = run_cmd(&ctx);
	if (ctx.trace_fd >= 0)
		close(ctx.trace_fd);
	journal_leave(&ctx.journal);
	json_decref(ctx.kept);
	profile_free(&ctx.prof);
	free(ctx.args.pos);
	return finish_stdout(&ctx, rc);
}
