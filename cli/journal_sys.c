/*
 * The seam between cli/journal.c and the journal itself: the only file that
 * calls libsystemd, so that tests replace these two functions with
 * -Wl,--wrap (a wrap catches calls between object files only).
 */
#include "cli/journal.h"

#include <sys/stat.h>
/* CODE_FILE/CODE_LINE would name this seam, for every record: say nothing. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "common/banned.h"

bool journal_sys_available(void)
{
	struct stat st;

	/* stat(), not a connect(): journald's socket is a datagram socket; a send says the rest. */
	return stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
}

int journal_sys_sendv(const struct iovec *iov, int n)
{
	/* sd_journal_sendv() returns 0 or a negative errno, as we do. */
	return sd_journal_sendv(iov, n);
}
