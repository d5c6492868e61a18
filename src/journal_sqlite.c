/*
 * journal_sqlite.c - the SQLite store (journal_store.h): STATE_DIR/journal.db.
 *
 * Two tables.  `requests`: one row each time a request is sent, committed
 * durably (WAL, synchronous=FULL) as "pending" before it leaves the
 * machine, then given the evidence its answer carries; the journal, not
 * the caller, decides what that proves (succeeded, failed, unknown, not
 * sent, cancelled), knowing from the `acted` column whether an earlier
 * attempt of the id may have acted.  `objects`: one row per money object -
 * a card (create/cancel), a balance load (load/void), a physical card
 * (activate/deactivate) - with its current state, moved only by
 * journal_next_state() on evidence, so a refused request never changes
 * the state of what it referred to.  One open record per request id (a
 * unique index); close_requests() is the one way a record stops being
 * open.  Concurrent processes wait for each other (busy timeout, BEGIN
 * IMMEDIATE).  Request ids, amounts and gc ids only: never a claim code, a
 * secret or a derived key.
 *
 * This file: opening (pragmas, migrations, the statement cache), the
 * transactions that record, settle and look up requests.  Queries, the
 * check and prune are journal_sqlite_query.c's; agcod 0.1's import is
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
#include "statedir.h"

#define BUSY_TIMEOUT_MS	60000

/* ---- schema ---- */


/*
 * Version 1.  `open` is 1 while a request's outcome is not known and no
 * later request with its id has taken the question over: what reconcile
 * and `history --pending` read, through a partial index, so they cost the
 * same at a million requests as at ten.
 */
static const char schema_v1[] =
    "CREATE TABLE requests ("
    " id INTEGER PRIMARY KEY,"
    " time TEXT NOT NULL, updated TEXT, state TEXT NOT NULL,"
    " operation TEXT NOT NULL, request_id TEXT NOT NULL,"
    " profile TEXT, partner TEXT, environment TEXT, endpoint TEXT,"
    " amount TEXT, currency TEXT, gc_id TEXT, card_number TEXT,"
    " account TEXT, account_type TEXT, source_id TEXT,"
    " external_reference TEXT, program_id TEXT, product_type TEXT,"
    " batch TEXT, amazon_request_id TEXT, http_status INTEGER,"
    " error_code TEXT, error_type TEXT, error TEXT, diagnosis TEXT,"
    " clock_skew_s INTEGER, attempts INTEGER, delivered INTEGER,"
    " settled TEXT, settle_reason TEXT, settled_time TEXT,"
    " pid INTEGER, open INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX requests_id ON requests (operation, request_id);"
    "CREATE INDEX requests_open ON requests (open) WHERE open = 1;"
    "CREATE INDEX requests_time ON requests (time);"
    "CREATE INDEX requests_extref ON requests (external_reference)"
    " WHERE external_reference IS NOT NULL;"
    "CREATE TABLE objects ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,"
    " time TEXT NOT NULL, updated TEXT NOT NULL, operation TEXT,"
    " request_id TEXT, profile TEXT, partner TEXT, environment TEXT,"
    " endpoint TEXT, amount TEXT, currency TEXT, gc_id TEXT,"
    " card_number TEXT, account TEXT, account_type TEXT, source_id TEXT,"
    " external_reference TEXT, program_id TEXT, product_type TEXT,"
    " batch TEXT, error_code TEXT, error_type TEXT,"
    " last_request INTEGER, UNIQUE (kind, key));"
    "CREATE INDEX objects_rid ON objects (request_id);"
    "CREATE INDEX objects_time ON objects (time);"
    "CREATE INDEX objects_extref ON objects (external_reference)"
    " WHERE external_reference IS NOT NULL;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);";

/*
 * Version 2: the rule lives in the journal.  `acted`: an attempt of the
 * record may have acted (durable before a retry, or when a later send
 * finds the record left pending or unknown).  `body_sha`: the SHA-256 of
 * the body sent, so that an F2xx refusal proves something only of the
 * body every earlier attempt sent.  `pid_start`: with `pid`, the process
 * that writes a pending record, so that a live one is told from one that
 * died.  `reserved`: the object holds its external reference; one live
 * object (pending, unknown, issued) per reference of a partner and
 * environment.  One open record per request id.  `pruned`: what `journal
 * prune` keeps of a card (its id, state and time) for the batch guards.
 * `objects_gcid`: cancel --gc-id finds its card by the gcId it was given
 * (journal_find_gc).  Journals that broke the rules before are mended first: older open
 * records of an id are closed as retried, and reserved stays unset.
 */
static const char schema_v2[] =
    "ALTER TABLE requests ADD COLUMN acted INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE requests ADD COLUMN body_sha TEXT;"
    "ALTER TABLE requests ADD COLUMN pid_start INTEGER;"
    "ALTER TABLE requests ADD COLUMN reserved INTEGER;"
    "ALTER TABLE objects ADD COLUMN reserved INTEGER;"
    "UPDATE requests SET acted = 1 WHERE state IN ('unknown', 'succeeded',"
    " 'cancelled') OR (state = 'pending' AND open = 0);"
    "UPDATE requests SET open = 0, settled = 'retried', acted = 1"
    " WHERE open = 1 AND id NOT IN (SELECT max(id) FROM requests"
    " WHERE open = 1 GROUP BY operation, request_id);"
    "CREATE UNIQUE INDEX requests_one_open ON requests"
    " (operation, request_id) WHERE open = 1;"
    "CREATE UNIQUE INDEX objects_live_ref ON objects"
    " (partner, environment, external_reference) WHERE reserved = 1 AND"
    " state IN ('pending', 'unknown', 'issued');"
    "CREATE TABLE pruned (kind TEXT NOT NULL, key TEXT NOT NULL,"
    " operation TEXT, state TEXT NOT NULL, time TEXT, updated TEXT,"
    " UNIQUE (kind, key));"
    "CREATE INDEX objects_gcid ON objects (gc_id) WHERE gc_id IS NOT NULL;";

