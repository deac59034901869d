/* Tests of scanner/verify.c: package verification and one-read digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scanner/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/dpkg.h"
#include "tests/probe/dpkg/troot.h"

/* md5sum, xxhsum -H2 and sha256sum of usr/bin/hello of the fixture */
static const char hello_md5[] = "d9ee44d59390c7097f20a0ec1c449048";
static const char hello_xxh128[] = "a48d529b7c409eb8ae9618178af21102";
static const char hello_sha256[] =
	"1e70cef0dfe5ce1120ccde5e1551c7277bcddaa75a1808f49512f404e6b8aec8";
static const char tampered_md5[] = "513464b728fd8dec2039cff5710be0ca"; /* "tampered\n" */

#define FIXTURE_FILES 7   /* with an MD5, in installed packages, conffile included */
#define FIXTURE_BYTES 307 /* their sizes */

static void hex_parse(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

#define RESULTS_MAX 64

struct results {
	size_t n;
	struct {
		char path[128];
		char pkg[32];
		bool conffile;
		enum verify_status status;
		int err;
		uint8_t expected[16], actual[16];
	} r[RESULTS_MAX];
	size_t more; /* results beyond RESULTS_MAX, counted only */
	int fail;    /* returned by the callback when non-zero */
};

static int collect(const struct verify_result *res, void *userdata)
{
	struct results *rs = userdata;

	if (rs->n == RESULTS_MAX) {
		rs->more++;
		return rs->fail;
	}
	assert_int_equal(strlen(res->path), res->path_len);
	assert_int_not_equal(res->status, VERIFY_OK);
	snprintf(rs->r[rs->n].path, sizeof(rs->r[rs->n].path), "%s", res->path);
	snprintf(rs->r[rs->n].pkg, sizeof(rs->r[rs->n].pkg), "%s", res->pkg->name);
	rs->r[rs->n].conffile = res->conffile;
	rs->r[rs->n].status = res->status;
	rs->r[rs->n].err = res->err;
	memcpy(rs->r[rs->n].expected, res->expected, 16);
	memcpy(rs->r[rs->n].actual, res->actual, 16);
	rs->n++;
	return rs->fail;
}

static int verify_root(int rootfd, unsigned nthreads, const struct verify_opts *opts,
		       struct results *rs, struct verify_stats *st)
{
	struct dpkg_db *db = NULL;
	struct diag d = { 0 };
	int r;

	assert_int_equal(dpkg_db_load(rootfd, NULL, NULL, &db, NULL), 0);
	r = scan_verify(rootfd, db, nthreads, opts, collect, rs, st, &d);
	dpkg_db_free(db);
	return r;
}

static void test_scan_verify_fixture_is_clean(void **state)
{
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	static const unsigned threads[] = { 1, 2, 0, 64 };

	(void)state;
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		struct results rs = { 0 };
		struct verify_stats st = { 0 };

		assert_int_equal(verify_root(fd, threads[i], NULL, &rs, &st), 0);
		assert_int_equal(rs.n, 0);
		assert_int_equal(st.files, FIXTURE_FILES);
		assert_int_equal(st.bytes, FIXTURE_BYTES);
		assert_int_equal(st.mismatches + st.missing + st.not_regular + st.errors, 0);
	}
	close(fd);
}

static void test_scan_verify_no_conffiles_leaves_them_out(void **state)
{
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct verify_opts o = { .no_conffiles = true };
	struct results rs = { 0 };
	struct verify_stats st = { 0 };
	struct stat sb;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fstatat(fd, "etc/hello.conf", &sb, 0), 0);
	assert_int_equal(verify_root(fd, 2, &o, &rs, &st), 0);
	assert_int_equal(st.files, FIXTURE_FILES - 1);
	assert_int_equal(st.bytes, FIXTURE_BYTES - (uint64_t)sb.st_size);
	close(fd);
}

static void tamper(const struct troot *t)
{
	assert_int_equal(troot_write(t, "usr/bin/hello", "tampered\n"), 0);
	assert_int_equal(unlinkat(t->fd, "usr/share/doc/hello/copyright", 0), 0);
	assert_int_equal(unlinkat(t->fd, "usr/lib/x86_64-linux-gnu/libfoo.so.1", 0), 0);
	assert_int_equal(
		troot_symlink(t, "usr/lib/x86_64-linux-gnu/libfoo.so.1", "../../bin/hello"), 0);
}

