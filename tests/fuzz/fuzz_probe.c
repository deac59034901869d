/*
 * A system-state probe (scanner/probe_*.c, scanner/dpkg.c) on arbitrary
 * bytes. Built once per probe with FUZZ_PROBE (its name) and FUZZ_FILES
 * (the files it reads, relative to the root) defined (meson.build here).
 * The probes read only under a root fd, so the input is written as those
 * files into a root of this process's own (under /dev/shm when there is
 * one, else /tmp; removed at exit), reused across inputs: the input is cut at each line
 * "\x1e" (the ASCII record separator alone on a line) into the files in
 * order; files beyond the last part are left out (the source is absent).
 * Properties: every entry has a kind of the probe's, a non-empty key,
 * unique within its kind in the run, and well-formed properties; every
 * finding names a file and has a message; run() returns 0,
 * PROBE_UNAVAILABLE or a negative errno with a message.
 * With FUZZ_DPKG defined, the dpkg database itself (scanner/dpkg.h): the
 * status, diversions and the info files of package "hello"; every
 * package's paths are listed (absolute, NUL-terminated at their length)
 * and the ownership index built, in which each listed path is found.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/dpkg.h"
#include "scanner/probe.h"

#include "common/banned.h"

static const char *const files[] = { FUZZ_FILES };
#define NFILES (sizeof(files) / sizeof(files[0]))

static const struct probe *probe;
static int rootfd = -1;
static char root[PATH_MAX];

/* Keys seen in this run, by kind: a flat list, runs are small. */
static struct seen {
	enum entry_kind kind;
	char *key;
	size_t len;
} * seen;
static size_t nseen, capseen;

static int mkdirs(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int setup(void)
{
	const char *base = fuzz_tmpdir();

	probe = probe_find(FUZZ_PROBE);
	FUZZ_CHECK(probe != NULL);
	if (!base)
		return -1;
	snprintf(root, sizeof(root), "%s", base);
	for (size_t i = 0; i < NFILES; i++)
		if (mkdirs(files[i]) < 0)
			return -1;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -errno : 0;
}

static void teardown(void)
{
	for (size_t i = 0; i < NFILES; i++)
		unlinkat(rootfd, files[i], 0);
}

static void put(const char *rel, const uint8_t *p, size_t n)
{
	int fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	FUZZ_CHECK(fd >= 0);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		FUZZ_CHECK(w > 0);
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

static int emit(const struct entry *e, void *userdata)
{
	bool ours = false;

	for (const enum entry_kind *k = probe->kinds; *k; k++)
		ours = ours || *k == e->kind;
	FUZZ_CHECK(ours);
	FUZZ_CHECK(e->key && e->key_len > 0);
	FUZZ_CHECK(entry_xattrs_check(e->props, e->props_len) == 0);
	for (size_t i = 0; i < nseen; i++)
		FUZZ_CHECK(!(seen[i].kind == e->kind && seen[i].len == e->key_len &&
			     memcmp(seen[i].key, e->key, e->key_len) == 0));
	if (nseen == capseen) {
		capseen = capseen ? 2 * capseen : 64;
		seen = realloc(seen, capseen * sizeof(*seen));
		FUZZ_CHECK(seen != NULL);
	}
	seen[nseen].kind = e->kind;
	seen[nseen].len = e->key_len;
	seen[nseen].key = malloc(e->key_len);
	FUZZ_CHECK(seen[nseen].key != NULL);
	memcpy(seen[nseen].key, e->key, e->key_len);
	nseen++;
	return 0;
}

static void finding(const char *name, const char *file, unsigned line, const char *msg,
		    void *userdata)
{
	FUZZ_CHECK(name && file && file[0] && file[0] != '/');
	FUZZ_CHECK(msg && msg[0]);
	fuzz_note(0, msg);
}

#ifdef FUZZ_DPKG
static char **paths;
static size_t npaths, cappaths;

static int dpkg_file(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	FUZZ_CHECK(f->path[0] == '/' && strlen(f->path) == f->path_len);
	if (npaths == cappaths) {
		cappaths = cappaths ? 2 * cappaths : 64;
		paths = realloc(paths, cappaths * sizeof(*paths));
		FUZZ_CHECK(paths != NULL);
	}
	paths[npaths] = strdup(f->path);
	FUZZ_CHECK(paths[npaths] != NULL);
	npaths++;
	return 0;
}

static int run_dpkg(struct diag *d)
{
	struct dpkg_index *idx = NULL;
	struct dpkg_db *db = NULL;
	int r = dpkg_db_load(rootfd, finding, NULL, &db, d);

	if (r < 0)
		return r == -ENOENT ? PROBE_UNAVAILABLE : r;
	for (size_t i = 0; i < dpkg_db_count(db) && r >= 0; i++) {
		const struct dpkg_pkg *pkg = dpkg_db_get(db, i);

		FUZZ_CHECK(pkg->name && pkg->arch && pkg->version && pkg->status);
		r = dpkg_pkg_files(db, i, dpkg_file, NULL, d);
	}
	if (r >= 0)
		r = dpkg_index_build(db, &idx, d);
	for (size_t i = 0; i < npaths; i++) {
		if (r >= 0)
			FUZZ_CHECK(dpkg_index_find(idx, paths[i], strlen(paths[i]), NULL, NULL) ==
				   1);
		free(paths[i]);
	}
	npaths = 0;
	dpkg_index_free(idx);
	dpkg_db_free(db);
	return r;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[] = "\n\x1e\n";
	struct probe_ctx ctx = { .emit = emit, .finding = finding };
	static const uint8_t secret[16] = { 1, 2, 3 };
	const uint8_t *p = data, *end = data + size;
	struct diag d = { 0 };
	size_t i = 0;
	int r;

	if (rootfd < 0 && setup() < 0)
		return 0;
	teardown();
	while (i < NFILES) {
		const uint8_t *cut = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);

		put(files[i++], p, cut ? (size_t)(cut - p) : (size_t)(end - p));
		if (!cut)
			break;
		p = cut + sizeof(sep) - 1;
	}
	ctx.rootfd = rootfd;
	ctx.secret = secret;
	ctx.secret_len = sizeof(secret);
#ifdef FUZZ_DPKG
	r = run_dpkg(&d);
#else
	r = probe->run(&ctx, &d);
#endif
	fuzz_note(r, d.msg);
	FUZZ_CHECK(r == 0 || r == PROBE_UNAVAILABLE || (r < 0 && d.msg[0]));
	for (size_t j = 0; j < nseen; j++)
		free(seen[j].key);
	nseen = 0;
	return 0;
}
