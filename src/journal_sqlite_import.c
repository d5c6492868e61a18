/*
 * journal_sqlite_import.c - agcod 0.1's journal.jsonl, imported into the
 * SQLite store once, in one transaction with its mark, then renamed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sqlite3.h>

#include "journal.h"
#include "journal_sqlite.h"
#include "journal_state.h"
#include "statedir.h"

/* ---- agcod 0.1's journal.jsonl, imported once ---- */

static int64_t
open_row(struct journal *j, const char *op, const char *rid)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if ((st = prep(j, "SELECT id FROM requests WHERE operation = ? AND "
	    "request_id = ? AND open = 1 ORDER BY id DESC LIMIT 1")) == NULL)
		return -1;
	bind_text(st, 1, op);
	bind_text(st, 2, rid);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	unprep(j, st);
	return id;
}

/* one line of agcod 0.1's journal: 1 a record, 0 not one, -1 an error */
static int
import_line(struct journal *j, const char *line, size_t len)
{
	const char *state;
	int64_t id;
	json_t *rec;
	int rc = -1;

	rec = json_loadb(line, len, 0, NULL);
	if (!json_is_object(rec) || !member(rec, "operation") ||
	    !member(rec, "request_id") || !(state = member(rec, "state")) ||
	    !one_of(state, request_states, sizeof(request_states) /
	    sizeof(request_states[0]))) {
		json_decref(rec);
		return 0;
	}
	if (is(state, "pending"))
		id = 0;
	else if ((id = open_row(j, member(rec, "operation"),
	    member(rec, "request_id"))) == -1)
		goto done;
	/* a pending record, or an outcome whose pending was lost */
	if ((id == 0 && begin_locked(j, rec, &id, 0) == -1) ||
	    (!is(state, "pending") && finish_locked(j, id, rec) == -1))
		goto done;
	rc = 1;
done:
	json_decref(rec);
	return rc;
}

int
sq_import_text(struct journal *j, const char *text, size_t len,
    long *records, long *bad, int *torn)
{
	const char *p = text, *end = text + len, *nl;
	int r;

	*records = *bad = 0;
	*torn = 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			*torn = 1;	/* a crash mid-write */
			break;
		}
		if ((r = import_line(j, p, (size_t)(nl - p))) == -1)
			return -1;
		p = nl + 1;
		if (r)
			(*records)++;
		else
			(*bad)++;
	}
	return 0;
}

/* the same, a line at a time from a file of any size */
static int
import_file(struct journal *j, int fd, long *records, long *bad, int *torn)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int r, rc = 0;

	*records = *bad = 0;
	*torn = 0;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n') {
			*torn = 1;
			break;
		}
		if ((r = import_line(j, line, (size_t)n - 1)) == -1) {
			rc = -1;
			break;
		}
		if (r)
			(*records)++;
		else
			(*bad)++;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(j->err, sizeof(j->err), "cannot read agcod 0.1's "
		    "journal: %s", strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

int
import_legacy(struct journal *j, const char *dir)
{
	char legacy[PATH_MAX], done[PATH_MAX + 64], ident[128], t[32];
	sqlite3_stmt *st;
	struct stat sb;
	long records, bad;
	char why[200];
	int fd, hfd, torn, imported = 0;

	snprintf(legacy, sizeof(legacy), "%s/%s", dir, JOURNAL_LEGACY);
	/* the directory sq_open checked and holds */
	if ((hfd = state_dir_fd(dir, why, sizeof(why))) == -1) {
		snprintf(j->err, sizeof(j->err), "%s", why);
		return -1;
	}
	if (fstatat(hfd, JOURNAL_LEGACY, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if ((fd = state_file_openat(hfd, JOURNAL_LEGACY, O_RDONLY)) == -1) {
		snprintf(j->err, sizeof(j->err), "cannot import '%.200s': %s "
		    "(it must be a regular file of yours)", legacy,
		    strerror(errno));
		return -1;
	}
	fstat(fd, &sb);
	snprintf(ident, sizeof(ident), "%llu:%llu:%lld",
	    (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
	    (long long)sb.st_size);
	if (exec(j, "BEGIN IMMEDIATE") == -1) {
		close(fd);
		return -1;
	}
	/* exactly once: the import and its mark commit together */
	if ((st = prep(j, "SELECT 1 FROM meta WHERE key = 'imported' AND "
	    "value = ?")) == NULL) {
		close(fd);
		goto fail;
	}
	bind_text(st, 1, ident);
	imported = sqlite3_step(st) == SQLITE_ROW;
	unprep(j, st);
	if (!imported) {
		/* import_file closes fd */
		if (import_file(j, fd, &records, &bad, &torn) == -1)
			goto fail;
		if ((st = prep(j, "INSERT OR REPLACE INTO meta (key, value) "
		    "VALUES ('imported', ?)")) == NULL)
			goto fail;
		bind_text(st, 1, ident);
		if (sqlite3_step(st) != SQLITE_DONE) {
			jfail(j, "journal");
			unprep(j, st);
			goto fail;
		}
		unprep(j, st);
		j->imported = records;
		j->import_bad = bad;
		j->import_torn = torn;
		wrote_much(j);
	} else {
		close(fd);
		j->import_before = 1;
	}
	if (exec(j, "COMMIT") == -1)
		goto fail;
	journal_time(time(NULL), t);
	snprintf(done, sizeof(done), "%s.imported-%s", legacy, t);
	if (renameat(hfd, JOURNAL_LEGACY, hfd, strrchr(done, '/') + 1) == -1) {
		snprintf(j->err, sizeof(j->err), "imported '%.200s' but cannot "
		    "rename it: %s", legacy, strerror(errno));
		return -1;
	}
	strlcpy(j->import_renamed, done, sizeof(j->import_renamed));
	return 0;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