static void test_scan_verify_reports_exactly_the_tampered_files_sorted(void **state)
{
	struct results rs[3];
	struct verify_stats st = { 0 };
	uint8_t md5[16];
	struct troot t;
	static const unsigned threads[] = { 1, 2, 0 };

	(void)state;
	memset(rs, 0, sizeof(rs)); /* padding included: the runs are compared bytewise */
	assert_int_equal(troot_copy_fixture(&t), 0);
	tamper(&t);
	for (size_t k = 0; k < 3; k++) {
		memset(&st, 0, sizeof(st));
		assert_int_equal(verify_root(t.fd, threads[k], NULL, &rs[k], &st), 0);
		assert_int_equal(st.files, FIXTURE_FILES);
		assert_int_equal(st.mismatches, 1);
		assert_int_equal(st.missing, 1);
		assert_int_equal(st.not_regular, 1);
		assert_int_equal(st.errors, 0);
	}
	assert_int_equal(rs[0].n, 3);
	assert_string_equal(rs[0].r[0].path, "/usr/bin/hello");
	assert_string_equal(rs[0].r[0].pkg, "hello");
	assert_int_equal(rs[0].r[0].status, VERIFY_MISMATCH);
	assert_false(rs[0].r[0].conffile);
	hex_parse(hello_md5, md5, 16);
	assert_memory_equal(rs[0].r[0].expected, md5, 16);
	hex_parse(tampered_md5, md5, 16);
	assert_memory_equal(rs[0].r[0].actual, md5, 16);

	assert_string_equal(rs[0].r[1].path, "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
	assert_string_equal(rs[0].r[1].pkg, "libfoo1");
	assert_int_equal(rs[0].r[1].status, VERIFY_NOT_REGULAR);

	assert_string_equal(rs[0].r[2].path, "/usr/share/doc/hello/copyright");
	assert_int_equal(rs[0].r[2].status, VERIFY_MISSING);
	assert_int_equal(rs[0].r[2].err, ENOENT);

	/* the same, whatever the number of threads */
	for (size_t k = 1; k < 3; k++)
		assert_memory_equal(&rs[k], &rs[0], sizeof(rs[0]));
	troot_remove(&t);
}

static void test_scan_verify_fifo_directory_and_conffile(void **state)
{
	struct results rs = { 0 };
	struct verify_stats st = { 0 };
	struct troot t;

	(void)state;
	assert_int_equal(troot_copy_fixture(&t), 0);
	assert_int_equal(unlinkat(t.fd, "usr/share/basefiles/motd", 0), 0);
	assert_int_equal(mkfifoat(t.fd, "usr/share/basefiles/motd", 0644), 0); /* must not hang */
	assert_int_equal(unlinkat(t.fd, "usr/share/basefiles/profile", 0), 0);
	assert_int_equal(troot_mkdir(&t, "usr/share/basefiles/profile"), 0);
	assert_int_equal(troot_write(&t, "etc/hello.conf", "greeting=bonjour\n"), 0);
	assert_int_equal(verify_root(t.fd, 2, NULL, &rs, &st), 0);
	assert_int_equal(rs.n, 3);
	assert_string_equal(rs.r[0].path, "/etc/hello.conf");
	assert_true(rs.r[0].conffile);
	assert_int_equal(rs.r[0].status, VERIFY_MISMATCH);
	assert_string_equal(rs.r[1].path, "/usr/share/basefiles/motd");
	assert_int_equal(rs.r[1].status, VERIFY_NOT_REGULAR);
	assert_string_equal(rs.r[2].path, "/usr/share/basefiles/profile");
	assert_int_equal(rs.r[2].status, VERIFY_NOT_REGULAR);
	assert_int_equal(st.not_regular, 2);
	assert_int_equal(st.mismatches, 1);

	/* a file where a directory was: ENOTDIR is "missing" too */
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(unlinkat(t.fd, "usr/share/doc/hello/copyright", 0), 0);
	assert_int_equal(unlinkat(t.fd, "usr/share/doc/hello", AT_REMOVEDIR), 0);
	assert_int_equal(troot_write(&t, "usr/share/doc/hello", "a file\n"), 0);
	assert_int_equal(verify_root(t.fd, 1, NULL, &rs, &st), 0);
	assert_int_equal(rs.n, 4);
	assert_string_equal(rs.r[3].path, "/usr/share/doc/hello/copyright");
	assert_int_equal(rs.r[3].status, VERIFY_MISSING);
	assert_int_equal(rs.r[3].err, ENOTDIR);
	troot_remove(&t);
}

static void test_scan_verify_stop_flag_cancels(void **state)
{
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	volatile sig_atomic_t stop = 1;
	struct verify_opts o = { .stop = &stop };
	struct results rs = { 0 };
	struct verify_stats st = { .files = 42 };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(verify_root(fd, 2, &o, &rs, &st), -ECANCELED);
	assert_int_equal(st.files, 42);
	assert_int_equal(rs.n, 0);
	close(fd);
}

struct stopper {
	volatile sig_atomic_t stop;
};

static void raise_stop(const char *probe, const char *file, unsigned line, const char *msg,
		       void *userdata)
{
	struct stopper *sp = userdata;

	(void)probe;
	(void)file;
	(void)line;
	(void)msg;
	sp->stop = 1;
}

/* Ctrl-C while the file list is being built (here: from a finding on the way). */
static void test_scan_verify_stop_while_collecting_cancels(void **state)
{
	struct stopper sp = { 0 };
	struct verify_opts o = { .stop = &sp.stop };
	struct results rs = { 0 };
	struct verify_stats st = { .files = 42 };
	struct dpkg_db *db = NULL;
	struct troot t;

	(void)state;
	assert_int_equal(troot_copy_fixture(&t), 0);
	assert_int_equal(unlinkat(t.fd, "var/lib/dpkg/info/hello.list", 0), 0);
	assert_int_equal(dpkg_db_load(t.fd, raise_stop, &sp, &db, NULL), 0);
	assert_int_equal(sp.stop, 0);
	assert_int_equal(scan_verify(t.fd, db, 2, &o, collect, &rs, &st, NULL), -ECANCELED);
	assert_int_equal(sp.stop, 1);
	assert_int_equal(st.files, 42);
	assert_int_equal(rs.n, 0);
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_scan_verify_callback_error_stops(void **state)
{
	struct results rs = { .fail = -EINTR };
	struct verify_stats st = { .files = 42 };
	struct troot t;

	(void)state;
	assert_int_equal(troot_copy_fixture(&t), 0);
	tamper(&t);
	assert_int_equal(verify_root(t.fd, 2, NULL, &rs, &st), -EINTR);
	assert_int_equal(rs.n, 1);
	assert_int_equal(st.files, 42);
	troot_remove(&t);
}

/* Many files, a few changed: the same results from 1, 2 and 4 threads (and for TSan). */
static void test_scan_verify_threads_agree_on_many_files(void **state)
{
	enum { NFILES = 400 };
	struct results *rs = calloc(3, sizeof(*rs));
	struct verify_stats st[3];
	struct dpkg_db *db = NULL;
	char *list = malloc(NFILES * 40), *sums = malloc(NFILES * 80);
	size_t ll = 0, sl = 0;
	struct troot t;
	static const unsigned threads[] = { 1, 2, 4 };

	(void)state;
	memset(st, 0, sizeof(st));
	assert_non_null(rs);
	assert_non_null(list);
	assert_non_null(sums);
	assert_int_equal(troot_make(&t), 0);
	for (int i = 0; i < NFILES; i++) {
		char rel[64], body[32], hex[33];
		unsigned char md5[16];

		snprintf(rel, sizeof(rel), "usr/share/many/d%d/f%03d", i % 7, i);
		snprintf(body, sizeof(body), "file %d\n", i);
		assert_int_equal(troot_write(&t, rel, body), 0);
		ll += (size_t)snprintf(list + ll, NFILES * 40 - ll, "/%s\n", rel);
		assert_int_equal(EVP_Digest(body, strlen(body), md5, NULL, EVP_md5(), NULL), 1);
		for (int k = 0; k < 16; k++)
			snprintf(hex + 2 * k, 3, "%02x", md5[k]);
		/* every 9th sum is the empty file's: a mismatch */
		sl += (size_t)snprintf(sums + sl, NFILES * 80 - sl, "%s  %s\n",
				       i % 9 ? hex : "d41d8cd98f00b204e9800998ecf8427e", rel);
	}
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status",
				     "Package: many\nStatus: install ok installed\n"
				     "Architecture: all\nVersion: 1\n"),
			 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/many.list", list), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/many.md5sums", sums), 0);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, NULL), 0);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(
			scan_verify(t.fd, db, threads[k], NULL, collect, &rs[k], &st[k], NULL), 0);
	assert_int_equal(st[0].files, NFILES);
	assert_int_equal(st[0].mismatches, NFILES / 9 + 1); /* i = 0, 9, ... 396 */
	assert_int_equal(rs[0].n + rs[0].more, NFILES / 9 + 1);
	for (size_t k = 1; k < 3; k++) {
		assert_memory_equal(&st[k], &st[0], sizeof(st[0]));
		assert_memory_equal(&rs[k], &rs[0], sizeof(rs[0]));
	}
	for (size_t i = 1; i < rs[0].n; i++)
		assert_true(strcmp(rs[0].r[i - 1].path, rs[0].r[i].path) < 0);
	dpkg_db_free(db);
	free(rs);
	free(list);
	free(sums);
	troot_remove(&t);
}

