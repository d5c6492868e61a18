/*
 * journal_sqlite.c - the SQLite store (journal_store.h): STATE_DIR/journal.db.
 *
 * Committed durably (WAL, synchronous=FULL): the pending record before
 * the request leaves the machine.  Concurrent processes wait for each
 * other (busy timeout, BEGIN IMMEDIATE).  The tables, and what the
 * transactions do with them, are journal_txn.c's, run through this
 * store's driver (sqlite_sql below: $N parameters bound by name, rows as
 * JSON, a unique index's refusal told apart).
 *
 * This file: opening (pragmas, migrations, the statement cache), the
 * driver, SQLite's own integrity check.  agcod 0.1's import is
 * journal_sqlite_import.c's.
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
#include <sqlite3.h>

#include "buf.h"
#include "journal.h"
#include "journal_sqlite.h"
#include "journal_state.h"
#include "journal_store.h"
#include "journal_txn.h"
#include "statedir.h"

#define BUSY_TIMEOUT_MS	60000

/* ---- small SQLite helpers ---- */

int
jfail(struct journal *j, const char *what)
{
	snprintf(j->err, sizeof(j->err), "%s: %s", what,
	    j->db ? sqlite3_errmsg(j->db) : "no database");
	return -1;
}

int
exec(struct journal *j, const char *sql)
{
	if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return jfail(j, "journal");
	return 0;
}

/*
 * Statements are prepared once per open journal and kept: an import of a
 * million records runs the same few statements two million times.
 */
sqlite3_stmt *
prep(struct journal *j, const char *sql)
{
	sqlite3_stmt *st = NULL;
	size_t i, free_slot = JOURNAL_STMTS;

	for (i = 0; i < JOURNAL_STMTS; i++) {
		if (j->stmt_sql[i] == NULL) {
			if (free_slot == JOURNAL_STMTS)
				free_slot = i;
		} else if (strcmp(j->stmt_sql[i], sql) == 0)
			return j->stmt[i];
	}
	if (sqlite3_prepare_v3(j->db, sql, -1, free_slot < JOURNAL_STMTS ?
	    SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
		jfail(j, "journal");
		return NULL;
	}
	if (free_slot < JOURNAL_STMTS &&
	    (j->stmt_sql[free_slot] = strdup(sql)) != NULL)
		j->stmt[free_slot] = st;
	return st;
}

/* done with a statement: kept ones are reset, others finalized */
void
unprep(struct journal *j, sqlite3_stmt *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < JOURNAL_STMTS; i++)
		if (j->stmt[i] == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* a row as a JSON object of its non-NULL columns */
json_t *
row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int i, n = sqlite3_column_count(st);

	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			break;
		case SQLITE_INTEGER:
			json_object_set_new(o, name,
			    json_integer(sqlite3_column_int64(st, i)));
			break;
		default:
			json_object_set_new(o, name, json_stringn_nocheck(
			    (const char *)sqlite3_column_text(st, i),
			    (size_t)sqlite3_column_bytes(st, i)));
		}
	}
	return o;
}

const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* ---- opening, migrating ---- */

/* the schema's version: 0 for a new journal (or when it cannot be read:
 * the migration then fails on the existing tables), -1 on error */
static int
schema_version(struct journal *j)
{
	sqlite3_stmt *st;
	int v;

	if ((st = prep(j, "PRAGMA user_version")) == NULL)
		return -1;
	v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	unprep(j, st);
	return v;
}

/*
 * Bring the schema to JOURNAL_SCHEMA.  A journal already there is only
 * read: no write transaction (and no fsync) for every process that opens it.
 */
