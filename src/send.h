/* send.h - the one path every sending command takes */
#ifndef AGCOD_SEND_H
#define AGCOD_SEND_H

#include "api.h"

/* command-line values, completed from the journal -> request; 0 or 64 */
int	op_prepare(struct cmd_ctx *, const struct op *, struct opreq *);
/*
 * journal "pending" (fsync'd) -> sign, send, classify, retry -> journal the
 * outcome.  Returns the exit status; 74 and nothing sent when the journal
 * cannot be written.
 */
int	op_send(struct cmd_ctx *, const struct opreq *, const struct buf *body,
	    struct api_result *);

#endif
