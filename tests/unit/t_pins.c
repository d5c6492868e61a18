/*
 * t_pins.c - behaviours no other test pinned (issue 18): the activation
 * recovery's back-off schedule; and the display width tables pad by
 * (issue 19).
 */
#include "../../src/msg.h"
#include "../../src/send.h"
#include "unit.h"

static void
test_width(void)
{
	static const struct {
		const char *in;
		size_t cols;
	} cases[] = {
		{ "abc", 3 },
		{ "Garc\xc3\xad" "a", 6 },		/* García: 7 bytes */
		{ "\xe6\x97\xa5\xe6\x9c\xac", 4 },	/* 日本: 2 columns each */
		{ "e\xcc\x81", 1 },		/* e and a combining acute */
		{ "\xef\xbc\xa1", 2 },		/* a fullwidth A */
		{ "a\x1b" "b", 6 },		/* ESC shown as \x1B */
		{ "\xc2\x9b", 8 },		/* C1 CSI: two \xNN */
		{ "\xe2\x82", 5 },		/* a cut sequence */
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(msg_shown_width(cases[i].in, strlen(cases[i].in), 0) ==
		    cases[i].cols, "width case %zu: %zu columns, want %zu", i,
		    msg_shown_width(cases[i].in, strlen(cases[i].in), 0),
		    cases[i].cols);
}

void
test_pins(void)
{
	/* (elapsed, delay) -> next delay */
	static const struct {
		long elapsed, delay, want;
	} steps[] = {
		{ 0, 1, 1 }, { 1, 1, 1 }, { 9, 1, 1 },	/* 1 s steps for 10 s */
		{ 10, 1, 2 }, { 12, 2, 4 }, { 16, 4, 8 },	/* then doubling */
		{ 24, 8, 16 }, { 40, 16, 32 }, { 72, 32, 60 },	/* capped at 60 */
		{ 132, 60, 60 }, { 86400, 60, 60 },
	};
	/* the waits one after another, from the start of the recovery */
	static const long schedule[] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 60, 60, 60,
	};
	long elapsed = 0, delay = 1;
	size_t i;

	test_width();
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		CHECK(recover_next_delay(steps[i].elapsed, steps[i].delay) ==
		    steps[i].want, "back-off step %zu: %ld after %ld s, want %ld",
		    i, recover_next_delay(steps[i].elapsed, steps[i].delay),
		    steps[i].elapsed, steps[i].want);
	for (i = 0; i < sizeof(schedule) / sizeof(schedule[0]); i++) {
		CHECK(delay == schedule[i], "wait %zu: %ld s, want %ld", i,
		    delay, schedule[i]);
		elapsed += delay;
		delay = recover_next_delay(elapsed, delay);
	}
}
