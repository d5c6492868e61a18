/*
 * sim.h - the deterministic simulation of the money path (issue 18).
 *
 * One parent (the scheduler, the simulated service and the invariants) and,
 * for every agcod run of a history, one forked child running agcod's real
 * main().  A child runs only while the parent waits for it: at each yield
 * point (the pending commit, the transfer, a sleep, an fsync) it sends a
 * message and blocks until the parent answers, so exactly one agcod process
 * runs at a time and the order is the seeded scheduler's.  Time is virtual.
 */
#ifndef AGCOD_SIM_H
#define AGCOD_SIM_H

#include <stdint.h>
#include <stddef.h>

/* child -> parent */
enum msg_type {
	M_HELLO = 1,	/* started, before main */
	M_POINT,	/* a yield point: arg names it */
	M_SLEEP,	/* n: nanoseconds of virtual sleep */
	M_POST,		/* payload: url NUL body */
	M_EXIT,		/* arg: main's return value */
};

/* yield points (M_POINT's arg) */
enum point {
	P_BEFORE_PENDING = 1,	/* before journal_begin */
	P_AFTER_PENDING,	/* after it committed */
	P_BEFORE_OUTCOME,	/* before journal_finish */
	P_AFTER_OUTCOME,
	P_SYNC,			/* an fsync of the journal, mid-commit */
	P_NPOINTS
};

struct msg {
	int32_t		type;
	int32_t		arg;
	int64_t		n;
	uint32_t	len;
};

/* parent -> child, answering M_POST (any other message gets r_kind GO) */
enum reply_kind { R_GO = 0, R_HTTP };

struct reply {
	int32_t		kind;
	int32_t		http_result;	/* enum http_result */
	int32_t		status;
	uint32_t	len;		/* body bytes that follow */
	char		error[128];	/* the transfer's error text */
};

/* what the parent shares with every child (MAP_SHARED) */
#define SIM_MAXSLOTS	64

struct shared {
	int64_t		now_ns;		/* virtual time since the epoch below */
	int64_t		epoch_s;	/* wall clock at now_ns == 0 */
	/* each run's PostgreSQL backend (its last session's pid), by slot */
	int32_t		pg_backend[SIM_MAXSLOTS];
};

/* the disk faults a child injects by itself (its own seeded stream) */
enum disk_fault {
	D_NONE,
	D_FULL,		/* ENOSPC from the k-th write on, journal and files */
	D_EIO_WRITE,	/* one EIO on the k-th write */
	D_EIO_READ,	/* one EIO on the k-th read */
	D_EIO_SYNC,	/* one EIO on the k-th fsync */
	D_BUSY,		/* SQLITE_BUSY on the k-th to k+9th lock */
	D_FULL_PENDING,	/* ENOSPC from the (k mod 4)-th pending commit on */
	/* the PostgreSQL store's faults (--store postgresql), libpq wrapped */
	D_PG_RESET,	/* the connection reset before the k-th statement */
	D_PG_RESET_COMMIT,	/* reset after the (k mod 4)-th COMMIT arrived */
	D_PG_SERIAL,	/* 40001 for the (k mod 8)-th statement in a transaction */
	D_PG_DEADLOCK,	/* 40P01 likewise */
	D_PG_FAILOVER,	/* every backend of the database terminated at the
			 * run's (k mod 12)-th step (the scheduler does it) */
	D_NFAULTS
};
#define D_NSQLITE	D_PG_RESET	/* the SQLite store's: the ones before */

struct child_plan {
	uint64_t	seed;		/* its PRNG (request ids, jitter) */
	int		disk;		/* enum disk_fault */
	int		disk_at;	/* k */
	int		sync_points;	/* yield at fsyncs (and COMMITs) */
	int		slot;		/* its index in the history's runs */
	int		pg;		/* the journal is in PostgreSQL */
};

/* child.c */
extern struct shared *sim_shared;
int	child_run(int fd, const struct child_plan *, char **argv, int argc,
	    const char *out, const char *err);
extern const char *const disk_fault_name[D_NFAULTS];

/* ledger.c: the simulated AGCOD */
enum fault {
	F_NONE,
	F_DROP_BEFORE,		/* connection lost, nothing done */
	F_DROP_AFTER,		/* done, then the connection lost */
	F_BROKEN,		/* done, a 200 with half its body */
	F_THROTTLE,		/* 400 ThrottlingException */
	F_DENIED,		/* 403 */
	F_F100,
	F_F500,
	F_5XX_BEFORE,		/* 503, nothing done */
	F_5XX_AFTER,		/* done, then an HTML 502 */
	F_TIMEOUT_BEFORE,
	F_TIMEOUT_AFTER,
	F_RESEND,		/* F400 RESEND, nothing done */
	F_PROXY4XX,		/* done, then a proxy's HTML 413 */
	F_NFAULTS
};
extern const char *const fault_name[F_NFAULTS];

struct card {
	char	 rid[64];
	char	 gcid[24];
	char	 claim[24];
	char	 extref[112];
	int64_t	 amount;	/* minor units */
	int64_t	 created_ns;
	int	 refunded;
	int	 created_step;	/* the scheduler step that made it */
	int	 by_proc;	/* the process whose request made it */
};

struct load {
	char	 rid[64];
	char	 account[64];
	int64_t	 amount;
	int	 voided;
	int	 created_step;
	int	 by_proc;
};

/* a physical card's activation */
struct activation {
	char	 card[24];
	char	 rid[64];	/* the request id that activated it */
	int64_t	 amount;
	int	 active;
	int	 created_step;
	int	 by_proc;
};

#define MAXRESENT	256

struct ledger {
	struct card	*cards;
	size_t		 ncards, cap;
	struct load	*loads;
	size_t		 nloads, lcap;
	struct activation *acts;
	size_t		 nacts, acap;
	/* activation ids answered RESEND: deactivating one is a no-op */
	char		 resent[MAXRESENT][64];
	size_t		 nresent;
	/* activation ids whose deactivation succeeded: never to act again */
	char		 undone[MAXRESENT][64];
	size_t		 nundone;
	char		 undone_resent[8][64];	/* sent again, */
	int		 undone_resent_by[8];	/* by which process */
	size_t		 nundone_resent;
	int64_t		 funds;	/* minor units */
	long		 requests;	/* every request that reached it */
	long		 card_seq;	/* Activate/Deactivate successes */
	char		 card_last[24];	/* the card of the last one */
	long		 seq;
};

struct answer {
	int	 http_result;
	int	 status;
	char	 body[2048];
	char	 error[128];
};

void	ledger_reset(struct ledger *);
void	ledger_free(struct ledger *);
struct card *ledger_card(struct ledger *, const char *rid);
struct load *ledger_load(struct ledger *, const char *rid);
struct activation *ledger_activation(struct ledger *, const char *card);
/* one request: the fault decides whether it acts and what comes back */
void	ledger_handle(struct ledger *, const char *url, const char *body,
	    enum fault, int64_t now_ns, int step, int proc, struct answer *);

#endif
