/*
 * ratelimit.c - STATE_DIR/ratelimit-PARTNER: under flock, each process
 * reserves the next free slot and then sleeps until it, once its
 * connection is up and just before its request goes out (http.c's gate;
 * the wait is not part of --timeout), so the spacing is the spacing at the
 * service, whatever a new connection's TLS handshake costs.
 * Slots are 1.01/max_rps seconds apart (1.01 s for GetAvailableFunds), so
 * any second holds at most max_rps requests of all agcod processes
 * together, and a batch runs at the limit without provoking throttling.
 *
 * The file holds two numbers, "NEXT FUNDS_NEXT\n", in nanoseconds of
 * CLOCK_MONOTONIC: system-wide, and it does not step with the wall clock.
 * It restarts at boot, so a slot far ahead is a file from before a reboot
 * (or from an older agcod, which wrote wall-clock times) and is reset.
 * With a PostgreSQL journal the slots are its rate table's, for every
 * host (r->shared, journal_rate_reserve), and only the waiting is here.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "statedir.h"

#define MARGIN_PCT	101	/* slots 1% wider than 1/max_rps */
#define LOCK_WAIT_NS	(2 * RL_NS)	/* holders keep the lock microseconds */
/*
 * A slot that follows another live process's slot, not yet due, starts
 * this much later: that process may be descheduled between its slot and
 * the wire, and the 1% margin alone would let 11 requests into a second.
 * A batch's own slots, and processes that run one after another, pay
 * nothing.
 */
#define HANDOFF_NS	(20 * 1000000LL)

int64_t
rl_reserve_by(struct rl_state *s, int64_t now, int max_rps, int cls,
    int64_t latest)
{
	int64_t gap = RL_NS * MARGIN_PCT / 100 / (max_rps > 0 ? max_rps : 10);
	int64_t slot = s->next_ns;

	if (slot < now || slot - now > RL_STALE_NS)
		slot = now;
	if (cls == RL_FUNDS && s->funds_next_ns > slot &&
	    s->funds_next_ns - now <= RL_STALE_NS)
		slot = s->funds_next_ns;
	if (slot > latest)
		return -1;
	if (cls == RL_FUNDS)
		s->funds_next_ns = slot + RL_NS * MARGIN_PCT / 100;
	s->next_ns = slot + gap;
	return slot;
}

int64_t
rl_reserve(struct rl_state *s, int64_t now, int max_rps, int cls)
{
	return rl_reserve_by(s, now, max_rps, cls, INT64_MAX);
}

int64_t
rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * RL_NS + ts.tv_nsec;
}

