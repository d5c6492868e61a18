/*
 * child.c - what runs inside each simulated agcod process: agcod's own
 * main() (compiled as agcod_main), with its clock, sleeps, randomness,
 * transfer and journal commits routed to the parent by link-time wrapping
 * (-Wl,--wrap=...), and SQLite's files behind a fault-injecting VFS.  No
 * line of src/ knows about it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "../../src/http.h"
#include "../../src/journal.h"
#include "../../src/pq.h"
#include "sim.h"

struct shared *sim_shared;

const char *const disk_fault_name[D_NFAULTS] = {
	"none", "disk-full", "eio-write", "eio-read", "eio-sync", "busy",
	"full-after-pending", "pg-reset", "pg-reset-after-commit",
	"pg-serialization", "pg-deadlock", "pg-failover",
};

static int in_child;		/* the wrappers are live */
static int cfd = -1;		/* the socket to the parent */
static struct child_plan plan;
static uint64_t rng;
static int nwrites, nreads, nsyncs, nlocks, npending, full;
static int nstmts, ncommits, ntx, intx, pgfired;

int	agcod_main(int, char **);

static uint64_t
next(void)
{
	/* splitmix64 */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

ssize_t	__real_write(int, const void *, size_t);

static void
xwrite(const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = __real_write(cfd, c, n);
		if (w <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			dprintf(2, "agcod-sim child: write to the parent: %s\n",
			    strerror(errno));
			_exit(111);	/* the parent is gone */
		}
		c += w;
		n -= (size_t)w;
	}
}

static void
xread(void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(cfd, c, n);
		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			dprintf(2, "agcod-sim child: read from the parent: %s\n",
			    r == 0 ? "EOF" : strerror(errno));
			_exit(111);
		}
		c += r;
		n -= (size_t)r;
	}
}

/* send a message, wait for the parent's turn */
static void
yield(int type, int arg, int64_t n, const void *payload, uint32_t len,
    struct reply *rep)
{
	struct msg m = { type, arg, n, len };
	struct reply r;

	xwrite(&m, sizeof(m));
	if (len)
		xwrite(payload, len);
	xread(&r, sizeof(r));
	if (rep)
		*rep = r;
	else if (r.len) {
		char skip[256];

		while (r.len) {
			uint32_t k = r.len > sizeof(skip) ? sizeof(skip) : r.len;

			xread(skip, k);
			r.len -= k;
		}
	}
}

/* ---- the wrapped functions ---- */

int	__real_clock_gettime(clockid_t, struct timespec *);
time_t	__real_time(time_t *);
int	__real_gettimeofday(struct timeval *, void *);
int	__real_nanosleep(const struct timespec *, struct timespec *);
uint32_t __real_arc4random_uniform(uint32_t);
int64_t	__real_journal_begin(struct journal *, json_t *);
int	__real_journal_finish(struct journal *, int64_t, json_t *);
int	__real_http_post(struct http *, const char *,
	    const struct http_header_out *, size_t, const char *, size_t,
	    const struct http_gate *, struct http_response *);
ssize_t	__real_write(int, const void *, size_t);
ssize_t	__real_pwrite(int, const void *, size_t, off_t);
int	__real_ftruncate(int, off_t);

int	__wrap_clock_gettime(clockid_t, struct timespec *);
time_t	__wrap_time(time_t *);
int	__wrap_gettimeofday(struct timeval *, void *);
int	__wrap_nanosleep(const struct timespec *, struct timespec *);
uint32_t __wrap_arc4random_uniform(uint32_t);
int64_t	__wrap_journal_begin(struct journal *, json_t *);
int	__wrap_journal_finish(struct journal *, int64_t, json_t *);
int	__wrap_http_post(struct http *, const char *,
	    const struct http_header_out *, size_t, const char *, size_t,
	    const struct http_gate *, struct http_response *);
ssize_t	__wrap_write(int, const void *, size_t);
ssize_t	__wrap_pwrite(int, const void *, size_t, off_t);
int	__wrap_ftruncate(int, off_t);