static void test_scan_file_digests_match_the_usual_tools(void **state)
{
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	uint8_t md5[16], want_md5[16], want[32];
	struct entry e;

	(void)state;
	assert_true(fd >= 0);
	hex_parse(hello_md5, want_md5, 16);

	memset(&e, 0, sizeof(e));
	assert_int_equal(scan_file_digests(fd, "/usr/bin/hello", HASH_XXH3_128, md5, &e, NULL), 0);
	assert_memory_equal(md5, want_md5, 16);
	assert_int_equal(e.hash_algo, HASH_XXH3_128);
	assert_int_equal(e.hash_len, 16);
	hex_parse(hello_xxh128, want, 16);
	assert_memory_equal(e.hash, want, 16);

	memset(&e, 0, sizeof(e));
	memset(md5, 0, sizeof(md5));
	/* through the bin -> usr/bin symlink, relative */
	assert_int_equal(scan_file_digests(fd, "bin/hello", HASH_SHA256, md5, &e, NULL), 0);
	assert_memory_equal(md5, want_md5, 16);
	assert_int_equal(e.hash_algo, HASH_SHA256);
	assert_int_equal(e.hash_len, 32);
	hex_parse(hello_sha256, want, 32);
	assert_memory_equal(e.hash, want, 32);

	memset(md5, 0, sizeof(md5));
	assert_int_equal(scan_file_digests(fd, "/usr/bin/hello", HASH_NONE, md5, NULL, NULL), 0);
	assert_memory_equal(md5, want_md5, 16);
	close(fd);
}

