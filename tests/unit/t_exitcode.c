/* t_exitcode.c - the one map from a library result to an exit status */
#include "../../src/agcod.h"
#include "unit.h"

void
test_exitcode(void)
{
	/* agcod(1), EXIT STATUS */
	static const struct {
		enum agcod_result	 r;
		int			 exit;
	} map[] = {
		{ AGCOD_OK, 0 },
		{ AGCOD_E_BAD_INPUT, 64 },
		{ AGCOD_E_REFUSED, 65 },
		{ AGCOD_E_SERVICE, 69 },
		{ AGCOD_E_INTERNAL, 70 },
		{ AGCOD_E_JOURNAL_IO, 74 },
		{ AGCOD_E_AGAIN, 75 },
		{ AGCOD_E_ACCOUNT, 77 },
		{ AGCOD_E_CONFIG, 78 },
		/* not a result: a bug, never success */
		{ (enum agcod_result)99, 70 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		CHECK(exit_code(map[i].r) == map[i].exit, "result %d: exit %d, "
		    "want %d", (int)map[i].r, exit_code(map[i].r), map[i].exit);
}