int
__wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	int64_t ns;

	if (!in_child)
		return __real_clock_gettime(id, ts);
	ns = sim_shared->now_ns;
	if (id == CLOCK_REALTIME)
		ns += sim_shared->epoch_s * 1000000000LL;
	else
		ns += 1000LL * 1000000000LL;	/* a monotonic clock's base */
	ts->tv_sec = (time_t)(ns / 1000000000LL);
	ts->tv_nsec = (long)(ns % 1000000000LL);
	return 0;
}

time_t
__wrap_time(time_t *t)
{
	time_t v;

	if (!in_child)
		return __real_time(t);
	v = (time_t)(sim_shared->epoch_s + sim_shared->now_ns / 1000000000LL);
	if (t)
		*t = v;
	return v;
}

int
__wrap_gettimeofday(struct timeval *tv, void *tz)
{
	int64_t ns;

	if (!in_child)
		return __real_gettimeofday(tv, tz);
	ns = sim_shared->now_ns;
	tv->tv_sec = (time_t)(sim_shared->epoch_s + ns / 1000000000LL);
	tv->tv_usec = (suseconds_t)(ns % 1000000000LL / 1000);
	return 0;
}

int
__wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (!in_child)
		return __real_nanosleep(req, rem);
	yield(M_SLEEP, 0, (int64_t)req->tv_sec * 1000000000LL + req->tv_nsec,
	    NULL, 0, NULL);
	if (rem)
		memset(rem, 0, sizeof(*rem));
	return 0;
}

uint32_t
__wrap_arc4random_uniform(uint32_t n)
{
	if (!in_child)
		return __real_arc4random_uniform(n);
	return n ? (uint32_t)(next() % n) : 0;
}

int64_t
__wrap_journal_begin(struct journal *j, json_t *rec)
{
	int64_t id;

	yield(M_POINT, P_BEFORE_PENDING, 0, NULL, 0, NULL);
	id = __real_journal_begin(j, rec);
	if (plan.disk == D_FULL_PENDING && npending++ == plan.disk_at % 4)
		full = 1;	/* the pending record took the last space */
	yield(M_POINT, P_AFTER_PENDING, 0, NULL, 0, NULL);
	return id;
}

int
__wrap_journal_finish(struct journal *j, int64_t id, json_t *rec)
{
	int rc;

	yield(M_POINT, P_BEFORE_OUTCOME, 0, NULL, 0, NULL);
	rc = __real_journal_finish(j, id, rec);
	return rc;
}

int
__wrap_http_post(struct http *h, const char *url,
    const struct http_header_out *hd, size_t nh, const char *body, size_t len,
    const struct http_gate *gate, struct http_response *resp)
{
	struct reply r;
	size_t ul = strlen(url);
	char *p, buf[4096];
	uint32_t left;

	(void)h;
	(void)hd;
	(void)nh;
	/* the connection is up (always, here): the gate may still hold it */
	if (gate && gate->fn && gate->fn(gate->arg) != 0)
		return HTTP_HELD;
	if ((p = malloc(ul + 1 + len)) == NULL)
		_exit(112);
	memcpy(p, url, ul + 1);
	memcpy(p + ul + 1, body, len);
	yield(M_POST, 0, 0, p, (uint32_t)(ul + 1 + len), &r);
	free(p);
	left = r.len;
	while (left) {
		uint32_t k = left > sizeof(buf) ? sizeof(buf) : left;

		xread(buf, k);
		if (buf_add(&resp->body, buf, k) == -1)
			_exit(113);
		left -= k;
	}
	resp->status = r.status;
	snprintf(resp->error, sizeof(resp->error), "%s", r.error);
	if (r.http_result == HTTP_OK)
		snprintf(resp->request_id, sizeof(resp->request_id),
		    "sim-%08x", (unsigned)(next() & 0xffffffff));
	resp->elapsed_ms = 20;
	resp->connects = 0;
	return r.http_result;
}

/* a full disk stops agcod's own files too (the rate-limit state, --out) */
static int
disk_full(void)
{
	return in_child && ((plan.disk == D_FULL && nwrites >= plan.disk_at) ||
	    full);
}