static int
migrate(struct journal *j)
{
	int v, i;
	char sql[64];

	if (schema_version(j) == JOURNAL_SCHEMA)
		return 0;
	if (exec(j, "BEGIN IMMEDIATE") == -1)
		return -1;
	if ((v = schema_version(j)) == -1)
		goto fail;
	if (v > JOURNAL_SCHEMA) {
		exec(j, "ROLLBACK");
		snprintf(j->err, sizeof(j->err), "the journal has schema "
		    "version %d, newer than this agcod knows (%d): use a newer "
		    "agcod", v, JOURNAL_SCHEMA);
		return -1;
	}
	for (i = v; i < JOURNAL_SCHEMA; i++)
		if (exec(j, journal_schema_sqlite[i]) == -1)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", JOURNAL_SCHEMA);
	if (exec(j, sql) == -1 || exec(j, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * planted -wal or -shm files: a link, FIFO or device is refused; looked at
 * and tightened through the held state directory, not by path
 */
static int
check_companions(struct journal *j, int hfd)
{
	static const char *const sfx[] = { "-wal", "-shm", "-journal" };
	char p[PATH_MAX + 16], name[64];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", j->path, sfx[i]);
		snprintf(name, sizeof(name), "%s%s", JOURNAL_DB, sfx[i]);
		if (fstatat(hfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    st.st_nlink != 1) {
			snprintf(j->err, sizeof(j->err), "'%.180s' is not a "
			    "regular file of yours alone: remove it", p);
			return -1;
		}
		/* state_file_openat tightens the mode on the descriptor */
		if ((st.st_mode & 077) &&
		    (fd = state_file_openat(hfd, name, O_RDONLY)) == -1) {
			snprintf(j->err, sizeof(j->err), "cannot make '%.180s' "
			    "private: %s", p, strerror(errno));
			return -1;
		}
		if (st.st_mode & 077)
			close(fd);
	}
	return 0;
}

/* a command that wrote much checkpoints (and removes the WAL) as it closes */
void
wrote_much(struct journal *j)
{
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
}

/*
 * After each commit, the WAL's size in pages.  The next process to open
 * the journal reads the whole WAL to rebuild its index (about 5,000
 * instructions a page), so a WAL past WAL_CLOSE_PAGES (a create writes
 * about 15) is checkpointed as this process closes: few exits pay the
 * checkpoint's fsyncs, and no open reads more than 256 KiB of WAL.  A long
 * run (a batch) checkpoints as SQLite would by itself, every 1000 pages.
 */
#define WAL_CLOSE_PAGES	64
#define WAL_RUN_PAGES	1000

static int
wal_size(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)arg;
	if (pages >= WAL_RUN_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	else if (pages >= WAL_CLOSE_PAGES)
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	return SQLITE_OK;
}

/* flock, waiting at most as long as SQLite's busy timeout */
static int
lock_dir(int fd)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if ((waited += 10) > BUSY_TIMEOUT_MS) {
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * The held directory as the kernel names it now, without the links the
 * user's path may go through (they were checked by state_dir_fd, but
 * SQLITE_OPEN_NOFOLLOW refuses a link anywhere in the path); the path as
 * given where /proc is not there.
 */
static void
physical_path(struct journal *j, int hfd)
{
	char proc[64], dir[PATH_MAX], path[sizeof(j->path)];
	ssize_t n;
	int len;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", hfd);
	if ((n = readlink(proc, dir, sizeof(dir) - 1)) <= 0 || dir[0] != '/')
		return;
	dir[n] = '\0';
	len = snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_DB);
	if (len > 0 && (size_t)len < sizeof(path))
		strlcpy(j->path, path, sizeof(j->path));
}

/*
 * SQLite opens journal.db by path (sqlite3_open_v2 takes no descriptor):
 * the path must still name the file opened through the held directory,
 * the same device and inode.  Takes fd.
 */
static int
same_file(struct journal *j, int fd)
{
	struct stat a, b;
	int r;

	r = fstat(fd, &a) == 0 && stat(j->path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : -1;
	close(fd);
	if (r == -1)
		snprintf(j->err, sizeof(j->err), "'%.200s' was replaced while "
		    "it was opened: run the command again", j->path);
	return r;
}

/*
 * The file is in WAL mode already (the header's read and write versions
 * are 2), which persists: setting it again at every open is a statement
 * prepared and run for nothing.
 */
static int
in_wal(int fd)
{
	unsigned char h[20];

	return pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && h[18] == 2 &&
	    h[19] == 2;
}

static enum agcod_result
sq_open(struct journal *j, const char *dir, enum journal_mode mode)
{
	char legacy[PATH_MAX], why[200], keep[sizeof(j->err)];
	struct stat st;
	int fd, hfd, dfd = -1, wal;

	if (snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_DB) >=
	    (int)sizeof(j->path) || snprintf(legacy, sizeof(legacy), "%s/%s",
	    dir, JOURNAL_LEGACY) >= (int)sizeof(legacy)) {
		snprintf(j->err, sizeof(j->err), "the state directory path is "
		    "too long");
		return AGCOD_E_JOURNAL_IO;
	}
	if (mode == JOURNAL_READ && lstat(j->path, &st) == -1 &&
	    errno == ENOENT && lstat(legacy, &st) == -1 && errno == ENOENT)
		return AGCOD_OK;	/* no journal yet: an empty one */
	if ((hfd = state_dir_fd(dir, why, sizeof(why))) == -1) {
		snprintf(j->err, sizeof(j->err), "the state directory '%.200s' "
		    "cannot be used: %s", dir, why);
		return AGCOD_E_JOURNAL_IO;
	}
	physical_path(j, hfd);
	if ((fd = state_file_openat(hfd, JOURNAL_DB, O_RDWR | O_CREAT)) == -1) {
		snprintf(j->err, sizeof(j->err), "cannot open '%.200s': %s%s",
		    j->path, strerror(errno), errno == ELOOP || errno == EINVAL
		    || errno == EPERM ? " (it must be a regular file of yours, "
		    "not a link, FIFO or device)" : "");
		return AGCOD_E_JOURNAL_IO;
	}
	if (check_companions(j, hfd) == -1) {
		close(fd);
		return AGCOD_E_JOURNAL_IO;
	}
	/*
	 * One process at a time sets WAL mode, migrates and imports: SQLite
	 * answers "locked" at once, without waiting, to a second connection
	 * that would change the journal mode of a new database.  The lock is
	 * on the directory, not the database, whose POSIX locks SQLite owns.
	 */
	if ((dfd = openat(hfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || lock_dir(dfd) == -1) {
		snprintf(j->err, sizeof(j->err), "cannot lock the state "
		    "directory: %s", strerror(errno));
		if (dfd != -1)
			close(dfd);
		close(fd);
		return AGCOD_E_JOURNAL_IO;
	}
	if (sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		jfail(j, "cannot open the journal");
		close(fd);
		goto fail;
	}
	wal = in_wal(fd);
	if (same_file(j, fd) == -1)
		goto fail;
	sqlite3_busy_timeout(j->db, BUSY_TIMEOUT_MS);
	/*
	 * Both commits are durable in the WAL (synchronous=FULL): copying them
	 * into journal.db at every exit is work done by size instead (see
	 * wal_size).  An import or a prune, which write much, turn it back on
	 * (wrote_much).
	 */
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(j->db, wal_size, NULL);
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if ((!wal && exec(j, "PRAGMA journal_mode = WAL") == -1) ||
	    exec(j, "PRAGMA synchronous = FULL") == -1 || migrate(j) == -1 ||
	    import_legacy(j, dir) == -1)
		goto fail;
	close(dfd);	/* releases the flock */
	return AGCOD_OK;
fail:
	memcpy(keep, j->err, sizeof(keep));
	journal_close(j);
	memcpy(j->err, keep, sizeof(keep));
	close(dfd);
	return AGCOD_E_JOURNAL_IO;
}

static void
sq_close(struct journal *j)
{
	size_t i;

	for (i = 0; i < JOURNAL_STMTS; i++) {
		sqlite3_finalize(j->stmt[i]);
		free(j->stmt_sql[i]);
		j->stmt[i] = NULL;
		j->stmt_sql[i] = NULL;
	}
	if (j->db)
		sqlite3_close_v2(j->db);
	j->db = NULL;
}

/*
 * Every commit is durable when it returns (synchronous=FULL), and the
 * process's end releases the locks and the WAL index: closing would only
 * finalize statements and free memory, a fifth of a million instructions
 * per command, which the exit does for free.  Unless a checkpoint is due
 * at close (wal_size, wrote_much): then it closes.
 */
static void
sq_leave(struct journal *j)
{
	int no_ckpt = 0;

	if (j->db == NULL || sqlite3_db_config(j->db,
	    SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, -1, &no_ckpt) != SQLITE_OK ||
	    !no_ckpt)
		sq_close(j);
}

/* ---- the driver journal_txn.c runs the transactions through ---- */

static int
sq_write(struct journal *j)
{
	return exec(j, "BEGIN IMMEDIATE");
}

static int
sq_commit(struct journal *j)
{
	return exec(j, "COMMIT");
}

static void
sq_rollback(struct journal *j)
{
	if (j->db && !sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

/* the statement of sql with p bound by name ($1 to $n), or NULL */
static sqlite3_stmt *
bound(struct journal *j, const char *sql, const struct jparams *p)
{
	sqlite3_stmt *st;
	const char *name;
	char *end;
	long i;
	int at, n;

	if ((st = prep(j, sql)) == NULL)
		return NULL;
	/* each of the statement's parameters, by the number in its name */
	for (at = 1, n = sqlite3_bind_parameter_count(st); at <= n; at++) {
		if ((name = sqlite3_bind_parameter_name(st, at)) == NULL ||
		    name[0] != '$' || p == NULL)
			continue;
		i = strtol(name + 1, &end, 10) - 1;
		if (*end != '\0' || i < 0 || i >= p->n)
			continue;
		if (p->v[i].type == JP_INT)
			sqlite3_bind_int64(st, at, p->v[i].i);
		else
			bind_text(st, at, p->v[i].s);
	}
	return st;
}

static long
sq_run(struct journal *j, const char *what, const char *sql,
    const struct jparams *p, json_t **row, int flags)
{
	sqlite3_stmt *st;
	long n = 0;
	int step;

	if (row)
		*row = NULL;
	if ((st = bound(j, sql, p)) == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (n++ == 0 && row)
			*row = row_json(st);
	if (step == SQLITE_DONE) {
		if (sqlite3_column_count(st) == 0)
			n = sqlite3_changes(j->db);
	} else {
		n = sqlite3_extended_errcode(j->db) == SQLITE_CONSTRAINT_UNIQUE
		    && (flags & JQ_MAY_CONFLICT) ? JQ_UNIQUE : -1;
		jfail(j, what);
		if (row) {
			json_decref(*row);
			*row = NULL;
		}
	}
	unprep(j, st);
	return n;
}

static int
sq_each(struct journal *j, const char *what, const char *sql,
    const struct jparams *p, int (*fn)(json_t *, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc = 0, step;

	if ((st = bound(j, sql, p)) == NULL)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = row_json(st);

		rc = fn(row, arg);
		json_decref(row);
		if (rc)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = jfail(j, what);
	unprep(j, st);
	return rc;
}

/* SQLite's own check of every page, index and constraint (journal check) */
static int
sq_integrity(struct journal *j, void (*fn)(const char *, void *), void *arg)
{
	sqlite3_stmt *st;
	char m[700];
	int problems = 0, step;

	if ((st = prep(j, "PRAGMA integrity_check")) == NULL) {
		snprintf(m, sizeof(m), "%s", j->err);
		fn(m, arg);
		return -1;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = col_text(st, 0);

		if (t && strcmp(t, "ok") != 0) {
			snprintf(m, sizeof(m), "sqlite: %.500s", t);
			fn(m, arg);
			problems++;
		}
	}
	if (step != SQLITE_DONE) {
		jfail(j, "cannot read the journal");
		snprintf(m, sizeof(m), "%s", j->err);
		fn(m, arg);
		problems = -1;
	}
	unprep(j, st);
	return problems;
}

static const struct journal_sql sqlite_sql = {
	.begin = sq_write,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.run = sq_run,
	.each = sq_each,
	.again = NULL,	/* the busy timeout waits; nothing to run again */
	.own_check = sq_integrity,
	.claim_columns = "SELECT (SELECT count(*) FROM "
	    "pragma_table_info('requests') WHERE name LIKE '%claim%') + "
	    "(SELECT count(*) FROM pragma_table_info('objects') WHERE name "
	    "LIKE '%claim%')",
	.wrote_much = wrote_much,
};

static int
sq_is_open(const struct journal *j)
{
	return j->db != NULL;
}

const struct journal_store journal_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.migrate = migrate,
	.close = sq_close,
	.leave = sq_leave,
	.is_open = sq_is_open,
	.import_text = sq_import_text,
	/* STATE_DIR's files keep these: cmd_batch.c's and ratelimit.c's */
	.batch_lock = NULL,
	.rate_reserve = NULL,
	.sql = &sqlite_sql,
};
