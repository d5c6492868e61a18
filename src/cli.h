/* cli.h - the command line: option and command tables, parsing, help */
#ifndef AGCOD_CLI_H
#define AGCOD_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "agcod.h"

struct opreq_in;

const struct cmd *cmd_find(const char *name);
const char	*opt_name(int id);
/* 1 when option id takes a value */
int		 opt_has_arg(int id);
/* an option's id by its name without "--"; -1 if none */
int		 opt_id(const char *name);
/* option id is global or one of c's own (sign-debug's, not its OPERATION's) */
int		 opt_applies(int id, const struct cmd *c);
/* the command line's values of a request's named inputs */
void		 cli_opreq_in(const struct args *, struct opreq_in *);

/*
 * Parse argv with c's options (and the global ones).  With c NULL, only
 * the global options, stopping at the first operand (the command);
 * otherwise operands are collected in a->pos, and unless -V or --help is
 * given, each option with a value must be given once and -o, --timeout
 * and --retry-for are checked into a->out, a->timeout and a->retry_for.
 * 0, or 64 after a message.
 */
int	cli_parse(int argc, char **argv, const struct cmd *c, struct args *a,
	    int *next);
/* an option with a value given twice: 64 after a message */
int	cli_check_repeats(const struct cmd *, const struct args *);
/* agcod --help (c NULL) or a command's */
void	cli_help(FILE *, const struct cmd *c);
int	cli_unknown_command(const char *);
int	cli_list_commands(void);
int	cli_list_options(const char *cmd);
int	cli_list_table(void);

#endif
