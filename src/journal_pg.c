/*
 * journal_pg.c - the PostgreSQL store (journal_store.h): one journal shared
 * by several hosts, chosen by AGCOD_JOURNAL (a libpq connection URI, a
 * key=value string, or a service name of ~/.pg_service.conf).
 *
 * This file, so far: the connection (a non-local server only with
 * sslmode=verify-full; libpq's reason, never a password, when it fails),
 * the session (synchronous_commit on: a commit is durable before the
 * request leaves), and the schema with its versioned migrations (the
 * `meta` table; an older agcod refuses a newer schema), the same tables
 * and unique partial indexes as SQLite's: one open record per (operation,
 * request id), one live object per external reference of a partner and
 * environment, the pruned table.  Recording requests on it is not built
 * yet: every operation that would read or write records refuses, so
 * nothing is sent with a journal that cannot keep it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <libpq-fe.h>

#include "journal.h"
#include "journal_store.h"

#define CONNECT_TIMEOUT_MS	15000

struct pg {
	PGconn	*conn;
};

/* the schema, version by version: migrations[i] takes it from i to i + 1 */
static const char pg_schema_v1[] =
    "CREATE TABLE requests ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " time TEXT NOT NULL, updated TEXT, state TEXT NOT NULL,"
    " operation TEXT NOT NULL, request_id TEXT NOT NULL,"
    " profile TEXT, partner TEXT, environment TEXT, endpoint TEXT,"
    " amount TEXT, currency TEXT, gc_id TEXT, card_number TEXT,"
    " account TEXT, account_type TEXT, source_id TEXT,"
    " external_reference TEXT, program_id TEXT, product_type TEXT,"
    " batch TEXT, amazon_request_id TEXT, http_status BIGINT,"
    " error_code TEXT, error_type TEXT, error TEXT, diagnosis TEXT,"
    " clock_skew_s BIGINT, attempts BIGINT, delivered BIGINT,"
    " settled TEXT, settle_reason TEXT, settled_time TEXT,"
    " pid BIGINT, open INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX requests_id ON requests (operation, request_id);"
    "CREATE INDEX requests_open ON requests (open) WHERE open = 1;"
    "CREATE INDEX requests_time ON requests (time);"
    "CREATE INDEX requests_extref ON requests (external_reference)"
    " WHERE external_reference IS NOT NULL;"
    "CREATE TABLE objects ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " kind TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,"
    " time TEXT NOT NULL, updated TEXT NOT NULL, operation TEXT,"
    " request_id TEXT, profile TEXT, partner TEXT, environment TEXT,"
    " endpoint TEXT, amount TEXT, currency TEXT, gc_id TEXT,"
    " card_number TEXT, account TEXT, account_type TEXT, source_id TEXT,"
    " external_reference TEXT, program_id TEXT, product_type TEXT,"
    " batch TEXT, error_code TEXT, error_type TEXT,"
    " last_request BIGINT, UNIQUE (kind, key));"
    "CREATE INDEX objects_rid ON objects (request_id);"
    "CREATE INDEX objects_time ON objects (time);"
    "CREATE INDEX objects_extref ON objects (external_reference)"
    " WHERE external_reference IS NOT NULL;";

static const char pg_schema_v2[] =
    "ALTER TABLE requests ADD COLUMN acted INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE requests ADD COLUMN body_sha TEXT;"
    "ALTER TABLE requests ADD COLUMN pid_start BIGINT;"
    "ALTER TABLE requests ADD COLUMN reserved INTEGER;"
    "ALTER TABLE objects ADD COLUMN reserved INTEGER;"
    "CREATE UNIQUE INDEX requests_one_open ON requests"
    " (operation, request_id) WHERE open = 1;"
    "CREATE UNIQUE INDEX objects_live_ref ON objects"
    " (partner, environment, external_reference) WHERE reserved = 1 AND"
    " state IN ('pending', 'unknown', 'issued');"
    "CREATE TABLE pruned (kind TEXT NOT NULL, key TEXT NOT NULL,"
    " operation TEXT, state TEXT NOT NULL, time TEXT, updated TEXT,"
    " UNIQUE (kind, key));"
    "CREATE INDEX objects_gcid ON objects (gc_id) WHERE gc_id IS NOT NULL;";

