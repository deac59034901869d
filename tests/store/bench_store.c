/*
 * A quick benchmark of the store: write N synthetic file entries with
 * realistic paths (/usr/share/doc/pkgNNNN/fileNNN) into one snapshot, then
 * a second snapshot with a few changes, and compare the two.
 *
 *   bench-store [N] [--shuffle] [--packages]
 *
 * Prints rows/s for the writes, bytes per entry (file size / rows, after the
 * final checkpoint), and the compare time. --packages also records package
 * ownership as dpkg would give it: each directory pkgNNNN is a package
 * owning its files, with an MD5 each (the second snapshot upgrades one
 * package in ten); bytes per entry then include the package tables, and
 * the owner of every changed file is looked up after the compare. Not a unit test: run it by hand
 * or with `meson test --benchmark`.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "store/store.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process: steadier than wall time on a
 * shared machine. */
static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static bool with_packages; /* --packages */

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void make_entry(struct entry *e, char *key, size_t i, int generation)
{
	size_t pkg = i / 1000, file = i % 1000;
	int n = snprintf(key, 64, "/usr/share/doc/pkg%04zu/file%03zu", pkg, file);

	/* Attributes depend on i only, so both generations agree. */
	rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)i * 0xff51afd7ed558ccdULL);
	next_rand();
	memset(e, 0, sizeof(*e));
	e->kind = ENTRY_FILE;
	e->key = key;
	e->key_len = (size_t)n;
	e->mode = 0100644;
	e->size = 100 + next_rand() % 200000;
	e->mtime_ns = 1700000000000000000LL + (int64_t)(next_rand() % 100000000000000000ULL);
	e->ctime_ns = e->mtime_ns + 1000;
	e->ino = 1000000 + i;
	e->dev = 2049;
	e->nlink = 1;
	e->hash_algo = HASH_XXH3_128;
	e->hash_len = 16;
	for (int b = 0; b < 16; b += 8) {
		uint64_t h = next_rand();

		memcpy(e->hash + b, &h, 8);
	}
	/* The second generation changes one entry in 1000. */
	if (generation == 2 && i % 1000 == 7)
		e->uid = 1000;
}

struct count {
	struct snap_store *st;
	int64_t snap;
	size_t devs, owned;
};

static int count_cb(const struct deviation *d, void *userdata)
{
	struct count *c = userdata;
	const struct entry *e = d->after ? d->after : d->before;
	struct snap_owner o;

	c->devs++;
	if (with_packages && snap_owner_get(c->st, c->snap, e->key, e->key_len, &o, NULL) > 0)
		c->owned++;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path);
}

/* Link the packages of @n entries; the files of versions the store does
 * not know yet are given as dpkg lists them (in path order). */
