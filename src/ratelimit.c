/*
 * ratelimit.c - STATE_DIR/ratelimit-PARTNER: under flock, each process
 * reserves the next free slot and then sleeps until it.  Slots are
 * 1.01/max_rps seconds apart (1.01 s for GetAvailableFunds), so any second
 * holds at most max_rps requests of all agcod processes together, and a
 * batch runs at the limit without provoking throttling.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"

#define NS		1000000000LL
#define MARGIN_PCT	101	/* slots 1% wider than 1/max_rps */
#define STALE_NS	(120 * NS)	/* a clock step or a dead writer */

int64_t
rl_reserve(struct rl_state *s, int64_t now, int max_rps, int funds)
{
	int64_t gap = NS * MARGIN_PCT / 100 / (max_rps > 0 ? max_rps : 10);
	int64_t slot = s->next_ns;

	if (slot < now || slot - now > STALE_NS)
		slot = now;
	if (funds) {
		if (s->funds_next_ns > slot && s->funds_next_ns - now <= STALE_NS)
			slot = s->funds_next_ns;
		s->funds_next_ns = slot + NS * MARGIN_PCT / 100;
	}
	s->next_ns = slot + gap;
	return slot;
}

int
ratelimit_init(struct ratelimit *r, const char *dir, const char *partner,
    int max_rps)
{
	r->max_rps = max_rps;
	if (snprintf(r->path, sizeof(r->path), "%s/ratelimit-%s", dir,
	    partner) >= (int)sizeof(r->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

int
ratelimit_acquire(struct ratelimit *r, int funds)
{
	struct rl_state s = { 0, 0 };
	char text[64];
	int64_t slot, wait;
	ssize_t n;
	int fd, len;

	fd = open(r->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX) == -1) {
		close(fd);
		return -1;
	}
	n = pread(fd, text, sizeof(text) - 1, 0);
	if (n > 0) {
		text[n] = '\0';
		if (sscanf(text, "%" SCNd64 " %" SCNd64, &s.next_ns,
		    &s.funds_next_ns) != 2)
			s.next_ns = s.funds_next_ns = 0;
	}
	slot = rl_reserve(&s, now_ns(), r->max_rps, funds);
	len = snprintf(text, sizeof(text), "%" PRId64 " %" PRId64 "\n",
	    s.next_ns, s.funds_next_ns);
	if (pwrite(fd, text, (size_t)len, 0) != len || ftruncate(fd, len) == -1) {
		flock(fd, LOCK_UN);
		close(fd);
		return -1;
	}
	flock(fd, LOCK_UN);
	close(fd);
	while ((wait = slot - now_ns()) > 0) {
		struct timespec ts = { (time_t)(wait / NS), (long)(wait % NS) };

		if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
			break;
	}
	return 0;
}
