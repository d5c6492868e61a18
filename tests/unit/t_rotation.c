/* t_rotation.c - the key rotation schedule: key age and rotate-by date */
#include "../../src/rotation.h"
#include "unit.h"

void
test_rotation(void)
{
	char by[16];

	/* 2026-05-01T00:00:00Z */
	CHECK(key_age_days(0, 1800000000) == -1, "not recorded");
	CHECK(key_age_days(1777593600, 1777593600) == 0, "day 0");
	CHECK(key_age_days(1777593600, 1777593600 + 86399) == 0, "still day 0");
	CHECK(key_age_days(1777593600, 1777593600 + 150 * 86400) == 150,
	    "day 150");
	CHECK(key_age_days(1777593600, 1777593600 - 86400) == 0,
	    "created tomorrow: 0");
	key_rotate_by(1777593600, by);
	CHECK_STR(by, "2026-10-28", "180 days after 2026-05-01");
}