static int add_packages(struct snap_writer *w, size_t n, int generation, struct diag *d)
{
	for (size_t pkg = 0; pkg * 1000 < n; pkg++) {
		char name[32], key[64];
		const char *version = generation == 2 && pkg % 10 == 3 ? "2" : "1";
		uint8_t md5[16];
		bool known;
		int r;

		snprintf(name, sizeof(name), "pkg%04zu", pkg);
		r = snap_writer_add_package(w, name, "amd64", version, &known, d);
		if (r < 0 || known) {
			if (r < 0)
				return r;
			continue;
		}
		for (size_t i = pkg * 1000; i < n && i < (pkg + 1) * 1000; i++) {
			int len = snprintf(key, sizeof(key), "/usr/share/doc/pkg%04zu/file%03zu",
					   pkg, i % 1000);

			for (int b = 0; b < 16; b += 8) {
				uint64_t h = next_rand();

				memcpy(md5 + b, &h, 8);
			}
			r = snap_writer_add_package_file(w, key, (size_t)len, md5, false, d);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int write_one(struct snap_store *st, const char *label, size_t n, const size_t *order,
		     int generation, struct diag *d)
{
	static const char *const roots[] = { "/usr" };
	struct snap_new p = { .purpose = SNAP_PURPOSE_SCAN,
			      .label = label,
			      .hash = HASH_XXH3_128,
			      .roots = roots,
			      .nroots = 1 };
	struct snap_writer *w = NULL;
	char key[64];
	struct entry e;
	int r;

	r = snap_writer_begin(st, &p, &w, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		make_entry(&e, key, order ? order[i] : i, generation);
		r = snap_writer_add(w, &e, d);
		if (r < 0) {
			snap_writer_abort(w);
			return r;
		}
	}
	if (with_packages && (r = add_packages(w, n, generation, d)) < 0) {
		snap_writer_abort(w);
		return r;
	}
	return snap_writer_commit(w, NULL, d);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	bool shuffle = false;
	char dir[] = "/tmp/drift-bench-XXXXXX", path[64];
	struct snap_store *st = NULL;
	struct snap_iter *a = NULL, *b = NULL;
	struct snap_info ia = { 0 }, ib = { 0 };
	struct diag d = { 0 };
	size_t *order = NULL;
	struct count count = { 0 };
	struct rusage ru;
	struct stat sb;
	double t0, t1, t2, t3, c0, c1;
	int r = 1;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--shuffle"))
			shuffle = true;
		else if (!strcmp(argv[i], "--packages"))
			with_packages = true;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/drift.db", dir);
	if (shuffle) {
		order = malloc(n * sizeof(*order));
		if (!order)
			goto out;
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = next_rand() % (i + 1), tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
	}

	if (snap_store_open(path, SNAP_OPEN_WRITE, &st, &d) < 0)
		goto fail;
	t0 = now();
	c0 = cpu();
	if (write_one(st, "one", n, order, 1, &d) < 0)
		goto fail;
	t1 = now();
	c1 = cpu();
	snap_store_free(st); /* the last close checkpoints and removes the WAL */
	st = NULL;
	t2 = now();
	stat(path, &sb);
	printf("write %zu entries%s%s: %.2f s wall (%.0f rows/s), %.2f s CPU (%.0f rows/s);"
	       " close+checkpoint %.2f s\n",
	       n, shuffle ? " (shuffled)" : "", with_packages ? " and their packages" : "", t1 - t0,
	       (double)n / (t1 - t0), c1 - c0, (double)n / (c1 - c0), t2 - t1);
	printf("database: %lld bytes, %.1f bytes/entry\n", (long long)sb.st_size,
	       (double)sb.st_size / (double)n);

	if (snap_store_open(path, SNAP_OPEN_WRITE, &st, &d) < 0)
		goto fail;
	t0 = now();
	c0 = cpu();
	if (write_one(st, "two", n, order, 2, &d) < 0)
		goto fail;
	t1 = now();
	c1 = cpu();
	printf("second snapshot: %.2f s wall (%.0f rows/s), %.2f s CPU\n", t1 - t0,
	       (double)n / (t1 - t0), c1 - c0);

	if (snap_find(st, "one", &ia, &d) < 0 || snap_find(st, "two", &ib, &d) < 0)
		goto fail;
	t2 = now();
	c0 = cpu();
	if (snap_iter_new(st, ia.id, ENTRY_FILE, NULL, 0, 0, &a, &d) < 0 ||
	    snap_iter_new(st, ib.id, ENTRY_FILE, NULL, 0, 0, &b, &d) < 0 ||
	    (count.st = st, count.snap = ib.id, snap_compare(a, b, 0, count_cb, &count, &d)) < 0)
		goto fail;
	t3 = now();
	c1 = cpu();
	getrusage(RUSAGE_SELF, &ru);
	printf("compare%s: %.2f s wall, %.2f s CPU, %zu deviations (%zu owned), max RSS %ld KiB\n",
	       with_packages ? " and owner lookups" : "", t3 - t2, c1 - c0, count.devs, count.owned,
	       ru.ru_maxrss);
	r = 0;
	goto out;

fail:
	fprintf(stderr, "bench-store: %s\n", d.msg);
out:
	snap_iter_free(a);
	snap_iter_free(b);
	snap_info_release(&ia);
	snap_info_release(&ib);
	snap_store_free(st);
	free(order);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return r;
}