static void test_scan_file_digests_refuses_what_is_not_a_regular_file(void **state)
{
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	uint8_t md5[16], keep[16];
	struct entry e, ekeep;
	struct diag d = { 0 };

	(void)state;
	assert_true(fd >= 0);
	memset(md5, 0x5a, sizeof(md5));
	memcpy(keep, md5, 16);
	memset(&e, 0x33, sizeof(e));
	memcpy(&ekeep, &e, sizeof(e));
	assert_int_equal(scan_file_digests(fd, "/lib", HASH_XXH3_128, md5, &e, &d), -ELOOP);
	assert_int_equal(scan_file_digests(fd, "/usr", HASH_XXH3_128, md5, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not a regular file"));
	assert_int_equal(scan_file_digests(fd, "/usr/bin/nothing", HASH_SHA256, md5, &e, &d),
			 -ENOENT);
	assert_non_null(strstr(d.msg, "/usr/bin/nothing"));
	assert_int_equal(scan_file_digests(fd, "/usr/bin/hello", (enum hash_algo)9, md5, &e, &d),
			 -EINVAL);
	assert_memory_equal(md5, keep, 16);
	assert_memory_equal(&e, &ekeep, sizeof(e));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_verify_fixture_is_clean),
		cmocka_unit_test(test_scan_verify_no_conffiles_leaves_them_out),
		cmocka_unit_test(test_scan_verify_reports_exactly_the_tampered_files_sorted),
		cmocka_unit_test(test_scan_verify_fifo_directory_and_conffile),
		cmocka_unit_test(test_scan_verify_stop_flag_cancels),
		cmocka_unit_test(test_scan_verify_stop_while_collecting_cancels),
		cmocka_unit_test(test_scan_verify_callback_error_stops),
		cmocka_unit_test(test_scan_verify_threads_agree_on_many_files),
		cmocka_unit_test(test_scan_file_digests_match_the_usual_tools),
		cmocka_unit_test(test_scan_file_digests_refuses_what_is_not_a_regular_file),
	};
	return cmocka_run_group_tests_name("scanner/verify", tests, NULL, troot_cleanup_all);
}