ssize_t
__wrap_write(int fd, const void *p, size_t n)
{
	if (fd > 2 && disk_full()) {
		errno = ENOSPC;
		return -1;
	}
	return __real_write(fd, p, n);
}

ssize_t
__wrap_pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (fd > 2 && disk_full()) {
		errno = ENOSPC;
		return -1;
	}
	return __real_pwrite(fd, p, n, off);
}

int
__wrap_ftruncate(int fd, off_t len)
{
	if (disk_full()) {
		errno = ENOSPC;
		return -1;
	}
	return __real_ftruncate(fd, len);
}

/* ---- the VFS shim: SQLite's unix VFS with faults ---- */

struct sfile {
	sqlite3_file	 base;
	sqlite3_file	*real;	/* follows this struct */
};

static sqlite3_vfs *unixvfs;
static sqlite3_vfs simvfs;
static sqlite3_io_methods simio;

#define REAL(f)	(((struct sfile *)(f))->real)

static int
s_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) :
	    SQLITE_OK;

	return rc;
}

static int
s_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	if (plan.disk == D_EIO_READ && nreads++ == plan.disk_at)
		return SQLITE_IOERR_READ;
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int
s_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	int k = nwrites++;

	if ((plan.disk == D_FULL && k >= plan.disk_at) || full)
		return SQLITE_FULL;
	if (plan.disk == D_EIO_WRITE && k == plan.disk_at)
		return SQLITE_IOERR_WRITE;
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int
s_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}

static int
s_sync(sqlite3_file *f, int flags)
{
	int k = nsyncs++;

	if (plan.sync_points)
		yield(M_POINT, P_SYNC, 0, NULL, 0, NULL);
	if (plan.disk == D_EIO_SYNC && k == plan.disk_at)
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
s_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}

static int
s_lock(sqlite3_file *f, int l)
{
	int k = nlocks++;

	if (plan.disk == D_BUSY && k >= plan.disk_at && k < plan.disk_at + 10)
		return SQLITE_BUSY;
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
s_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
s_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
s_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
s_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
s_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
s_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}

static int
s_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
s_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
s_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
s_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int
s_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int
s_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	struct sfile *s = (struct sfile *)f;
	int rc;

	(void)v;
	s->real = (sqlite3_file *)(s + 1);
	rc = unixvfs->xOpen(unixvfs, name, s->real, flags, out);
	f->pMethods = s->real->pMethods ? &simio : NULL;
	return rc;
}

static int
s_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	yield(M_SLEEP, 0, (int64_t)us * 1000, NULL, 0, NULL);
	return us;
}

static int
s_now64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	/* Julian day in ms */
	*out = (sqlite3_int64)(210866760000000LL + sim_shared->epoch_s * 1000 +
	    sim_shared->now_ns / 1000000);
	return SQLITE_OK;
}

static int
s_now(sqlite3_vfs *v, double *out)
{
	sqlite3_int64 ms;

	s_now64(v, &ms);
	*out = (double)ms / 86400000.0;
	return SQLITE_OK;
}

static void
vfs_install(void)
{
	unixvfs = sqlite3_vfs_find(NULL);
	simvfs = *unixvfs;
	simvfs.zName = "agcod-sim";
	simvfs.szOsFile = (int)sizeof(struct sfile) + unixvfs->szOsFile;
	simvfs.xOpen = s_open;
	simvfs.xSleep = s_sleep;
	simvfs.xCurrentTime = s_now;
	simvfs.xCurrentTimeInt64 = s_now64;
	simio.iVersion = 3;
	simio.xClose = s_close;
	simio.xRead = s_read;
	simio.xWrite = s_write;
	simio.xTruncate = s_truncate;
	simio.xSync = s_sync;
	simio.xFileSize = s_size;
	simio.xLock = s_lock;
	simio.xUnlock = s_unlock;
	simio.xCheckReservedLock = s_check;
	simio.xFileControl = s_fcntl;
	simio.xSectorSize = s_sector;
	simio.xDeviceCharacteristics = s_devchar;
	simio.xShmMap = s_shmmap;
	simio.xShmLock = s_shmlock;
	simio.xShmBarrier = s_shmbarrier;
	simio.xShmUnmap = s_shmunmap;
	simio.xFetch = s_fetch;
	simio.xUnfetch = s_unfetch;
	sqlite3_vfs_register(&simvfs, 1);
}

