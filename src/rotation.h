/* rotation.h - the access key's age and Amazon's rotation schedule */
#ifndef AGCOD_ROTATION_H
#define AGCOD_ROTATION_H

#include <time.h>

#include "profile.h"

#define ROTATE_DAYS	180	/* Amazon: rotate access keys every 180 days */
#define REMIND_DAYS	150	/* with a reminder 30 days before */

/* whole days from `created` to `now` (both UTC); -1 when not recorded */
long	key_age_days(time_t created, time_t now);
/* "2026-10-28": the day the key should be rotated by */
void	key_rotate_by(time_t created, char out[16]);
/*
 * From REMIND_DAYS on, warn on stderr that the profile's key is due for
 * rotation, at most once a (UTC) day per profile: the day of the last
 * warning is kept in STATE_DIR/key-reminder-PROFILE.  Never blocks, never
 * fails the command.
 */
void	rotation_remind(const struct profile *, const char *state_dir,
	    time_t now);

#endif