/* migrations[i] takes the schema from version i to i + 1 */
static const char *const migrations[] = { schema_v1, schema_v2 };
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(SCHEMA_VERSION == JOURNAL_SCHEMA, "journal.h says the version");

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

/* a member of a record, as the column wants it */
static void
bind_member(sqlite3_stmt *st, int i, json_t *rec, const struct column *c)
{
	json_t *v = json_object_get(rec, c->name);

	if (c->type == C_INT && json_is_integer(v))
		sqlite3_bind_int64(st, i, json_integer_value(v));
	else if (json_is_string(v))
		bind_text(st, i, json_string_value(v));
	else if (json_is_boolean(v))
		sqlite3_bind_int(st, i, json_is_true(v));
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
 * Bring the schema to SCHEMA_VERSION.  A journal already there is only
 * read: no write transaction (and no fsync) for every process that opens it.
 */
static int
migrate(struct journal *j)
{
	int v, i;
	char sql[64];

	if (schema_version(j) == SCHEMA_VERSION)
		return 0;
	if (exec(j, "BEGIN IMMEDIATE") == -1)
		return -1;
	if ((v = schema_version(j)) == -1)
		goto fail;
	if (v > SCHEMA_VERSION) {
		exec(j, "ROLLBACK");
		snprintf(j->err, sizeof(j->err), "the journal has schema "
		    "version %d, newer than this agcod knows (%d): use a newer "
		    "agcod", v, SCHEMA_VERSION);
		return -1;
	}
	for (i = v; i < SCHEMA_VERSION; i++)
		if (exec(j, migrations[i]) == -1)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
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

static int
sq_open(struct journal *j, const char *dir, enum journal_mode mode)
{
	char legacy[PATH_MAX], why[200], keep[sizeof(j->err)];
	struct stat st;
	int fd, hfd, dfd = -1;

	if (snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_DB) >=
	    (int)sizeof(j->path) || snprintf(legacy, sizeof(legacy), "%s/%s",
	    dir, JOURNAL_LEGACY) >= (int)sizeof(legacy)) {
		snprintf(j->err, sizeof(j->err), "the state directory path is "
		    "too long");
		return -1;
	}
	if (mode == JOURNAL_READ && lstat(j->path, &st) == -1 &&
	    errno == ENOENT && lstat(legacy, &st) == -1 && errno == ENOENT)
		return 0;	/* no journal yet: an empty one */
	if ((hfd = state_dir_fd(dir, why, sizeof(why))) == -1) {
		snprintf(j->err, sizeof(j->err), "the state directory '%.200s' "
		    "cannot be used: %s", dir, why);
		return -1;
	}
	physical_path(j, hfd);
	if ((fd = state_file_openat(hfd, JOURNAL_DB, O_RDWR | O_CREAT)) == -1) {
		snprintf(j->err, sizeof(j->err), "cannot open '%.200s': %s%s",
		    j->path, strerror(errno), errno == ELOOP || errno == EINVAL
		    || errno == EPERM ? " (it must be a regular file of yours, "
		    "not a link, FIFO or device)" : "");
		return -1;
	}
	if (check_companions(j, hfd) == -1) {
		close(fd);
		return -1;
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
		return -1;
	}
	if (sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		jfail(j, "cannot open the journal");
		close(fd);
		goto fail;
	}
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
	if (exec(j, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(j, "PRAGMA synchronous = FULL") == -1 || migrate(j) == -1 ||
	    import_legacy(j, dir) == -1)
		goto fail;
	close(dfd);	/* releases the flock */
	return 0;
fail:
	memcpy(keep, j->err, sizeof(keep));
	journal_close(j);
	memcpy(j->err, keep, sizeof(keep));
	close(dfd);
	return -1;
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

/* ---- recording ---- */

static int object_key(json_t *, const struct kind **, int *, const char **);

/*
 * After a failed pending commit: an open record of the id (left by a
 * process that ended) may remain, which reconcile would send, or the id
 * may have made its object already.  1 when so or the journal cannot
 * tell, 0 when neither; j->err is kept.
 */
static int
open_left(struct journal *j, json_t *pending)
{
	const char *op = member(pending, "operation"),
	    *rid = member(pending, "request_id"), *key = NULL;
	const struct kind *k = NULL;
	sqlite3_stmt *st;
	char err[sizeof(j->err)];
	int r = 1, origin;

	strlcpy(err, j->err, sizeof(err));
	if (object_key(pending, &k, &origin, &key) == -1)
		k = NULL;
	if (op && rid && (st = prep(j, "SELECT EXISTS (SELECT 1 FROM requests "
	    "WHERE operation = ?1 AND request_id = ?2 AND open = 1) OR EXISTS "
	    "(SELECT 1 FROM objects WHERE kind = ?3 AND key = ?4 AND state "
	    "NOT IN ('failed', 'not sent'))")) != NULL) {
		bind_text(st, 1, op);
		bind_text(st, 2, rid);
		bind_text(st, 3, k ? k->name : NULL);
		bind_text(st, 4, key);
		if (sqlite3_step(st) == SQLITE_ROW)
			r = sqlite3_column_int(st, 0);
		unprep(j, st);
	}
	if (r)
		snprintf(j->err, sizeof(j->err), "%.300s; an earlier attempt of "
		    "%.64s may have acted (or the journal cannot tell): 'agcod "
		    "history --request-id %.64s' says how it ended, 'agcod "
		    "reconcile' settles it", err, rid ? rid : "this id",
		    rid ? rid : "ID");
	else
		strlcpy(j->err, err, sizeof(j->err));
	return r;
}

static int64_t
sq_begin(struct journal *j, json_t *pending)
{
	int64_t id;
	int rc;

	j->prior[0] = j->prior_time[0] = '\0';
	if (j->db == NULL) {
		snprintf(j->err, sizeof(j->err), "the journal is not open");
		return -1;
	}
	if ((rc = exec(j, "BEGIN IMMEDIATE")) == -1 ||
	    (rc = begin_locked(j, pending, &id, 1)) < 0)
		goto fail;
	if (exec(j, "COMMIT") == -1) {
		/*
		 * A failed COMMIT (an fsync's EIO) may still have written the
		 * record: the next process to open the journal can find it,
		 * and reconcile would send it.  Never "nothing sent" then.
		 */
		char err[sizeof(j->err)];

		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
		strlcpy(err, j->err, sizeof(err));
		snprintf(j->err, sizeof(j->err), "%.300s; the pending record of "
		    "%.64s may have been written all the same: 'agcod history "
		    "--request-id %.64s' says, 'agcod reconcile' sends it if it "
		    "was", err, member(pending, "request_id") ?
		    member(pending, "request_id") : "this id",
		    member(pending, "request_id") ?
		    member(pending, "request_id") : "ID");
		return JOURNAL_MAYBE_OPEN;
	}
	return id;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc < -1)
		return rc;
	/* "nothing sent" only if no open record of the id remains */
	return open_left(j, pending) ? JOURNAL_MAYBE_OPEN : -1;
}

static int
sq_finish(struct journal *j, int64_t id, json_t *outcome)
{
	j->decided[0] = '\0';
	if (j->db == NULL || id <= 0) {
		snprintf(j->err, sizeof(j->err), "the journal is not open");
		return -1;
	}
	if (exec(j, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (finish_locked(j, id, outcome) == -1 || exec(j, "COMMIT") == -1) {
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
		j->decided[0] = '\0';
		return -1;
	}
	return 0;
}

/* one statement, committed on its own (durable: synchronous=FULL) */
static int
update_id(struct journal *j, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if (j->db == NULL) {
		snprintf(j->err, sizeof(j->err), "the journal is not open");
		return -1;
	}
	if ((st = prep(j, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : jfail(j, "journal");
	unprep(j, st);
	return rc;
}

static int
sq_acted(struct journal *j, int64_t id)
{
	return update_id(j, "UPDATE requests SET acted = 1 WHERE id = ?", id);
}

static int
sq_undelivered(struct journal *j, int64_t id)
{
	return update_id(j, "UPDATE requests SET delivered = 0 WHERE id = ?",
	    id);
}

/* the money object a request row belongs to: its kind and key */
static int
object_key(json_t *row, const struct kind **k, int *origin, const char **key)
{
	if ((*k = kind_of(member(row, "operation"), origin)) == NULL)
		return -1;
	*key = member(row, (*k)->by_card ? "card_number" : "request_id");
	return *key ? 0 : -1;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/*
 * An attempt of operation op whose column col is key may have acted: one
 * was marked so and not proved refused since (failed: an F2xx of its body,
 * or settled), or a pending record other than `self` was left by a
 * process that ended.  1, 0, or -1 on an error.
 */
static int
acted_before(struct journal *j, const char *op, int by_card, const char *key,
    int64_t self)
{
	sqlite3_stmt *st;
	int r;

	/* a pruned object that was not proved refused: its requests acted */
	if ((st = prep(j, by_card ? "SELECT EXISTS (SELECT 1 FROM requests "
	    "WHERE operation = ?1 AND card_number = ?2 AND ((acted = 1 AND "
	    "state <> 'failed') OR (state = 'pending' AND id <> ?3)))" :
	    "SELECT EXISTS (SELECT 1 FROM requests WHERE operation = ?1 AND "
	    "request_id = ?2 AND ((acted = 1 AND state <> 'failed') OR "
	    "(state = 'pending' AND id <> ?3))) OR EXISTS "
	    "(SELECT 1 FROM pruned WHERE kind = ?4 AND key = ?2 AND state "
	    "NOT IN ('failed', 'not sent'))")) == NULL)
		return -1;
	bind_text(st, 1, op);
	bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, self);
	if (!by_card)
		bind_text(st, 4, journal_kind(op));
	r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) :
	    jfail(j, "cannot read the journal");
	unprep(j, st);
	return r;
}

/* every attempt of the id that may have acted sent this body: 1, 0, -1 */
static int
same_body(struct journal *j, json_t *row, int64_t self)
{
	sqlite3_stmt *st;
	int r;

	if ((st = prep(j, "SELECT NOT EXISTS (SELECT 1 FROM requests WHERE "
	    "operation = ?1 AND request_id = ?2 AND id <> ?4 AND ((acted = 1 "
	    "AND state <> 'failed') OR state = 'pending') AND (body_sha IS "
	    "NULL OR ?3 IS NULL OR "
	    "body_sha <> ?3))")) == NULL)
		return -1;
	bind_text(st, 1, member(row, "operation"));
	bind_text(st, 2, member(row, "request_id"));
	bind_text(st, 3, member(row, "body_sha"));
	sqlite3_bind_int64(st, 4, self);
	r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) :
	    jfail(j, "cannot read the journal");
	if (r == 1 && member(row, "body_sha") == NULL)
		r = 0;
	unprep(j, st);
	return r;
}

/* a reserved reference is taken: say by which request */
static int
ref_taken(struct journal *j, json_t *row)
{
	sqlite3_stmt *st;
	const char *ref = member(row, "external_reference");
	char held[128] = "another request";

	if ((st = prep(j, "SELECT request_id, state FROM objects WHERE "
	    "reserved = 1 AND partner IS ?1 AND environment IS ?2 AND "
	    "external_reference = ?3 AND state IN ('pending', 'unknown', "
	    "'issued')")) != NULL) {
		bind_text(st, 1, member(row, "partner"));
		bind_text(st, 2, member(row, "environment"));
		bind_text(st, 3, ref);
		if (sqlite3_step(st) == SQLITE_ROW && col_text(st, 0))
			snprintf(held, sizeof(held), "request id %.40s, %s",
			    col_text(st, 0), col_text(st, 1) ?
			    col_text(st, 1) : "?");
		unprep(j, st);
	}
	snprintf(j->err, sizeof(j->err), "external reference '%.100s' already "
	    "has a live card (%s); --allow-reused-reference issues another",
	    ref ? ref : "", held);
	return JOURNAL_REF_TAKEN;
}

static int
object_step(struct journal *j, sqlite3_stmt *st, json_t *row)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_DONE)
		return 0;
	if (sqlite3_extended_errcode(j->db) == SQLITE_CONSTRAINT_UNIQUE &&
	    member(row, "external_reference"))
		return ref_taken(j, row);
	return jfail(j, "journal");
}

/*
 * Move the object of request row `row` (a JSON of its columns) on the
 * evidence ev, creating it when the request makes one.  The one caller of
 * journal_next_state: nothing else moves an object.
 */
static int
apply_object(struct journal *j, json_t *row, int64_t rid,
    enum journal_evidence ev)
{
	const struct kind *k;
	const char *key, *next, *cur = NULL;
	sqlite3_stmt *st;
	json_t *obj = NULL;
	int origin, rc = -1, acted = 0;
	size_t i;

	if (object_key(row, &k, &origin, &key) == -1)
		return 0;
	if ((st = prep(j, "SELECT state, amount, currency, time FROM objects "
	    "WHERE kind = ? AND key = ?")) == NULL)
		return -1;
	bind_text(st, 1, k->name);
	bind_text(st, 2, key);
	/* an error is not "no object" (SQLite may have ended the transaction) */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		obj = row_json(st);
		cur = member(obj, "state");
	} else if (rc != SQLITE_DONE) {
		jfail(j, "cannot read the journal");
		unprep(j, st);
		return -1;
	}
	rc = -1;
	unprep(j, st);
	if (ev == EV_SEND) {
		strlcpy(j->prior, cur ? cur : "", sizeof(j->prior));
		strlcpy(j->prior_time, member(obj, "time") ? member(obj, "time") :
		    "", sizeof(j->prior_time));
	}
	/*
	 * A physical card is one object for all its activations: an F2xx
	 * proves only that this request id did nothing, not another's.
	 */
	if (k->by_card && ev == EV_REFUSED_SAME)
		ev = EV_REFUSED;
	/* a refusal proves nothing once an attempt that made it may have acted */
	if (origin && ev == EV_REFUSED &&
	    (acted = acted_before(j, k->origin, k->by_card, key, 0)) == -1) {
		json_decref(obj);
		return -1;
	}
	next = journal_next_state(member(row, "operation"), cur, ev, acted);
	if (next == NULL || same_str(next, cur)) {
		json_decref(obj);
		return 0;
	}
	if (obj == NULL) {
		struct buf sql = BUF_INIT(4096);
		int n = 0;

		if (buf_adds(&sql, "INSERT INTO objects (kind, key, state, "
		    "time, updated, operation, last_request, error_code, "
		    "error_type") == -1)
			goto done_buf;
		for (i = 0; i < NRCOLS; i++)
			if (journal_columns[i].object && (buf_adds(&sql, ", ") == -1 ||
			    buf_adds(&sql, journal_columns[i].name) == -1))
				goto done_buf;
		if (buf_adds(&sql, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?") == -1)
			goto done_buf;
		for (i = 0; i < NRCOLS; i++)
			if (journal_columns[i].object && buf_adds(&sql, ", ?") == -1)
				goto done_buf;
		if (buf_adds(&sql, ")") == -1 ||
		    (st = prep(j, buf_str(&sql))) == NULL)
			goto done_buf;
		bind_text(st, ++n, k->name);
		bind_text(st, ++n, key);
		bind_text(st, ++n, next);
		bind_text(st, ++n, member(row, "time"));
		bind_text(st, ++n, member(row, "updated") ?
		    member(row, "updated") : member(row, "time"));
		bind_text(st, ++n, k->origin);
		sqlite3_bind_int64(st, ++n, rid);
		bind_text(st, ++n, is(next, "failed") ?
		    member(row, "error_code") : NULL);
		bind_text(st, ++n, is(next, "failed") ?
		    member(row, "error_type") : NULL);
		for (i = 0; i < NRCOLS; i++)
			if (journal_columns[i].object)
				bind_member(st, ++n, row, &journal_columns[i]);
		rc = object_step(j, st, row);
		unprep(j, st);
done_buf:
		if (rc == -1 && j->err[0] == '\0')
			snprintf(j->err, sizeof(j->err), "out of memory");
		buf_free(&sql);
		json_decref(obj);
		return rc;
	}
	/*
	 * An object whose outcome was open takes the fields of the request
	 * that settles it; a settled one keeps what it was made with.
	 */
	if ((st = prep(j, "UPDATE objects SET state = ?1, updated = ?2, "
	    "last_request = ?3, error_code = ?4, error_type = ?5, "
	    "gc_id = coalesce(?6, gc_id), "
	    "amount = CASE WHEN ?7 THEN coalesce(?8, amount) ELSE amount END, "
	    "currency = CASE WHEN ?7 THEN coalesce(?9, currency) "
	    "ELSE currency END, "
	    "external_reference = CASE WHEN ?7 THEN ?12 "
	    "ELSE external_reference END, "
	    "reserved = CASE WHEN ?7 AND ?12 IS NOT external_reference "
	    "THEN ?13 ELSE coalesce(reserved, ?13) END "
	    "WHERE kind = ?10 AND key = ?11")) == NULL) {
		json_decref(obj);
		return -1;
	}
	bind_text(st, 1, next);
	bind_text(st, 2, member(row, "updated") ? member(row, "updated") :
	    member(row, "time"));
	sqlite3_bind_int64(st, 3, rid);
	bind_text(st, 4, is(next, "failed") ? member(row, "error_code") : NULL);
	bind_text(st, 5, is(next, "failed") ? member(row, "error_type") : NULL);
	bind_text(st, 6, origin ? member(row, "gc_id") : NULL);
	sqlite3_bind_int(st, 7, origin && (unsettled(cur) || is(cur, "failed")));
	bind_text(st, 8, member(row, "amount"));
	bind_text(st, 9, member(row, "currency"));
	bind_text(st, 10, k->name);
	bind_text(st, 11, key);
	/* and the reference it reserves, checked at this pending commit (a
	 * re-send of the same reference, as reconcile's, keeps it reserved) */
	bind_text(st, 12, member(row, "external_reference"));
	if (json_integer_value(json_object_get(row, "reserved")))
		sqlite3_bind_int(st, 13, 1);
	rc = object_step(j, st, row);
	unprep(j, st);
	json_decref(obj);
	return rc;
}

static json_t *
row_by_id(struct journal *j, int64_t id)
{
	sqlite3_stmt *st;
	json_t *r = NULL;
	int step;

	if ((st = prep(j, "SELECT * FROM requests WHERE id = ?")) == NULL)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		r = row_json(st);
	else if (step == SQLITE_DONE)
		snprintf(j->err, sizeof(j->err), "the journal has no request "
		    "record %lld", (long long)id);
	else
		jfail(j, "cannot read the journal");
	unprep(j, st);
	return r;
}

/*
 * The one way a request's record stops being open: record `id`, or every
 * open record of an operation's request id, saying how (NULL: its own
 * outcome did).  A record left pending or unknown may have acted, and
 * says so from now on.  Nothing sets open again: a late outcome of a
 * closed record is recorded, but it stays closed.
 */
static int
close_requests(struct journal *j, int64_t id, const char *op, const char *rid,
    const char *how)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	journal_time(time(NULL), now);
	if ((st = prep(j, "UPDATE requests SET open = 0, acted = CASE WHEN "
	    "state IN ('pending', 'unknown') THEN 1 ELSE acted END, "
	    "settled = coalesce(?1, settled), settled_time = CASE WHEN ?1 IS "
	    "NULL THEN settled_time ELSE ?2 END WHERE open = 1 AND (id = ?3 "
	    "OR (operation = ?4 AND request_id = ?5))")) == NULL)
		return -1;
	bind_text(st, 1, how);
	bind_text(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	bind_text(st, 4, op);
	bind_text(st, 5, rid);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : jfail(j, "journal");
	unprep(j, st);
	return rc;
}

/* the open record of an operation's request id, if a live process has it */
static int
held(struct journal *j, const char *op, const char *rid)
{
	sqlite3_stmt *st;
	json_t *row = NULL;
	int step, rc = 0;

	if ((st = prep(j, "SELECT * FROM requests WHERE operation = ? AND "
	    "request_id = ? AND open = 1")) == NULL)
		return -1;
	bind_text(st, 1, op);
	bind_text(st, 2, rid);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		row = row_json(st);
	else if (step != SQLITE_DONE)
		rc = jfail(j, "cannot read the journal");
	unprep(j, st);
	if (row && journal_row_live(j, row)) {
		snprintf(j->err, sizeof(j->err), "%s %.64s is being sent by "
		    "another agcod process (pid %lld) right now: its outcome "
		    "will be in the journal ('agcod history --request-id %.64s')",
		    op, rid, (long long)json_integer_value(json_object_get(row,
		    "pid")), rid);
		rc = JOURNAL_HELD;
	}
	json_decref(row);
	return rc;
}

/*
 * The journal keys a request by its operation and id, and a card or load
 * by its id: an id of another partner or environment (another service,
 * another card) must not close, settle or take the fields of this one's.
 */
static int
id_elsewhere(struct journal *j, json_t *rec)
{
	const struct kind *k = kind_of(member(rec, "operation"), NULL);
	sqlite3_stmt *st;
	json_t *row = NULL;
	int step, rc = 0;

	if ((st = prep(j, "SELECT partner, environment FROM requests WHERE "
	    "operation IN (?1, ?2, ?3) AND request_id = ?4 AND (partner <> ?5 "
	    "OR environment <> ?6) LIMIT 1")) == NULL)	/* NULL: not known */
		return -1;
	bind_text(st, 1, member(rec, "operation"));
	bind_text(st, 2, k ? k->origin : NULL);
	bind_text(st, 3, k ? k->refer : NULL);
	bind_text(st, 4, member(rec, "request_id"));
	bind_text(st, 5, member(rec, "partner"));
	bind_text(st, 6, member(rec, "environment"));
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		row = row_json(st);
	else if (step != SQLITE_DONE)
		rc = jfail(j, "cannot read the journal");
	unprep(j, st);
	if (row) {
		snprintf(j->err, sizeof(j->err), "request id '%.64s' was used "
		    "for partner %.40s in %.20s, and this journal keeps one "
		    "request per id: use another request id here",
		    member(rec, "request_id"), member(row, "partner") ?
		    member(row, "partner") : "?", member(row, "environment") ?
		    member(row, "environment") : "?");
		rc = JOURNAL_ID_ELSEWHERE;
	}
	json_decref(row);
	return rc;
}

/*
 * An open attempt of the id that may have acted sent another body: the
 * service answers a repeat with the first one's result, so these terms
 * could never settle it.  JOURNAL_OTHER_TERMS, 0, -1.
 */
static int
other_terms(struct journal *j, json_t *rec)
{
	sqlite3_stmt *st;
	const char *rid = member(rec, "request_id");
	int r;

	if (member(rec, "body_sha") == NULL)
		return 0;
	if ((st = prep(j, "SELECT EXISTS (SELECT 1 FROM requests WHERE "
	    "operation = ?1 AND request_id = ?2 AND open = 1 AND (acted = 1 "
	    "OR state IN ('pending', 'unknown')) AND body_sha IS NOT NULL AND "
	    "body_sha <> ?3)")) == NULL)
		return -1;
	bind_text(st, 1, member(rec, "operation"));
	bind_text(st, 2, rid);
	bind_text(st, 3, member(rec, "body_sha"));
	r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) :
	    jfail(j, "cannot read the journal");
	unprep(j, st);
	if (r != 1)
		return r;
	snprintf(j->err, sizeof(j->err), "request id %.64s was sent with other "
	    "terms and may have acted; its outcome is unknown: 'agcod "
	    "reconcile' settles it ('agcod history --request-id %.64s'); "
	    "these terms need another request id", rid, rid);
	return JOURNAL_OTHER_TERMS;
}

/*
 * A column the pending record sets: the request's own terms, and the gc_id
 * a cancel is sent with, so that reconcile re-sends it byte for byte.
 */
static int
at_begin(const struct column *c)
{
	return !c->outcome || strcmp(c->name, "gc_id") == 0;
}

int
begin_locked(struct journal *j, json_t *rec, int64_t *id, int live)
{
	struct buf sql = BUF_INIT(4096);
	const char *op = member(rec, "operation"), *rid = member(rec,
	    "request_id");
	sqlite3_stmt *st;
	char now[32];
	json_t *row;
	size_t i;
	int n = 0, rc = -1;

	if (op == NULL || rid == NULL) {
		snprintf(j->err, sizeof(j->err), "a record without operation "
		    "or request id");
		return -1;
	}
	if ((rc = id_elsewhere(j, rec)) != 0)
		return rc;
	/* one open record per id: a live process's is not taken over */
	if (live && (rc = held(j, op, rid)) != 0)
		return rc;
	/* nor by other terms, which no answer could settle it with */
	if (live && (rc = other_terms(j, rec)) != 0)
		return rc;
	rc = -1;
	/* a later send of the same id takes the open question over */
	journal_time(time(NULL), now);
	if (close_requests(j, 0, op, rid, "retried") == -1)
		return -1;

	if (buf_adds(&sql, "INSERT INTO requests (pid, pid_start, open") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (at_begin(&journal_columns[i]) && (buf_adds(&sql, ", ") == -1 ||
		    buf_adds(&sql, journal_columns[i].name) == -1))
			goto done;
	if (buf_adds(&sql, ", state) VALUES (?, ?, 1") == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (at_begin(&journal_columns[i]) && buf_adds(&sql, ", ?") == -1)
			goto done;
	if (buf_adds(&sql, ", 'pending')") == -1 ||
	    (st = prep(j, buf_str(&sql))) == NULL)
		goto done;
	if (live) {
		sqlite3_bind_int64(st, ++n, j->owner_pid);
		sqlite3_bind_int64(st, ++n, j->owner_start);
	} else {
		sqlite3_bind_null(st, ++n);
		sqlite3_bind_null(st, ++n);
	}
	for (i = 0; i < NRCOLS; i++) {
		if (!at_begin(&journal_columns[i]))
			continue;
		n++;
		if (strcmp(journal_columns[i].name, "time") == 0 && !member(rec, "time"))
			bind_text(st, n, now);
		else
			bind_member(st, n, rec, &journal_columns[i]);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		jfail(j, "cannot record the request in the journal");
		unprep(j, st);
		goto done;
	}
	unprep(j, st);
	*id = sqlite3_last_insert_rowid(j->db);
	if ((row = row_by_id(j, *id)) == NULL)
		goto done;
	rc = apply_object(j, row, *id, EV_SEND);
	json_decref(row);
done:
	if (rc == -1 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "out of memory");
	buf_free(&sql);
	return rc;
}

/*
 * A cancel, void or deactivate that succeeded (or was settled so) settles
 * an open request of the operation it undoes under the same id: whatever
 * that request did, it is undone now (after Amazon's activation recovery,
 * for one, the RESEND activation must never be sent again).
 */
static int
close_undone(struct journal *j, json_t *row, int64_t id)
{
	const struct kind *k;
	char how[64];
	int origin;

	if ((k = kind_of(member(row, "operation"), &origin)) == NULL || origin)
		return 0;
	snprintf(how, sizeof(how), "undone by request %lld", (long long)id);
	return close_requests(j, 0, k->origin, member(row, "request_id"), how);
}

/*
 * The question a request asks is answered already: the object it makes is
 * settled (made, undone, failed), or the object it undoes is undone.  A
 * refused repeat of an answered id is a refusal of its own.  But a made
 * object is answered only for an F2xx (this body is refused): any other
 * refusal of a repeat says nothing, and "refused" would send the operator
 * to issue again.  1, 0, -1.
 */
static int
answered(struct journal *j, json_t *row, int f2)
{
	const struct kind *k;
	const char *key, *st = NULL;
	sqlite3_stmt *q;
	int origin, r, step;

	if (object_key(row, &k, &origin, &key) == -1)
		return 0;
	/*
	 * A physical card is one object for all its activations: only what
	 * this request id did to it answers this request.
	 */
	if ((q = prep(j, "SELECT o.state, r.request_id FROM objects o LEFT "
	    "JOIN requests r ON r.id = o.last_request WHERE o.kind = ? AND "
	    "o.key = ?")) == NULL)
		return -1;
	bind_text(q, 1, k->name);
	bind_text(q, 2, key);
	if ((step = sqlite3_step(q)) == SQLITE_ROW && (!k->by_card ||
	    same_str(col_text(q, 1), member(row, "request_id"))))
		st = col_text(q, 0);
	r = step == SQLITE_ROW || step == SQLITE_DONE ? origin ?
	    !unsettled(st) && (f2 || !is(st, k->origin_state)) :
	    is(st, k->refer_state) : jfail(j, "cannot read the journal");
	unprep(j, q);
	return r;
}

int
finish_locked(struct journal *j, int64_t id, json_t *rec)
{
	struct buf sql = BUF_INIT(4096);
	const char *decided;
	sqlite3_stmt *st;
	char now[32];
	json_t *row;
	size_t i;
	int n = 0, rc = -1, ev, f2, acted, same;

	if ((ev = evidence_of(rec, &f2)) == -1) {
		snprintf(j->err, sizeof(j->err), "an outcome without evidence");
		return -1;
	}
	if ((row = row_by_id(j, id)) == NULL)
		return -1;
	/* an F2xx proves a refusal only of the body every attempt sent */
	if (f2) {
		if ((same = same_body(j, row, id)) == -1)
			goto done;
		ev = same ? EV_REFUSED_SAME : EV_REFUSED;
	}
	if ((acted = acted_before(j, member(row, "operation"), 0,
	    member(row, "request_id"), id)) == -1)
		goto done;
	if (acted && (ev == EV_REFUSED || ev == EV_NOT_SENT) &&
	    (same = answered(j, row, f2)) != 0) {
		if (same == -1)
			goto done;
		acted = 0;
	}
	decided = request_state(ev, acted);
	json_decref(row);
	row = NULL;
	journal_time(time(NULL), now);
	if (buf_adds(&sql, "UPDATE requests SET state = ?, acted = acted OR ?")
	    == -1)
		goto done;
	for (i = 0; i < NRCOLS; i++)
		if (journal_columns[i].outcome && strcmp(journal_columns[i].name, "state") != 0 &&
		    buf_printf(&sql, ", %s = coalesce(?, %s)", journal_columns[i].name,
		    journal_columns[i].name) == -1)
			goto done;
	if (buf_adds(&sql, " WHERE id = ?") == -1 ||
	    (st = prep(j, buf_str(&sql))) == NULL)
		goto done;
	bind_text(st, ++n, decided);
	sqlite3_bind_int(st, ++n, ev == EV_NO_PROOF || ev == EV_SUCCESS ||
	    ev == EV_REFUNDED);
	for (i = 0; i < NRCOLS; i++) {
		if (!journal_columns[i].outcome || strcmp(journal_columns[i].name, "state") == 0)
			continue;
		n++;
		if (strcmp(journal_columns[i].name, "updated") == 0)
			bind_text(st, n, member(rec, "time") ? member(rec, "time")
			    : now);
		else
			bind_member(st, n, rec, &journal_columns[i]);
	}
	sqlite3_bind_int64(st, ++n, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		jfail(j, "cannot record the outcome in the journal");
		unprep(j, st);
		goto done;
	}
	unprep(j, st);
	if (!is(decided, "pending") && !is(decided, "unknown") &&
	    close_requests(j, id, NULL, NULL, NULL) == -1)
		goto done;
	if ((row = row_by_id(j, id)) == NULL)
		goto done;
	rc = apply_object(j, row, id, (enum journal_evidence)ev);
	if (rc == 0 && ev == EV_SUCCESS)
		rc = close_undone(j, row, id);
	if (rc == 0)
		strlcpy(j->decided, decided, sizeof(j->decided));
done:
	json_decref(row);
	if (rc == -1 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "out of memory");
	buf_free(&sql);
	return rc < 0 ? -1 : rc;
}

static int
sq_settle(struct journal *j, const char *op, const char *rid,
    const char *state, const char *gc_id, const char *reason)
{
	sqlite3_stmt *st;
	char now[32];
	json_t *row = NULL;
	int64_t id = 0;
	int rc = -1, step;

	if (j->db == NULL) {
		snprintf(j->err, sizeof(j->err), "the journal is empty");
		return -1;
	}
	if (exec(j, "BEGIN IMMEDIATE") == -1)
		return -1;
	if ((rc = held(j, op, rid)) != 0)
		goto done;
	rc = -1;
	if ((st = prep(j, "SELECT id FROM requests WHERE operation = ? AND "
	    "request_id = ? AND open = 1 ORDER BY id DESC LIMIT 1")) == NULL)
		goto done;
	bind_text(st, 1, op);
	bind_text(st, 2, rid);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (step != SQLITE_DONE)
		id = jfail(j, "cannot read the journal");
	unprep(j, st);
	if (id == -1)
		goto done;
	if (id == 0) {
		snprintf(j->err, sizeof(j->err), "%s '%.200s' has no pending or "
		    "unknown outcome to settle", op, rid);
		goto done;
	}
	journal_time(time(NULL), now);
	if ((st = prep(j, "UPDATE requests SET state = ?, "
	    "settled = 'manual', settle_reason = ?, settled_time = ?, "
	    "updated = ?, gc_id = coalesce(?, gc_id) WHERE id = ?")) == NULL)
		goto done;
	bind_text(st, 1, state);
	bind_text(st, 2, reason);
	bind_text(st, 3, now);
	bind_text(st, 4, now);
	bind_text(st, 5, gc_id);
	sqlite3_bind_int64(st, 6, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : jfail(j, "journal");
	unprep(j, st);
	/* the same ending, and the same undo, as an outcome from the service */
	if (rc == 0 && (close_requests(j, id, NULL, NULL, NULL) == -1 ||
	    (row = row_by_id(j, id)) == NULL || apply_object(j, row, id,
	    is(state, "succeeded") ? EV_SETTLED_OK : EV_SETTLED_FAILED) < 0 ||
	    (is(state, "succeeded") && close_undone(j, row, id) == -1)))
		rc = -1;
	json_decref(row);
	if (rc == 0 && exec(j, "COMMIT") == -1)
		rc = -1;
done:
	if (rc != 0)
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return rc < 0 ? -1 : rc;
}

/* ---- reading ---- */

/* what journal prune kept of a card: its id, state and time */
static json_t *
pruned_lookup(struct journal *j, const char *op, const char *rid)
{
	const struct kind *k;
	sqlite3_stmt *st;
	json_t *r = NULL;
	int origin, step;

	if ((k = kind_of(op, &origin)) == NULL || !origin || k->by_card)
		return NULL;
	if ((st = prep(j, "SELECT state, time, updated FROM pruned WHERE "
	    "kind = ? AND key = ?")) == NULL)
		return NULL;
	bind_text(st, 1, k->name);
	bind_text(st, 2, rid);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		r = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:i}",
		    "operation", op, "request_id", rid, "state",
		    is(col_text(st, 0), k->origin_state) ? "succeeded" :
		    col_text(st, 0) ? col_text(st, 0) : "unknown",
		    "object_state", col_text(st, 0) ? col_text(st, 0) : "unknown",
		    "time", col_text(st, 1), "updated", col_text(st, 2),
		    "pruned", 1);
	else if (step != SQLITE_DONE)
		jfail(j, "cannot read the journal");
	unprep(j, st);
	return r;
}

static json_t *
sq_lookup(struct journal *j, const char *op, const char *rid)
{
	const struct kind *k;
	const char *key;
	sqlite3_stmt *st;
	json_t *r = NULL;
	int origin, step;

	j->err[0] = '\0';
	if (j->db == NULL)
		return NULL;
	if ((st = prep(j, "SELECT *, (SELECT min(time) FROM requests WHERE "
	    "operation = ?1 AND request_id = ?2) AS first FROM requests "
	    "WHERE operation = ?1 AND request_id = ?2 ORDER BY id DESC "
	    "LIMIT 1")) == NULL)
		return NULL;
	bind_text(st, 1, op);
	bind_text(st, 2, rid);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		r = row_json(st);
		json_object_set(r, "time", json_object_get(r, "first"));
		json_object_del(r, "first");
	} else if (step != SQLITE_DONE)
		jfail(j, "cannot read the journal");
	unprep(j, st);
	if (r == NULL)
		return j->err[0] ? NULL : pruned_lookup(j, op, rid);
	if (object_key(r, &k, &origin, &key) == -1)
		return r;
	/* the object's state and gc id: what cancel and void need */
	if ((st = prep(j, "SELECT state, gc_id, amount, currency FROM objects "
	    "WHERE kind = ? AND key = ?")) == NULL) {
		json_decref(r);
		return NULL;
	}
	bind_text(st, 1, k->name);
	bind_text(st, 2, key);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		static const char *const from[] = { "object_state", "gc_id",
		    "amount", "currency" };
		int i;

		/* the terms the object was settled with, not a refused
		 * repeat's */
		for (i = 0; i < 4; i++)
			if (col_text(st, i))
				json_object_set_new(r, from[i],
				    json_string(col_text(st, i)));
	} else if (step != SQLITE_DONE) {
		jfail(j, "cannot read the journal");
		json_decref(r);
		r = NULL;
	}
	unprep(j, st);
	return r;
}

/* ---- lookup by gcId ---- */

static int
sq_find_gc(struct journal *j, const char *kind, const char *gc_id,
    const char *partner, const char *environment, char *rid, size_t len)
{
	sqlite3_stmt *st;
	int n = 0, step;

	j->err[0] = '\0';
	rid[0] = '\0';
	if (j->db == NULL)
		return 0;
	/* objects_gcid makes this one index probe at a million cards */
	if ((st = prep(j, "SELECT request_id FROM objects WHERE gc_id = ? "
	    "AND kind = ? AND partner = ? AND environment = ? "
	    "ORDER BY id DESC LIMIT 2")) == NULL)
		return -1;
	bind_text(st, 1, gc_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, partner);
	bind_text(st, 4, environment);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (n++ == 0 && col_text(st, 0))
			strlcpy(rid, col_text(st, 0), len);
	if (step != SQLITE_DONE)
		n = jfail(j, "cannot read the journal");
	unprep(j, st);
	return n;
}

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
	.is_open = sq_is_open,
	.begin = sq_begin,
	.finish = sq_finish,
	.acted = sq_acted,
	.undelivered = sq_undelivered,
	.settle = sq_settle,
	.lookup = sq_lookup,
	.find_gc = sq_find_gc,
	.query = sq_query,
	.check = sq_check,
	.prune = sq_prune,
	.import_text = sq_import_text,
	/* STATE_DIR's files keep these: cmd_batch.c's and ratelimit.c's */
	.batch_lock = NULL,
	.rate_reserve = NULL,
	.rows = sq_rows,
};