/*
 * ---- the PostgreSQL store's faults: libpq's calls of journal_pg.c ----
 *
 * The server is real; what the wrappers change is what the connection
 * does.  A reset is a real one (the socket shut down: libpq sees the
 * server gone, the server sees the client gone and rolls back); a
 * serialization failure or deadlock is the server's own error (a DO block
 * raising that SQLSTATE in place of the statement, aborting the
 * transaction as the real one does).  A wait for the journal's advisory
 * lock becomes pg_try_advisory_xact_lock and virtual sleeps, as SQLite's
 * busy handler: a run blocked in the server could never be interleaved.
 */

PGresult *__real_PQexec(PGconn *, const char *);
PGresult *__real_PQexecParams(PGconn *, const char *, int, const Oid *,
	    const char *const *, const int *, const int *, int);
int	__real_PQsendQueryParams(PGconn *, const char *, int, const Oid *,
	    const char *const *, const int *, const int *, int);
PGresult *__wrap_PQexec(PGconn *, const char *);
PGresult *__wrap_PQexecParams(PGconn *, const char *, int, const Oid *,
	    const char *const *, const int *, const int *, int);
int	__wrap_PQsendQueryParams(PGconn *, const char *, int, const Oid *,
	    const char *const *, const int *, const int *, int);

#define XACT_LOCK	"SELECT pg_advisory_xact_lock("
#define SQLSTATE_DO	"DO $$BEGIN RAISE EXCEPTION '%s' USING ERRCODE = " \
	"'%s'; END$$"

