/*
 * exitcode.c - the one place a library result becomes what the user sees
 * of it as an exit status (agcod(1), EXIT STATUS).  The library has said
 * why on stderr already; every command's status passes here.
 */
#include "agcod.h"

int
exit_code(enum agcod_result r)
{
	switch (r) {
	case AGCOD_OK:
		return EX_OK;
	case AGCOD_E_BAD_INPUT:
		return EX_USAGE;
	case AGCOD_E_REFUSED:
		return EX_DATAERR;
	case AGCOD_E_SERVICE:
		return EX_UNAVAILABLE;
	case AGCOD_E_INTERNAL:
		return EX_SOFTWARE;
	case AGCOD_E_JOURNAL_IO:
		return EX_IOERR;
	case AGCOD_E_AGAIN:
		return EX_TEMPFAIL;
	case AGCOD_E_ACCOUNT:
		return EX_NOPERM;
	case AGCOD_E_CONFIG:
		return EX_CONFIG;
	}
	return EX_SOFTWARE;	/* not a result: a bug */
}
