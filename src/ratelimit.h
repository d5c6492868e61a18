/* ratelimit.h - one request rate shared by every agcod process of a partner */
#ifndef AGCOD_RATELIMIT_H
#define AGCOD_RATELIMIT_H

#include <limits.h>
#include <stdint.h>

struct ratelimit {
	char	path[PATH_MAX];
	int	max_rps;
};

/*
 * The pure core (GCRA without burst): given the shared state (the earliest
 * time the next request and the next GetAvailableFunds may go) and now,
 * return the slot this request takes and advance the state.
 */
struct rl_state {
	int64_t	next_ns;
	int64_t	funds_next_ns;
};

int64_t	rl_reserve(struct rl_state *, int64_t now_ns, int max_rps, int funds);

int	ratelimit_init(struct ratelimit *, const char *state_dir,
	    const char *partner, int max_rps);
/* wait for this process's slot; -1 if the state file cannot be used */
int	ratelimit_acquire(struct ratelimit *, int funds);

#endif