static void
pg_reset(PGconn *c)
{
	int fd = PQsocket(c);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void
pg_note(PGconn *c)
{
	if (c && PQstatus(c) == CONNECTION_OK && plan.slot >= 0 &&
	    plan.slot < SIM_MAXSLOTS)
		sim_shared->pg_backend[plan.slot] = PQbackendPID(c);
}

static int
word(const char *sql, const char *w)
{
	return strncasecmp(sql, w, strlen(w)) == 0;
}

/* the advisory lock, waited for in virtual time */
static PGresult *
pg_xact_lock(PGconn *c, const char *sql)
{
	char try[256];
	PGresult *r;

	snprintf(try, sizeof(try), "SELECT pg_try_advisory_xact_lock(%s",
	    sql + strlen(XACT_LOCK));
	for (;;) {
		r = __real_PQexec(c, try);
		if (PQresultStatus(r) != PGRES_TUPLES_OK ||
		    strcmp(PQgetvalue(r, 0, 0), "t") == 0)
			return r;
		PQclear(r);
		yield(M_SLEEP, 0, 1000000, NULL, 0, NULL);
	}
}

/*
 * Before a statement: the crash point mid-commit, a reset, or the
 * server's serialization failure in its place (*r set: that is the
 * statement's result).  1: the statement is a COMMIT that is to be reset
 * once it arrived.
 */
static int
pg_before(PGconn *c, const char *sql, PGresult **r)
{
	int commit = word(sql, "COMMIT"), end = commit ||
	    word(sql, "ROLLBACK"), k = nstmts++, tx = intx && !end;
	char q[160];

	*r = NULL;
	if (word(sql, "BEGIN"))
		intx = 1;
	else if (end)
		intx = 0;
	if (commit && plan.sync_points)
		yield(M_POINT, P_SYNC, 0, NULL, 0, NULL);
	if (pgfired)
		return 0;
	switch (plan.disk) {
	case D_PG_RESET:
		if (k == plan.disk_at) {
			pgfired = 1;
			pg_reset(c);
		}
		break;
	case D_PG_RESET_COMMIT:
		if (commit && ncommits++ == plan.disk_at % 4) {
			pgfired = 1;
			return 1;
		}
		break;
	case D_PG_SERIAL:
	case D_PG_DEADLOCK:
		if (tx && ntx++ == plan.disk_at % 8) {
			pgfired = 1;
			snprintf(q, sizeof(q), SQLSTATE_DO, plan.disk ==
			    D_PG_SERIAL ? "could not serialize access due to "
			    "concurrent update" : "deadlock detected",
			    plan.disk == D_PG_SERIAL ? "40001" : "40P01");
			*r = __real_PQexec(c, q);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* after a COMMIT that arrived: the connection lost before its answer */
static PGresult *
pg_after(PGconn *c, const char *sql, PGresult *r, int reset)
{
	if (reset) {
		PQclear(r);
		pg_reset(c);
		r = __real_PQexec(c, sql);	/* libpq's own error now */
	}
	pg_note(c);
	return r;
}

PGresult *
__wrap_PQexec(PGconn *c, const char *sql)
{
	PGresult *r;
	int reset;

	if (!in_child || !plan.pg)
		return __real_PQexec(c, sql);
	if ((reset = pg_before(c, sql, &r)) == 0 && r)
		return r;
	if (word(sql, XACT_LOCK))
		r = pg_xact_lock(c, sql);
	else
		r = __real_PQexec(c, sql);
	return pg_after(c, sql, r, reset);
}

PGresult *
__wrap_PQexecParams(PGconn *c, const char *sql, int n, const Oid *types,
    const char *const *v, const int *lens, const int *fmts, int rfmt)
{
	PGresult *r;
	int reset;

	if (!in_child || !plan.pg)
		return __real_PQexecParams(c, sql, n, types, v, lens, fmts,
		    rfmt);
	if ((reset = pg_before(c, sql, &r)) == 0 && r)
		return r;
	if (n == 0 && word(sql, XACT_LOCK))
		r = pg_xact_lock(c, sql);
	else
		r = __real_PQexecParams(c, sql, n, types, v, lens, fmts, rfmt);
	return pg_after(c, sql, r, reset);
}

int
__wrap_PQsendQueryParams(PGconn *c, const char *sql, int n, const Oid *types,
    const char *const *v, const int *lens, const int *fmts, int rfmt)
{
	PGresult *r;

	if (in_child && plan.pg && pg_before(c, sql, &r) == 0 && r) {
		/* the failure is the query's: sent, it gets its own */
		PQclear(r);
	}
	return __real_PQsendQueryParams(c, sql, n, types, v, lens, fmts, rfmt);
}

/* ---- the process ---- */

static int
redirect(int fd, const char *path)
{
	int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (o == -1 || dup2(o, fd) == -1)
		return -1;
	close(o);
	return 0;
}

int
child_run(int fd, const struct child_plan *p, char **argv, int argc,
    const char *out, const char *err)
{
	int rc;

	cfd = fd;
	plan = *p;
	rng = p->seed;
	if (redirect(STDIN_FILENO, "/dev/null") == -1 ||
	    redirect(STDOUT_FILENO, out) == -1 ||
	    redirect(STDERR_FILENO, err) == -1)
		_exit(114);
	vfs_install();
	/* journal_pg.c calls libpq through pq.c's table: the wrappers above
	 * see those calls only when it is filled from this link
	 * (-DAGCOD_PQ_LINKED), not by dlopen, which --wrap cannot reach */
	if (plan.pg && (pq_load(NULL, 0) == -1 ||
	    libpq.PQexec != __wrap_PQexec ||
	    libpq.PQexecParams != __wrap_PQexecParams ||
	    libpq.PQsendQueryParams != __wrap_PQsendQueryParams)) {
		fprintf(stderr, "agcod-sim: libpq's calls are not wrapped: "
		    "link src/pq.c built with -DAGCOD_PQ_LINKED\n");
		_exit(115);
	}
	in_child = 1;
	yield(M_HELLO, 0, 0, NULL, 0, NULL);
	rc = agcod_main(argc, argv);
	{
		struct msg m = { M_EXIT, rc, 0, 0 };

		xwrite(&m, sizeof(m));	/* no answer: the parent reaps it */
	}
	_exit(0);
}
