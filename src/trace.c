/*
 * trace.c - the exchange dumps that --trace and support-draft use: per
 * attempt, time in UTC and local time, endpoint, request headers and body,
 * canonical request, string to sign, signature, response status, headers
 * and body with claim codes redacted, elapsed time, attempt number.  Never
 * the secret or a derived key: the report holds neither.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agcod.h"
#include "api.h"
#include "ctx.h"
#include "msg.h"
#include "report.h"
#include "statedir.h"
#include "trace.h"

#define FAILURES_MAX	(4 * 1024 * 1024)

/*
 * Open a trace file for appending.  Never through a symbolic link, never a
 * FIFO or a device (O_NONBLOCK: a FIFO without a reader cannot hang agcod),
 * only a regular file of ours, which ends mode 0600 whatever it was.
 */
int
trace_open(const char *path, const char **why)
{
	struct stat st;
	int fd;

	*why = NULL;
	/* look before opening: opening a device can have effects of its own */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		*why = S_ISLNK(st.st_mode) ? "it is a symbolic link" :
		    S_ISFIFO(st.st_mode) ? "it is a FIFO, not a regular file" :
		    S_ISDIR(st.st_mode) ? "it is a directory" :
		    "it is a device or socket, not a regular file";
		errno = EPERM;
		return -1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (fd == -1) {
		*why = errno == ELOOP ? "it is a symbolic link" :
		    errno == ENXIO ? "it is a FIFO, not a regular file" :
		    strerror(errno);
		return -1;
	}
	/* the descriptor is what counts: the path may have changed since */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*why = "it is not a regular file";
		goto refuse;
	}
	if (st.st_uid != geteuid()) {
		*why = "it belongs to another user";
		goto refuse;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) == -1) {
		*why = strerror(errno);
		goto refuse;
	}
	return fd;
refuse:
	close(fd);
	errno = EPERM;
	return -1;
}

int
trace_prepare(struct cmd_ctx *c)
{
	const char *why;

	if (c->args.val[O_TRACE] == NULL || c->trace_fd != -1)
		return 0;
	if ((c->trace_fd = trace_open(c->args.val[O_TRACE], &why)) == -1) {
		msg_err("cannot write the trace '%s': %s; nothing was sent",
		    c->args.val[O_TRACE], why);
		return EX_IOERR;
	}
	return 0;
}

static void
write_exchange(int fd, const struct report *rep, const char *rid)
{
	char utc[64], local[96];
	FILE *f;
	int dupfd;

	if ((dupfd = dup(fd)) == -1 || (f = fdopen(dupfd, "a")) == NULL) {
		if (dupfd != -1)
			close(dupfd);
		return;
	}
	report_times(rep->when, utc, sizeof(utc), local, sizeof(local));
	fprintf(f, "\n" TRACE_MARK "%s %s %s attempt %d\n", utc,
	    rep->operation, rid && *rid ? rid : "-", rep->attempt);
	report_text(f, rep);
	fclose(f);
}

void
trace_attempt(struct cmd_ctx *c, const struct op *op, const char *body,
    size_t len, const struct api_result *r)
{
	struct report rep;
	char dwhy[200];
	const char *rid;
	json_t *req;
	struct stat st;
	int fd, dfd;

	memset(&rep, 0, sizeof(rep));
	rep.operation = op->name;
	rep.endpoint = r->sreq.url;
	rep.method = "POST";
	rep.path = r->sreq.path;
	rep.headers = r->sreq.headers;
	rep.nheaders = API_NHEADERS;
	rep.body = body;
	rep.body_len = len;
	rep.sig = &r->sreq.sig;
	rep.when = r->when;
	rep.partner_id = c->prof.partner_id;
	rep.access_key_id = c->prof.access_key_id;
	rep.region = c->prof.region->signing_region;
	rep.service = "AGCODService";
	rep.attempt = r->attempts;
	if (r->have_resp && r->resp.status)
		rep.resp = &r->resp;
	else
		rep.transport_error = r->why;
	req = json_loadb(body, len, 0, NULL);
	rid = op->id_field ? json_string_value(json_object_get(req,
	    op->id_field)) : NULL;

	if (c->args.val[O_TRACE]) {
		const char *why;

		if (c->trace_fd == -1 && (c->trace_fd =
		    trace_open(c->args.val[O_TRACE], &why)) == -1) {
			msg_warn("cannot write the trace '%s': %s",
			    c->args.val[O_TRACE], why);
			c->trace_fd = -2;
		}
		if (c->trace_fd >= 0)
			write_exchange(c->trace_fd, &rep, rid);
	}
	/* failures are kept for 'agcod support-draft', in the held directory */
	if (r->result != AGCOD_OK && c->state_dir[0] &&
	    (dfd = state_dir_find(c->state_dir, dwhy, sizeof(dwhy))) != -1) {
		if (fstatat(dfd, TRACE_FAILURES, &st, AT_SYMLINK_NOFOLLOW) ==
		    0 && st.st_size > FAILURES_MAX)
			renameat(dfd, TRACE_FAILURES, dfd, TRACE_FAILURES ".1");
		if ((fd = state_file_openat(dfd, TRACE_FAILURES, O_WRONLY |
		    O_APPEND | O_CREAT)) != -1) {
			write_exchange(fd, &rep, rid);
			close(fd);
		}
	}
	json_decref(req);
}
