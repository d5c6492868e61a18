/* t_ratelimit.c - the rate limit's slot arithmetic and its state file */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/ratelimit.h"
#include "unit.h"

/* the slot arithmetic alone: 1.01/max_rps apart, funds 1.01 s apart */
static void
slots(void)
{
	struct rl_state s = { 0, 0, 0 };
	const long long NS = 1000000000LL;
	long long t0 = 1000 * NS, a, b, f1, f2;

	a = rl_reserve(&s, t0, 10, 0);
	b = rl_reserve(&s, t0, 10, 0);
	CHECK(a == t0 && b == t0 + 101000000LL, "10 rps slots");
	f1 = rl_reserve(&s, t0, 10, 1);
	f2 = rl_reserve(&s, t0, 10, 1);
	CHECK(f1 == t0 + 202000000LL && f2 == f1 + 1010000000LL,
	    "funds 1.01 s apart");
	CHECK(rl_reserve(&s, t0 + 500 * NS, 10, 0) == t0 + 500 * NS,
	    "idle: now");
	s.next_ns = t0 + 10000 * NS;	/* a clock step backwards */
	CHECK(rl_reserve(&s, t0, 10, 0) == t0, "stale state is reset");
}

void
test_ratelimit(void)
{
	const int64_t NS = RL_NS, t0 = 1000 * RL_NS;
	struct rl_state s = { 0, 0, 0 }, before;
	struct ratelimit rl;
	char dir[] = "/tmp/agcod-rl-XXXXXX", why[256], text[64], path[300];
	int64_t wait;
	int fd;

	slots();
	/* a slot after the latest allowed: -1, nothing reserved */
	CHECK(rl_reserve_by(&s, t0, 10, RL_ANY, t0) == t0, "now is in time");
	before = s;
	CHECK(rl_reserve_by(&s, t0, 10, RL_ANY, t0 + 100000000LL) == -1,
	    "101 ms away is after 100 ms");
	CHECK(memcmp(&s, &before, sizeof(s)) == 0, "late: state untouched");
	CHECK(rl_reserve_by(&s, t0, 10, RL_ANY, t0 + 101000000LL) ==
	    t0 + 101000000LL, "exactly the latest is in time");

	/* funds: its own second, and a slot of the general rate */
	memset(&s, 0, sizeof(s));
	CHECK(rl_reserve(&s, t0, 10, RL_FUNDS) == t0, "first funds now");
	CHECK(rl_reserve(&s, t0, 10, RL_ANY) == t0 + 101000000LL,
	    "funds took a general slot");
	CHECK(rl_reserve(&s, t0, 10, RL_FUNDS) == t0 + 1010000000LL,
	    "second funds 1.01 s after the first");

	/* a funds slot from before a reboot is reset too */
	memset(&s, 0, sizeof(s));
	s.funds_next_ns = t0 + 1000000 * NS;
	CHECK(rl_reserve(&s, t0, 10, RL_FUNDS) == t0, "stale funds reset");
	s.next_ns = t0 + RL_STALE_NS - NS;	/* a long, legitimate queue */
	CHECK(rl_reserve(&s, t0, 10, RL_ANY) == t0 + RL_STALE_NS - NS,
	    "a queue within the window is kept");

	/* this process alone: no file */
	CHECK(ratelimit_init(&rl, NULL, "", 10) == 0 && rl.path[0] == '\0',
	    "local rate");
	CHECK(ratelimit_acquire(&rl, RL_ANY, rl_now() + NS, &wait, why,
	    sizeof(why)) == RL_GO && wait == 0, "local: first goes at once");
	CHECK(ratelimit_acquire(&rl, RL_ANY, rl_now(), &wait, why,
	    sizeof(why)) == RL_LATE && wait > 90000000LL && wait <= 101000000LL,
	    "local: no waiting past latest (%lld)", (long long)wait);

	/* the state file: written in CLOCK_MONOTONIC ns; refused unless regular */
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	CHECK(ratelimit_init(&rl, dir, "P1", 10) == 0, "init");
	CHECK(ratelimit_acquire(&rl, RL_ANY, rl_now() + NS, &wait, why,
	    sizeof(why)) == RL_GO, "file: go (%s)", why);
	snprintf(path, sizeof(path), "%s/ratelimit-P1", dir);
	fd = open(path, O_RDONLY);
	memset(text, 0, sizeof(text));
	CHECK(fd != -1 && read(fd, text, sizeof(text) - 1) > 0, "file written");
	if (fd != -1)
		close(fd);
	{
		long long next = strtoll(text, NULL, 10);

		CHECK(next > rl_now() && next < rl_now() + NS,
		    "next slot on the monotonic clock: %s", text);
	}
	unlink(path);
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	CHECK(ratelimit_acquire(&rl, RL_ANY, rl_now() + NS, &wait, why,
	    sizeof(why)) == RL_ERROR && strstr(why, "not a regular file"),
	    "fifo refused: %s", why);
	unlink(path);
	CHECK(symlink("/dev/null", path) == 0, "symlink");
	CHECK(ratelimit_acquire(&rl, RL_ANY, rl_now() + NS, &wait, why,
	    sizeof(why)) == RL_ERROR, "symlink refused");
	unlink(path);
	rmdir(dir);
}
