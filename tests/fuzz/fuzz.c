#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/banned.h"

static int memfd = -1;
static char mempath[64];

const char *fuzz_memfile(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (memfd < 0)
			return NULL;
		snprintf(mempath, sizeof(mempath), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) < 0)
		return NULL;
	while (off < size) {
		ssize_t n = pwrite(memfd, data + off, size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		off += (size_t)n;
	}
	return mempath;
}

void fuzz_note(int r, const char *msg)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("DRIFT_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz: %d %s\n", r, msg ? msg : "");
}

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void tmpdir_remove(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
	if (!tmpdir[0]) {
		/* tmpfs when there is one: targets write their input there per run */
		snprintf(tmpdir, sizeof(tmpdir), "%s/drift-fuzz-XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(tmpdir)) {
			tmpdir[0] = '\0';
			return NULL;
		}
		atexit(tmpdir_remove);
	}
	return tmpdir;
}