static const char *const pg_migrations[] = { pg_schema_v1, pg_schema_v2 };
#define PG_SCHEMA_VERSION \
	((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))
_Static_assert(PG_SCHEMA_VERSION == JOURNAL_SCHEMA,
    "journal.h says the version");

static PGconn *
conn_of(const struct journal *j)
{
	const struct pg *p = j->impl;

	return p ? p->conn : NULL;
}

/*
 * libpq's message as one line, with the password (if the connection
 * string or PGPASSWORD gave one) masked wherever it appears.
 */
static void
pg_reason(struct journal *j, const char *what, const char *msg,
    const char *password)
{
	char line[sizeof(j->err)], *p, *q;
	size_t n;

	strlcpy(line, msg && *msg ? msg : "no reason given", sizeof(line));
	for (p = line; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	while ((n = strlen(line)) > 0 && line[n - 1] == ' ')
		line[n - 1] = '\0';
	if (password && *password)
		while ((p = strstr(line, password)) != NULL) {
			q = p + strlen(password);
			memmove(p + 3, q, strlen(q) + 1);
			memcpy(p, "***", 3);
		}
	snprintf(j->err, sizeof(j->err), "%s: %s", what, line);
}

static int
pg_fail(struct journal *j, const char *what)
{
	PGconn *c = conn_of(j);

	pg_reason(j, what, c ? PQerrorMessage(c) : "not connected",
	    c ? PQpass(c) : NULL);
	return -1;
}

/* a host libpq reaches without a network: a socket, or loopback */
static int
host_local(const char *h)
{
	if (h == NULL || *h == '\0' || *h == '/' || *h == '@')
		return 1;
	return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strncmp(h, "127.", 4) == 0;
}

/* every host of a comma-separated list is local */
static int
hosts_local(const char *list)
{
	char one[256];
	const char *p = list, *e;
	size_t n;

	if (list == NULL || *list == '\0')
		return 1;
	for (;;) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof(one))
			return 0;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!host_local(one))
			return 0;
		if (e == NULL)
			return 1;
		p = e + 1;
	}
}

/*
 * A server over a network only with sslmode=verify-full, its certificate
 * and its name checked.  opts: the connection string's options; a value
 * it does not set is libpq's from the environment (PGHOST, PGSSLMODE).
 */
static int
check_options(struct journal *j, PQconninfoOption *opts, int env)
{
	PQconninfoOption *o;
	const char *host = NULL, *hostaddr = NULL, *sslmode = NULL;

	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "sslmode") == 0)
			sslmode = o->val;
	}
	if (env && (host == NULL || *host == '\0'))
		host = getenv("PGHOST");
	if (env && (hostaddr == NULL || *hostaddr == '\0'))
		hostaddr = getenv("PGHOSTADDR");
	if (env && (sslmode == NULL || *sslmode == '\0'))
		sslmode = getenv("PGSSLMODE");
	if ((!hosts_local(host) || !hosts_local(hostaddr)) &&
	    (sslmode == NULL || strcmp(sslmode, "verify-full") != 0)) {
		snprintf(j->err, sizeof(j->err), "the PostgreSQL journal's "
		    "server '%.200s' is not on this machine: add "
		    "sslmode=verify-full to the journal's connection string",
		    host && *host ? host : hostaddr);
		j->config = 1;
		return -1;
	}
	return 0;
}

/* the connection string as given, before anything is resolved */
static int
check_string(struct journal *j, const char *where)
{
	PQconninfoOption *opts;
	char *why = NULL;
	int rc;

	if ((opts = PQconninfoParse(where, &why)) == NULL) {
		pg_reason(j, "the journal's connection string is not one "
		    "libpq reads", why ? why : "out of memory", NULL);
		j->config = 1;
		PQfreemem(why);
		return -1;
	}
	rc = check_options(j, opts, 1);
	PQconninfoFree(opts);
	return rc;
}

