/*
 * journal.c - STATE_DIR/journal.jsonl: one JSON object a line, mode 0600.
 * A "pending" record is on disk (fsync) before a request is sent, and a
 * final one ("succeeded", "failed", "unknown") follows.  Processes append
 * under flock, each record with a single write, so lines never interleave.
 * It holds request ids, amounts and gc ids: never a claim code or a secret.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "buf.h"
#include "journal.h"

#define JOURNAL_READ_MAX	(256 * 1024 * 1024)

int
state_dir_resolve(const char *opt, char *out, size_t n)
{
	const char *v;
	int r;

	if (opt && *opt)
		r = snprintf(out, n, "%s", opt);
	else if ((v = getenv("AGCOD_STATE_DIR")) && *v)
		r = snprintf(out, n, "%s", v);
	else if ((v = getenv("XDG_STATE_HOME")) && *v)
		r = snprintf(out, n, "%s/agcod", v);
	else
		r = snprintf(out, n, "%s/.local/state/agcod",
		    (v = getenv("HOME")) && *v ? v : "/");
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

int
state_dir_make(const char *dir)
{
	char p[PATH_MAX], *s;
	struct stat st;

	if (strlcpy(p, dir, sizeof(p)) >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return -1;
	if (stat(p, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
journal_open(struct journal *j, const char *dir)
{
	struct stat st;

	j->fd = -1;
	if (state_dir_make(dir) == -1)
		return -1;
	if (snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_NAME) >=
	    (int)sizeof(j->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* never follow a link planted where the journal should be */
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY, 0600);
	if (j->fd == -1)
		return -1;
	if (fstat(j->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(j->fd);
		j->fd = -1;
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & 077) && fchmod(j->fd, 0600) == -1)
		return -1;
	return 0;
}

void
journal_close(struct journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
}

void
journal_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
journal_append(struct journal *j, json_t *rec, int durable)
{
	char *line;
	size_t n, off = 0;
	ssize_t w;
	int r = -1, saved;

	if (j->fd == -1) {
		errno = EBADF;
		return -1;
	}
	if ((line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		errno = ENOMEM;
		return -1;
	}
	n = strlen(line);
	line[n] = '\n';	/* json_dumps' NUL becomes the newline */
	n++;
	if (flock(j->fd, LOCK_EX) == -1)
		goto done;
	while (off < n) {
		if ((w = write(j->fd, line + off, n - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto unlock;
		}
		off += (size_t)w;
	}
	if (durable && fdatasync(j->fd) == -1)
		goto unlock;
	r = 0;
unlock:
	saved = errno;
	flock(j->fd, LOCK_UN);
	errno = saved;
done:
	free(line);
	return r;
}

static json_t *
entry_key(json_t *rec, char *key, size_t n)
{
	const char *op = json_string_value(json_object_get(rec, "operation"));
	const char *rid = json_string_value(json_object_get(rec, "request_id"));

	if (op == NULL || rid == NULL)
		return NULL;
	snprintf(key, n, "%s %s", op, rid);
	return rec;
}

json_t *
journal_fold(const char *text, size_t len, int *bad, int *torn)
{
	json_t *list = json_array(), *index = json_object(), *rec, *e;
	const char *p = text, *end = text + len, *nl;
	char key[256];

	*bad = *torn = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			/* a crash mid-write: the last line has no newline */
			*torn = 1;
			break;
		}
		rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
		p = nl + 1;
		if (!json_is_object(rec) || !entry_key(rec, key, sizeof(key))) {
			json_decref(rec);
			(*bad)++;
			continue;
		}
		if ((e = json_object_get(index, key)) != NULL) {
			/* "time" stays when it was first sent; "updated" moves */
			json_t *first = json_incref(json_object_get(e, "time"));

			json_object_update(e, rec);
			json_object_set(e, "updated", json_object_get(rec, "time"));
			json_object_set_new(e, "time", first);
			json_decref(rec);
		} else {
			json_array_append(list, rec);
			json_object_set_new(index, key, rec);
		}
	}
	json_decref(index);
	return list;
}

json_t *
journal_read(const char *dir, int *bad, int *torn)
{
	struct buf b = BUF_INIT(JOURNAL_READ_MAX);
	char path[PATH_MAX], chunk[65536];
	json_t *r;
	ssize_t n;
	int fd;

	*bad = *torn = 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_NAME) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? json_array() : NULL;
	flock(fd, LOCK_SH);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(&b, chunk, (size_t)n) == -1) {
			n = -1;
			errno = EFBIG;
			break;
		}
	flock(fd, LOCK_UN);
	close(fd);
	if (n < 0) {
		buf_free(&b);
		return NULL;
	}
	r = journal_fold(buf_str(&b), b.len, bad, torn);
	buf_free(&b);
	return r;
}

json_t *
journal_find(json_t *entries, const char *op, const char *rid)
{
	json_t *e, *found = NULL;
	size_t i;

	json_array_foreach(entries, i, e) {
		const char *o = json_string_value(json_object_get(e, "operation"));
		const char *r = json_string_value(json_object_get(e,
		    "request_id"));

		if (o && r && strcmp(o, op) == 0 && strcmp(r, rid) == 0)
			found = e;
	}
	return found;
}
