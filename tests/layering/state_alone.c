/*
 * state_alone.c - the journal's rule links and runs without SQLite or any
 * store: built from journal_state.o and ops.o alone ('make layering').
 */
#include <stdio.h>
#include <string.h>

#include "journal.h"

int
main(void)
{
	const char *s = journal_next_state("CreateGiftCard", NULL, EV_SEND, 0);
	const char *k = journal_kind("CreateGiftCard");

	if (s == NULL || strcmp(s, "pending") != 0 || k == NULL ||
	    strcmp(k, "card") != 0 || journal_table(0, 0) == NULL) {
		fprintf(stderr, "state_alone: the rule answers wrongly\n");
		return 1;
	}
	printf("layering: the state machine runs without SQLite\n");
	return 0;
}
