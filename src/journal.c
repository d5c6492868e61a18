/*
 * journal.c - the write-ahead journal of requests, as commands see it:
 * journal_open picks the store (journal_store.h; SQLite's is the one
 * today, journal_sqlite.c) and every journal_* call goes to it.  Here
 * also what no store owns: journal times, and whether the process that
 * wrote a pending record still runs.  The rule that moves money objects
 * is journal_state.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "json.h"
#include "journal_state.h"
#include "journal_store.h"
#include "journal_txn.h"
#include "timeutil.h"

void
journal_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
journal_parse_time(const char *s, time_t now, char out[32])
{
	time_t t;
	char *end;
	long n;

	if (time_parse_iso(s, &t) == 0 || time_parse_day(s, &t) == 0) {
		journal_time(t, out);
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || n < 0 || n > 100000 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'm': n *= 60; break;
	case 'h': n *= 3600; break;
	case 'd': n *= 86400; break;
	default: return -1;
	}
	journal_time(now - n, out);
	return 0;
}

/*
 * A process is told by its pid and its start time (clock ticks after boot,
 * /proc/PID/stat's 22nd field): a pid the system gave to another process
 * since has another start time.  0 when it cannot be read, -1 for a
 * process that has ended but is not reaped yet (a zombie).
 */
static long long
proc_start(long long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* after the command's closing parenthesis: field 3 onwards */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return -1;	/* killed, its parent has not waited yet */
	for (i = 3, p++; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &start) != 1)
		return 0;
	return (long long)start;
}

/* the process that wrote a pending record still runs */
static int
proc_alive(long long pid, long long start)
{
	long long now;

	if (pid <= 0)
		return 0;
	if ((now = proc_start(pid)) == -1)
		return 0;
	if (now == 0)
		return kill((pid_t)pid, 0) == 0 || errno == EPERM;
	return start == 0 || now == start;
}

/*
 * When process pid started, in seconds since the epoch (boot time plus
 * its start in clock ticks), or -1 when it cannot be told.
 */
static time_t
proc_started_at(long long pid)
{
	char line[256];
	long long btime = -1, start;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;

	if ((start = proc_start(pid)) <= 0 || hz <= 0 ||
	    (f = fopen("/proc/stat", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(f);
	return btime < 0 ? -1 : (time_t)(btime + start / hz);
}

int
journal_row_live(struct journal *j, json_t *row)
{
	json_t *pid = json_object_get(row, "pid");
	const char *t = json_str(row, "time");
	long long p, start;
	time_t at, written;

	if (!is(json_str(row, "state"), "pending") ||
	    !json_is_integer(pid))
		return 0;
	p = json_integer_value(pid);
	start = json_integer_value(json_object_get(row, "pid_start"));
	if (p == j->owner_pid && start == j->owner_start)
		return 0;	/* this process's own: not in flight now */
	/*
	 * Without the writer's start time (a record of agcod 0.2, or /proc
	 * unreadable then), a process that started after the record was
	 * written cannot be its writer: the pid was given to another since.
	 */
	if (start == 0 && t && time_parse_iso(t, &written) == 0 &&
	    (at = proc_started_at(p)) != -1 && at > written + 2)
		return 0;
	return (j->alive ? j->alive : proc_alive)(p, start);
}

/* a handle never opened (zeroed) is a closed SQLite journal */
static const struct journal_store *
store(const struct journal *j)
{
	return j->ops ? j->ops : &journal_sqlite;
}

/* state_dir's journal.db (where a command's journal is, the profile's
 * journal = or AGCOD_JOURNAL, is ctx.c's to say: journal_open_at) */
enum agcod_result
journal_open(struct journal *j, const char *dir, enum journal_mode mode)
{
	return journal_open_at(j, dir, NULL, mode);
}

enum agcod_result
journal_open_at(struct journal *j, const char *dir, const char *where,
    enum journal_mode mode)
{
	memset(j, 0, sizeof(*j));
	j->owner_pid = (long long)getpid();
	j->owner_start = proc_start(j->owner_pid);
	j->alive = proc_alive;
	if (where && *where) {
		j->ops = &journal_pg;
		return j->ops->open(j, where, mode);
	}
	j->ops = &journal_sqlite;
	return j->ops->open(j, dir, mode);
}

void
journal_close(struct journal *j)
{
	store(j)->close(j);
}

void
journal_leave(struct journal *j)
{
	(store(j)->leave ? store(j)->leave : store(j)->close)(j);
}

int
journal_is_open(const struct journal *j)
{
	return store(j)->is_open(j);
}

int64_t
journal_begin(struct journal *j, json_t *pending)
{
	return txn_begin(j, pending);
}

int
journal_finish(struct journal *j, int64_t id, json_t *outcome)
{
	return txn_finish(j, id, outcome);
}

int
journal_acted(struct journal *j, int64_t id)
{
	return txn_acted(j, id);
}

int
journal_undelivered(struct journal *j, int64_t id)
{
	return txn_undelivered(j, id);
}

int
journal_settle(struct journal *j, const char *op, const char *rid,
    const char *state, const char *gc_id, const char *reason)
{
	return txn_settle(j, op, rid, state, gc_id, reason);
}

int
journal_card_status(struct journal *j, const char *op, const char *card,
    int made, int64_t asked)
{
	return txn_card_status(j, op, card, made, asked);
}

int64_t
journal_card_asked(struct journal *j, const char *op, const char *card)
{
	return txn_card_asked(j, op, card);
}

json_t *
journal_lookup(struct journal *j, const char *op, const char *rid)
{
	return txn_lookup(j, op, rid);
}

int
journal_find_gc(struct journal *j, const char *kind, const char *gc_id,
    const char *partner, const char *environment, char *rid, size_t len)
{
	return txn_find_gc(j, kind, gc_id, partner, environment, rid,
	    len);
}

int
journal_query(struct journal *j, const struct journal_query *q,
    int (*fn)(json_t *, void *), void *arg)
{
	return txn_query(j, q, fn, arg);
}

int
journal_check(struct journal *j, void (*fn)(const char *, void *), void *arg)
{
	return txn_check(j, fn, arg);
}

long
journal_prune(struct journal *j, const char *before, int dry_run)
{
	return txn_prune(j, before, dry_run);
}

int
journal_import_text(struct journal *j, const char *text, size_t len,
    long *records, long *bad, int *torn)
{
	return store(j)->import_text(j, text, len, records, bad, torn);
}

int
journal_batch_lock(struct journal *j, const char *batch, char *why,
    size_t len)
{
	if (store(j)->batch_lock == NULL)
		return JOURNAL_LOCK_LOCAL;
	return store(j)->batch_lock(j, batch, why, len);
}

int
journal_rate_reserve(struct journal *j, const char *partner,
    const char *environment, int cls, int max_rps, int64_t max_wait_ns,
    int64_t *wait_ns)
{
	*wait_ns = 0;
	if (store(j)->rate_reserve == NULL)
		return JOURNAL_LOCK_LOCAL;
	return store(j)->rate_reserve(j, partner, environment, cls, max_rps,
	    max_wait_ns, wait_ns);
}
