/* ratelimit.h - one request rate shared by every agcod process of a partner */
#ifndef AGCOD_RATELIMIT_H
#define AGCOD_RATELIMIT_H

#include <limits.h>
#include <stdint.h>

/*
 * Rate classes: every request takes a slot of RL_ANY (max_rps a second);
 * an operation of another class also takes one of its own (RL_FUNDS:
 * GetAvailableFunds, one a second).  An operation's class is in ops[].
 */
enum rl_class {
	RL_ANY = 0,
	RL_FUNDS = 1,
};

/*
 * The pure core (GCRA without burst): given the shared state (the earliest
 * time, on CLOCK_MONOTONIC, the next request and the next GetAvailableFunds
 * may go) and now, return the slot this request takes and advance the
 * state.  A slot more than RL_STALE_NS ahead (a file from before a reboot)
 * is reset to now.
 */
struct rl_state {
	int64_t	next_ns;
	int64_t	funds_next_ns;
	int64_t	owner;		/* the process that took the last slot */
};

#define RL_NS		1000000000LL
#define RL_STALE_NS	(120 * RL_NS)

int64_t	rl_reserve(struct rl_state *, int64_t now_ns, int max_rps, int cls);
/* the same, but -1 and the state untouched when the slot is after latest */
int64_t	rl_reserve_by(struct rl_state *, int64_t now_ns, int max_rps, int cls,
	    int64_t latest_ns);
/* CLOCK_MONOTONIC in ns: one clock for every process, and it never steps */
int64_t	rl_now(void);

struct ratelimit {
	char		path[PATH_MAX];	/* "" : this process's own rate */
	int		max_rps;
	struct rl_state	local;
	/*
	 * Set: the slots are a shared store's (the PostgreSQL journal's,
	 * for every host), not path's: 0 taken with *wait_ns until it, 1
	 * more than max_wait_ns away (nothing taken; *wait_ns how far), -1
	 * with why.  This file still does the waiting.
	 */
	int		(*shared)(void *arg, int cls, int max_rps,
			    int64_t max_wait_ns, int64_t *wait_ns, char *why,
			    size_t whylen);
	void		*shared_arg;
};

/* state_dir NULL: a rate of this process alone */
int	ratelimit_init(struct ratelimit *, const char *state_dir,
	    const char *partner, int max_rps);

enum rl_result {
	RL_GO = 0,		/* waited for the slot: send now */
	RL_LATE = 1,		/* the slot is after latest: nothing reserved */
	RL_ERROR = -1,		/* the state file cannot be used (message in why) */
};

/*
 * Reserve a slot no later than latest_ns (rl_now() time) and sleep until
 * it.  *slot_wait_ns is the wait (or, for RL_LATE, the wait it would have
 * been).  The state file is opened without following a symlink or
 * blocking, and refused unless a regular file of this user.
 */
enum rl_result	ratelimit_acquire(struct ratelimit *, int cls, int64_t latest_ns,
		    int64_t *slot_wait_ns, char *why, size_t whylen);
/*
 * ratelimit_acquire as a pacer for the request path (struct api_env's
 * pace, with a struct ratelimit as arg): a slot no more than max_wait_ms
 * away.  0 after waiting for it; 1 when it is later (*wait_ms: how far
 * away it is), nothing reserved; -1 with why.
 */
int		ratelimit_pace(void *rl, int cls, long max_wait_ms,
		    long *wait_ms, char *why, size_t whylen);

#endif
