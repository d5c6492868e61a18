/* unit.h - table-driven unit tests: CHECK counts, the runner prints a summary */
#ifndef AGCOD_UNIT_H
#define AGCOD_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_passed, unit_failed;
extern const char *unit_data_dir;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		unit_passed++;						\
	} else {							\
		unit_failed++;						\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

#define CHECK_STR(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int ok_ = g_ && w_ && strcmp(g_, w_) == 0;			\
	CHECK(ok_, __VA_ARGS__);					\
	if (!ok_)							\
		fprintf(stderr, "  got:  [%s]\n  want: [%s]\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

void	test_sigv4(void);
void	test_amount(void);
void	test_reqid(void);
void	test_profile(void);
void	test_json(void);
void	test_api(void);
void	test_journal(void);
void	test_csv(void);
void	test_triage(void);
void	test_pins(void);
void	test_exitcode(void);
void	test_buf(void);
void	test_send(void);
void	test_classify(void);
void	test_guard(void);
void	test_msg(void);
void	test_ratelimit(void);
void	test_suggest(void);
void	test_rotation(void);
void	test_csv_edges(void);
void	test_csv_sep(void);
void	test_csv_cell(void);
void	test_attack(void);
void	test_timeutil(void);
void	test_statedir(void);

char	*unit_slurp(const char *path, size_t *len);

#endif
