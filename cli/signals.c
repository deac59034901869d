/*
 * Interruption: SIGINT and SIGTERM only set a flag. The walker's workers
 * block signals, so the handler runs on the main thread, whose tick (five
 * times a second) and visit callbacks see the flag and stop the walk. The
 * writer is then rolled back: the snapshot stays recorded as incomplete, and
 * everything stored before is untouched.
 */
#include "cli/cli.h"

#include <signal.h>
#include <string.h>

#include "common/banned.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void cli_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/*
	 * SA_RESTART: a write or fsync under way is not failed with EINTR.
	 * SA_RESETHAND: the first signal asks for a clean stop; a second one,
	 * should the stop take too long, ends the process the usual way.
	 */
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void cli_signals_ignore_fsize(void)
{
	struct sigaction sa;

	/*
	 * Past a file size limit (RLIMIT_FSIZE), a write fails with EFBIG: a
	 * database error with its message, not a death by SIGXFSZ. From the
	 * start: opening the database for writing writes to it already.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGXFSZ, &sa, NULL);
}

bool cli_interrupted(void)
{
	return interrupted != 0;
}

volatile sig_atomic_t *cli_interrupted_flag(void)
{
	return &interrupted;
}
