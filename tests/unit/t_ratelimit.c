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

/* a shared store's answer, scripted (struct ratelimit's shared) */
struct store_say {
	int	 rc;
	int64_t	 wait_ns;
	int	 calls, cls;
	int64_t	 max_wait_ns;
};

static int
store_answer(void *arg, int cls, int max_rps, int64_t max_wait_ns,
    int64_t *wait_ns, char *why, size_t n)
{
	struct store_say *a = arg;

	(void)max_rps;
	a->calls++;
	a->cls = cls;
	a->max_wait_ns = max_wait_ns;
	*wait_ns = a->wait_ns;
	if (a->rc == -1)
		snprintf(why, n, "the store says no");
	return a->rc;
}

/* the store's slots: ratelimit.c waits, and only for what it was told */
static void
shared(void)
{
	static const struct {
		int		rc;
		int64_t		wait_ns;
		enum rl_result	want;
	} cases[] = {
		{ 0, 0, RL_GO },
		{ 0, 20000000LL, RL_GO },		/* 20 ms: waited */
		{ 1, 5000000000LL, RL_LATE },		/* too far: not waited */
		{ -1, 0, RL_ERROR },
	};
	struct ratelimit rl;
	struct store_say a;
	char why[64];
	int64_t wait, t0, took;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.rc = cases[i].rc;
		a.wait_ns = cases[i].wait_ns;
		ratelimit_init(&rl, NULL, "", 10);
		rl.shared = store_answer;
		rl.shared_arg = &a;
		why[0] = '\0';
		t0 = rl_now();
		CHECK(ratelimit_acquire(&rl, RL_FUNDS, t0 + RL_NS, &wait, why,
		    sizeof(why)) == cases[i].want, "shared %zu", i);
		took = rl_now() - t0;
		CHECK(a.calls == 1 && a.cls == RL_FUNDS && a.max_wait_ns > 0 &&
		    a.max_wait_ns <= RL_NS, "shared %zu: asked once", i);
		CHECK(wait == cases[i].wait_ns, "shared %zu: the store's wait",
		    i);
		CHECK(cases[i].want != RL_GO || took >= cases[i].wait_ns,
		    "shared %zu: slept until the slot", i);
		CHECK(cases[i].want != RL_LATE || took < cases[i].wait_ns,
		    "shared %zu: no sleep for a slot too far", i);
		CHECK(cases[i].want != RL_ERROR ||
		    strcmp(why, "the store says no") == 0,
		    "shared %zu: why", i);
		CHECK(rl.local.next_ns == 0, "shared %zu: no local slot", i);
	}
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
	shared();
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
