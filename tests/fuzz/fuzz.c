#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/strbuf.h"

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

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int put_utf8(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else if (cp < 0x110000) {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	} else {
		return -EINVAL;
	}
	return strbuf_add(out, b, n);
}

int fuzz_display_decode(const char *s, size_t len, struct strbuf *out)
{
	static const char simple[] = "\\\\n\nt\tr\ra\ab\bf\fv\v";

	for (size_t i = 0; i < len; i++) {
		size_t digits = 0;
		uint32_t v = 0;
		const char *m;

		if (s[i] != '\\') {
			if (strbuf_addch(out, s[i]) < 0)
				return -ENOMEM;
			continue;
		}
		if (++i == len)
			return -EINVAL;
		for (m = simple; *m && *m != s[i]; m += 2)
			;
		if (*m) {
			if (strbuf_addch(out, m[1]) < 0)
				return -ENOMEM;
			continue;
		}
		digits = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : s[i] == 'U' ? 8 : 0;
		if (!digits || len - i - 1 < digits)
			return -EINVAL;
		for (size_t k = 1; k <= digits; k++) {
			int h = hexval(s[i + k]);

			if (h < 0)
				return -EINVAL;
			v = v << 4 | (uint32_t)h;
		}
		i += digits;
		if (digits == 2 ? strbuf_addch(out, (char)v) < 0 : put_utf8(out, v) < 0)
			return -EINVAL;
	}
	return 0;
}

bool fuzz_no_c0(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}