int
ratelimit_init(struct ratelimit *r, const char *dir, const char *partner,
    int max_rps)
{
	memset(r, 0, sizeof(*r));
	r->max_rps = max_rps;
	if (dir == NULL)
		return 0;
	if (snprintf(r->path, sizeof(r->path), "%s/ratelimit-%s", dir,
	    partner) >= (int)sizeof(r->path)) {
		r->path[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void
sleep_ns(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / RL_NS), (long)(ns % RL_NS) };

	nanosleep(&ts, NULL);
}

static void
sleep_until(int64_t slot)
{
	int64_t now;

	while ((now = rl_now()) < slot)
		sleep_ns(slot - now);
}

/* the open, locked state file, or -1 with why */
static int
open_locked(const char *path, char *why, size_t n)
{
	int64_t give_up = rl_now() + LOCK_WAIT_NS;
	int fd;

	if ((fd = state_file_open(path, O_RDWR | O_CREAT)) == -1) {
		if (errno == ELOOP || errno == EPERM || errno == EINVAL)
			snprintf(why, n, "the rate limit file '%s' is not a "
			    "regular file of this user; remove it", path);
		else
			snprintf(why, n, "cannot open the rate limit file "
			    "'%s': %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    rl_now() > give_up) {
			snprintf(why, n, "cannot lock the rate limit file "
			    "'%s': %s", path, errno == EWOULDBLOCK ?
			    "held by another process for over 2 s" :
			    strerror(errno));
			close(fd);
			return -1;
		}
		sleep_ns(RL_NS / 1000);
	}
	return fd;
}

static int
load(int fd, struct rl_state *s)
{
	char text[96];
	ssize_t n;

	s->next_ns = s->funds_next_ns = s->owner = 0;
	if ((n = pread(fd, text, sizeof(text) - 1, 0)) == -1)
		return -1;
	text[n] = '\0';
	/* the owner is optional: files written before it have two fields */
	if (n > 0 && sscanf(text, "%" SCNd64 " %" SCNd64 " %" SCNd64,
	    &s->next_ns, &s->funds_next_ns, &s->owner) < 2)
		s->next_ns = s->funds_next_ns = s->owner = 0;	/* torn */
	return 0;
}

static int
store(int fd, const struct rl_state *s)
{
	char text[96];
	int len;

	len = snprintf(text, sizeof(text), "%" PRId64 " %" PRId64 " %" PRId64
	    "\n", s->next_ns, s->funds_next_ns, s->owner);
	if (len < 0 || len >= (int)sizeof(text) ||
	    pwrite(fd, text, (size_t)len, 0) != len ||
	    ftruncate(fd, len) == -1)
		return -1;
	return 0;
}

enum rl_result
ratelimit_acquire(struct ratelimit *r, int cls, int64_t latest,
    int64_t *wait, char *why, size_t n)
{
	struct rl_state s = { 0, 0, 0 };
	int64_t slot, now;
	int fd = -1;

	*wait = 0;
	if (r->shared) {
		now = rl_now();
		switch (r->shared(r->shared_arg, cls, r->max_rps, latest - now,
		    wait, why, n)) {
		case 0:
			break;
		case 1:
			return RL_LATE;
		default:
			return RL_ERROR;
		}
		/* the wait counts from the store's answer */
		sleep_until(rl_now() + *wait);
		return RL_GO;
	}
	if (r->path[0] == '\0') {
		now = rl_now();
		slot = rl_reserve_by(&r->local, now, r->max_rps, cls, latest);
	} else {
		if ((fd = open_locked(r->path, why, n)) == -1)
			return RL_ERROR;
		if (load(fd, &s) == -1) {
			snprintf(why, n, "cannot read the rate limit file "
			    "'%s': %s", r->path, strerror(errno));
			close(fd);
			return RL_ERROR;
		}
		now = rl_now();
		if (s.owner > 0 && s.owner != (int64_t)getpid() &&
		    s.next_ns > now && s.next_ns - now <= RL_STALE_NS &&
		    kill((pid_t)s.owner, 0) == 0)
			s.next_ns += HANDOFF_NS;
		slot = rl_reserve_by(&s, now, r->max_rps, cls, latest);
		s.owner = (int64_t)getpid();
		if (slot != -1 && store(fd, &s) == -1) {
			snprintf(why, n, "cannot write the rate limit file "
			    "'%s': %s", r->path, strerror(errno));
			close(fd);
			return RL_ERROR;
		}
		close(fd);	/* and its lock */
	}
	if (slot == -1) {
		/* how long it would have been */
		struct rl_state probe = r->path[0] ? s : r->local;

		*wait = rl_reserve(&probe, now, r->max_rps, cls) - now;
		return RL_LATE;
	}
	*wait = slot - now;
	sleep_until(slot);
	return RL_GO;
}

int
ratelimit_pace(void *arg, int cls, long max_wait_ms, long *wait_ms,
    char *why, size_t n)
{
	int64_t wait = 0;
	enum rl_result rc;

	rc = ratelimit_acquire(arg, cls, rl_now() + (int64_t)max_wait_ms *
	    1000000, &wait, why, n);
	*wait_ms = (long)(wait / 1000000);
	return rc == RL_GO ? 0 : rc == RL_LATE ? 1 : -1;
}
