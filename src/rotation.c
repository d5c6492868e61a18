/*
 * rotation.c - Amazon asks partners to rotate their Incentives API access
 * keys every 180 days, with a reminder 30 days before, and to check the new
 * key (agcod verify) after switching and after deactivating the old one.
 * A profile records when its key was created (key_created); agcod reminds.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "msg.h"
#include "rotation.h"

long
key_age_days(time_t created, time_t now)
{
	if (created == 0)
		return -1;
	return now < created ? 0 : (long)((now - created) / 86400);
}

void
key_rotate_by(time_t created, char out[16])
{
	time_t t = created + (time_t)ROTATE_DAYS * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* STATE_DIR/key-reminder-NAME, the profile name kept to [A-Za-z0-9._-] */
static int
reminder_path(const char *state_dir, const char *profile, char *out,
    size_t n)
{
	char name[64];
	size_t i;
	int r;

	for (i = 0; i < sizeof(name) - 1 && profile[i]; i++)
		name[i] = isalnum((unsigned char)profile[i]) ||
		    strchr("._-", profile[i]) ? profile[i] : '_';
	name[i] = '\0';
	if (name[0] == '.')
		name[0] = '_';
	r = snprintf(out, n, "%s/key-reminder-%s", state_dir, name);
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

void
rotation_remind(const struct profile *p, const char *state_dir, time_t now)
{
	char path[PATH_MAX], today[16], last[16], by[16];
	long age = key_age_days(p->key_created, now);
	struct tm tm;
	ssize_t n;
	char why[200];
	int fd = -1;

	if (age < REMIND_DAYS || msg_verbosity < 0)
		return;	/* -q: no warnings, and none remembered as given */
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	/*
	 * state_file_open: never through a symbolic link, and a FIFO put
	 * there cannot hold agcod up.  Without the file, warn every time.
	 */
	if (state_dir_make(state_dir, why, sizeof(why)) == 0 &&
	    reminder_path(state_dir, p->name, path, sizeof(path)) == 0 &&
	    (fd = state_file_open(path, O_RDWR | O_CREAT)) != -1) {
		if ((n = pread(fd, last, sizeof(last) - 1, 0)) >= 10) {
			last[n] = '\0';
			if (strncmp(last, today, 10) == 0) {
				close(fd);
				return;	/* said so today already */
			}
		}
	}
	key_rotate_by(p->key_created, by);
	if (age >= ROTATE_DAYS)
		msg_warn("the access key '%s' of profile '%s' is %ld days old: "
		    "Amazon asks for a new key every %d days; rotate it now "
		    "(see 'man agcod', KEY ROTATION)", p->access_key_id,
		    p->name, age, ROTATE_DAYS);
	else
		msg_warn("the access key '%s' of profile '%s' is %ld days old: "
		    "rotate it by %s, as Amazon asks every %d days (see "
		    "'man agcod', KEY ROTATION)", p->access_key_id, p->name,
		    age, by, ROTATE_DAYS);
	if (fd != -1) {
		if (ftruncate(fd, 0) == 0 &&
		    pwrite(fd, today, strlen(today), 0) == -1)
			msg_verbose("cannot remember the key reminder in '%s': "
			    "%s", path, strerror(errno));
		close(fd);
	}
}