/* a connection started, not yet spoken on: with the service file's too */
static int
check_started(struct journal *j, PGconn *c)
{
	PQconninfoOption *opts = PQconninfo(c);
	int rc;

	if (opts == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	rc = check_options(j, opts, 0);
	PQconninfoFree(opts);
	return rc;
}

/* connect, bounded: the options checked before a byte is sent */
static PGconn *
pg_connect(struct journal *j, const char *where)
{
	static const char *const keys[] = {
		"application_name", "dbname", NULL
	};
	char service[300];
	const char *vals[3];
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct pollfd pfd;
	PGconn *c;
	int waited = 0;

	/* a bare name is a service of the service file */
	if (strchr(where, '=') == NULL && strstr(where, "://") == NULL) {
		snprintf(service, sizeof(service), "service=%s", where);
		where = service;
	}
	if (check_string(j, where) == -1)
		return NULL;
	vals[0] = "agcod";
	vals[1] = where;
	vals[2] = NULL;
	if ((c = PQconnectStartParams(keys, vals, 1)) == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return NULL;
	}
	if (PQstatus(c) == CONNECTION_BAD) {
		pg_reason(j, "cannot connect to the PostgreSQL journal",
		    PQerrorMessage(c), PQpass(c));
		PQfinish(c);
		return NULL;
	}
	if (check_started(j, c) == -1) {
		PQfinish(c);
		return NULL;
	}
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		pfd.fd = PQsocket(c);
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		if (pfd.fd < 0)
			break;
		if (poll(&pfd, 1, 250) == 0) {
			if ((waited += 250) >= CONNECT_TIMEOUT_MS) {
				snprintf(j->err, sizeof(j->err), "cannot "
				    "connect to the PostgreSQL journal: no "
				    "answer in %d s", CONNECT_TIMEOUT_MS / 1000);
				PQfinish(c);
				return NULL;
			}
			continue;
		}
		st = PQconnectPoll(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		pg_reason(j, "cannot connect to the PostgreSQL journal",
		    PQerrorMessage(c), PQpass(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* run sql (no parameters, no rows wanted) */
static int
pg_exec(struct journal *j, const char *sql)
{
	PGresult *r = PQexec(conn_of(j), sql);
	int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK);

	PQclear(r);
	return ok ? 0 : pg_fail(j, "the PostgreSQL journal");
}

/* the schema's version in meta: 0 for a new database, -1 on error */
static int
pg_schema_version(struct journal *j)
{
	PGresult *r;
	int v = 0;

	r = PQexec(conn_of(j), "SELECT value FROM meta WHERE key = 'schema'");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return pg_fail(j, "the PostgreSQL journal");
	}
	if (PQntuples(r) == 1)
		v = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/*
 * One process migrates at a time (a transaction-level advisory lock); a
 * schema already there is only read.
 */
static int
pg_migrate(struct journal *j)
{
	char sql[96];
	int v, i;

	if (pg_exec(j, "BEGIN") == -1)
		return -1;
	if (pg_exec(j, "SELECT pg_advisory_xact_lock(hashtext("
	    "'agcod journal schema'))") == -1 ||
	    pg_exec(j, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY,"
	    " value TEXT)") == -1 || (v = pg_schema_version(j)) == -1)
		goto fail;
	if (v > PG_SCHEMA_VERSION) {
		PQclear(PQexec(conn_of(j), "ROLLBACK"));
		snprintf(j->err, sizeof(j->err), "the journal has schema "
		    "version %d, newer than this agcod knows (%d): use a newer "
		    "agcod", v, PG_SCHEMA_VERSION);
		return -1;
	}
	for (i = v; i < PG_SCHEMA_VERSION; i++)
		if (pg_exec(j, pg_migrations[i]) == -1)
			goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO meta VALUES ('schema', '%d') "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	    PG_SCHEMA_VERSION);
	if ((v < PG_SCHEMA_VERSION && pg_exec(j, sql) == -1) ||
	    pg_exec(j, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
	PQclear(PQexec(conn_of(j), "ROLLBACK"));
	return -1;
}

static void
pg_close(struct journal *j)
{
	struct pg *p = j->impl;

	if (p) {
		PQfinish(p->conn);
		free(p);
	}
	j->impl = NULL;
}

static int
pg_open(struct journal *j, const char *where, enum journal_mode mode)
{
	char keep[sizeof(j->err)];
	struct pg *p;

	(void)mode;	/* the database is there: READ migrates it too */
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	if ((p->conn = pg_connect(j, where)) == NULL) {
		free(p);
		return -1;
	}
	j->impl = p;
	/* a commit is durable (on the server's disk) before it returns */
	if (pg_exec(j, "SET synchronous_commit = on") == -1 ||
	    pg_exec(j, "SET client_min_messages = warning") == -1 ||
	    pg_migrate(j) == -1) {
		memcpy(keep, j->err, sizeof(keep));
		pg_close(j);
		memcpy(j->err, keep, sizeof(keep));
		return -1;
	}
	return 0;
}

static int
pg_is_open(const struct journal *j)
{
	return conn_of(j) != NULL;
}

/* ---- what is not built yet: refused, so nothing is sent unrecorded ---- */

static int
not_yet(struct journal *j)
{
	snprintf(j->err, sizeof(j->err), "the PostgreSQL journal does not "
	    "record requests yet: unset AGCOD_JOURNAL to use the state "
	    "directory's");
	return -1;
}

static int64_t
pg_begin(struct journal *j, json_t *pending)
{
	(void)pending;
	return not_yet(j);
}

static int
pg_finish(struct journal *j, int64_t id, json_t *outcome)
{
	(void)id;
	(void)outcome;
	return not_yet(j);
}

static int
pg_id(struct journal *j, int64_t id)
{
	(void)id;
	return not_yet(j);
}

static int
pg_settle(struct journal *j, const char *op, const char *rid,
    const char *state, const char *gc_id, const char *reason)
{
	(void)op;
	(void)rid;
	(void)state;
	(void)gc_id;
	(void)reason;
	return not_yet(j);
}

static json_t *
pg_lookup(struct journal *j, const char *op, const char *rid)
{
	(void)op;
	(void)rid;
	not_yet(j);
	return NULL;
}

static int
pg_find_gc(struct journal *j, const char *kind, const char *gc_id,
    const char *partner, const char *environment, char *rid, size_t len)
{
	(void)kind;
	(void)gc_id;
	(void)partner;
	(void)environment;
	(void)rid;
	(void)len;
	return not_yet(j);
}

static int
pg_query(struct journal *j, const struct journal_query *q,
    int (*fn)(json_t *, void *), void *arg)
{
	(void)q;
	(void)fn;
	(void)arg;
	return not_yet(j);
}

static int
pg_check(struct journal *j, void (*fn)(const char *, void *), void *arg)
{
	(void)fn;
	(void)arg;
	return not_yet(j);
}

static long
pg_prune(struct journal *j, const char *before, int dry_run)
{
	(void)before;
	(void)dry_run;
	return not_yet(j);
}

static int
pg_import_text(struct journal *j, const char *text, size_t len,
    long *records, long *bad, int *torn)
{
	(void)text;
	(void)len;
	(void)records;
	(void)bad;
	(void)torn;
	return not_yet(j);
}

const struct journal_store journal_pg = {
	.name = "postgresql",
	.open = pg_open,
	.migrate = pg_migrate,
	.close = pg_close,
	.is_open = pg_is_open,
	.begin = pg_begin,
	.finish = pg_finish,
	.acted = pg_id,
	.undelivered = pg_id,
	.settle = pg_settle,
	.lookup = pg_lookup,
	.find_gc = pg_find_gc,
	.query = pg_query,
	.check = pg_check,
	.prune = pg_prune,
	.import_text = pg_import_text,
	.batch_lock = NULL,
	.rate_reserve = NULL,
};
