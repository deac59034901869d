/*
 * Unit tests of report/report.c: the life cycle and failure contract of a
 * report, the counts, write failures (/dev/full), and a large report that
 * must not grow memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "report/report.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "common/diag.h"
#include "tests/report/fixture.h"

static struct report *const untouched = (struct report *)0x1234;

static void test_report_new_rejects_unknown_format_and_leaves_output(void **state)
{
	struct report_meta meta;
	struct report *rep = untouched;
	struct diag diag = { 0 };

	(void)state;
	fx_meta_check(&meta);
	assert_int_equal(report_new((enum report_format)42, stdout, &meta, &rep, &diag), -EINVAL);
	assert_ptr_equal(rep, untouched);
	assert_string_equal(diag.msg, "unknown report format 42");
}

static void test_report_new_rejects_unknown_command_and_leaves_output(void **state)
{
	struct report_meta meta;
	struct report *rep = untouched;
	struct diag diag = { 0 };

	(void)state;
	fx_meta_check(&meta);
	meta.command = "scan";
	assert_int_equal(report_new(REPORT_TEXT, stdout, &meta, &rep, &diag), -EINVAL);
	assert_ptr_equal(rep, untouched);
	assert_string_equal(diag.msg, "cannot report on command 'scan'");

	meta.command = NULL;
	assert_int_equal(report_new(REPORT_JSON, stdout, &meta, &rep, NULL), -EINVAL);
	assert_ptr_equal(rep, untouched);
}

static void test_report_new_rejects_missing_snapshot_and_leaves_output(void **state)
{
	struct report_meta meta;
	struct report *rep = untouched;

	(void)state;
	fx_meta_diff(&meta);
	meta.after = NULL;
	assert_int_equal(report_new(REPORT_TEXT, stdout, &meta, &rep, NULL), -EINVAL);
	assert_ptr_equal(rep, untouched);
	fx_meta_diff(&meta);
	meta.before = NULL;
	assert_int_equal(report_new(REPORT_JSON, stdout, &meta, &rep, NULL), -EINVAL);
	assert_ptr_equal(rep, untouched);
}

static void test_report_free_accepts_null(void **state)
{
	(void)state;
	report_free(NULL);
}

static void test_report_add_rejects_malformed_deviations(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct entry e = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .mode = S_IFREG };
	const struct deviation bad[] = {
		{ .change = (enum change)7, .before = &e, .after = &e },
		{ .change = (enum change)CHANGE__COUNT, .before = &e, .after = &e },
		{ .change = CHANGE_ADDED, .before = &e, .after = NULL },
		{ .change = CHANGE_REMOVED, .before = NULL, .after = &e },
		{ .change = CHANGE_MODIFIED, .before = &e, .after = NULL },
		{ .change = CHANGE_MODIFIED, .before = NULL, .after = &e },
	};

	(void)state;
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, stdout, &meta, &rep, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fx_add(rep, &bad[i]), -EINVAL);
	/* An entry without an error is not unreadable. */
	assert_int_equal(report_add_error(rep, &e), -EINVAL);
	report_get_counts(rep, &c);
	assert_true(c.added == 0 && c.removed == 0 && c.modified == 0 && c.errors == 0);
	report_free(rep);
}

static void test_report_get_counts_counts_each_kind(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct entry e = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .mode = S_IFREG };
	struct entry bad = e;
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	const struct deviation r = { .change = CHANGE_REMOVED, .before = &e };
	const struct deviation m = {
		.change = CHANGE_MODIFIED, .before = &e, .after = &e, .attrs = ATTR_UID
	};
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(null);
	bad.err = EACCES;
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_JSON, null, &meta, &rep, NULL), 0);
	assert_int_equal(fx_add(rep, &a), 0);
	assert_int_equal(fx_add_cb(&a, rep), 0);
	assert_int_equal(fx_add(rep, &r), 0);
	assert_int_equal(fx_add_cb(&m, rep), 0);
	assert_int_equal(fx_add(rep, &m), 0);
	assert_int_equal(fx_add(rep, &m), 0);
	assert_int_equal(report_add_error(rep, &bad), 0);
	report_get_counts(rep, &c);
	assert_int_equal(c.added, 2);
	assert_int_equal(c.removed, 1);
	assert_int_equal(c.modified, 3);
	assert_int_equal(c.errors, 1);
	/* Without verdicts, everything counts. */
	assert_int_equal(c.counted_added, 2);
	assert_int_equal(c.counted_removed, 1);
	assert_int_equal(c.counted_modified, 3);
	assert_int_equal(c.expected, 0);
	assert_int_equal(report_finish(rep, NULL), 0);
	report_free(rep);
	fclose(null);
}

static void test_report_get_counts_counts_what_the_verdicts_count(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct entry e = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .mode = S_IFREG };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	const struct deviation m = {
		.change = CHANGE_MODIFIED, .before = &e, .after = &e, .attrs = ATTR_MTIME
	};
	struct fx_verdict expected = { .class_name = "expected", .severity_rank = 2 };
	struct fx_verdict drift = {
		.class_name = "drift", .counts = true, .severity_name = "high", .severity_rank = 3
	};

	(void)state;
	fx_meta_check(&meta);
	for (int fmt = 0; fmt < 2; fmt++) {
		FILE *null = fopen("/dev/null", "w");

		assert_non_null(null);
		assert_int_equal(report_new((enum report_format)fmt, null, &meta, &rep, NULL), 0);
		assert_int_equal(fx_add_verdict(rep, &m, &expected), 0);
		assert_int_equal(fx_add_verdict(rep, &m, &expected), 0);
		expected.counts = true; /* --count-expected */
		assert_int_equal(fx_add_verdict(rep, &m, &expected), 0);
		expected.counts = false;
		assert_int_equal(fx_add_verdict(rep, &a, &drift), 0);
		assert_int_equal(fx_add_verdict(rep, &a, NULL), 0);
		drift.counts = false; /* drift that does not count (info) */
		assert_int_equal(fx_add_verdict(rep, &m, &drift), 0);
		drift.counts = true;
		report_get_counts(rep, &c);
		assert_int_equal(c.added, 2);
		assert_int_equal(c.removed, 0);
		assert_int_equal(c.modified, 4);
		assert_int_equal(c.counted_added, 2);
		assert_int_equal(c.counted_removed, 0);
		assert_int_equal(c.counted_modified, 1);
		assert_int_equal(c.expected, 3);
		assert_int_equal(report_finish(rep, NULL), 0);
		report_free(rep);
		fclose(null);
	}
}

/* One waived and one drift finding: modified /etc/foo.conf (waived), /etc/bar.conf. */
static int add_waived(struct report *rep)
{
	static struct entry foo = {
		.kind = ENTRY_FILE, .key = "/etc/foo.conf", .key_len = 13, .mode = S_IFREG | 0644
	};
	static struct entry bar = {
		.kind = ENTRY_FILE, .key = "/etc/bar.conf", .key_len = 13, .mode = S_IFREG | 0644
	};
	const struct deviation w = {
		.change = CHANGE_MODIFIED, .before = &foo, .after = &foo, .attrs = ATTR_MTIME
	};
	const struct deviation d = {
		.change = CHANGE_MODIFIED, .before = &bar, .after = &bar, .attrs = ATTR_MTIME
	};
	struct fx_verdict waived = { .class_name = "waived",
				     .severity_rank = 3,
				     .reason = "waived until 2027-01-31 by alice: hotfix; "
					       "content changed" };
	struct fx_verdict drift = { .class_name = "drift", .counts = true, .severity_rank = 2 };
	int r = fx_add_verdict(rep, &w, &waived);

	return r < 0 ? r : fx_add_verdict(rep, &d, &drift);
}

static void test_report_waived_is_listed_and_counted_never_in_the_exit_code(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	char *buf = NULL;
	size_t len = 0;
	FILE *null;

	(void)state;
	fx_meta_check(&meta);
	assert_int_equal(fx_render(REPORT_TEXT, &meta, add_waived, &buf, &len), 0);
	assert_non_null(strstr(buf, "; 0 expected; 1 waived; 1 drift (1 medium)"));
	assert_non_null(strstr(buf, "\nwaived (1):\n"));
	assert_non_null(strstr(buf, "waived until 2027-01-31 by alice: hotfix"));
	/* After the drift. */
	assert_true(strstr(buf, "waived (1):") > strstr(buf, "medium (1):"));
	free(buf);
	assert_int_equal(fx_render(REPORT_JSON, &meta, add_waived, &buf, &len), 0);
	assert_non_null(strstr(buf, "\"expected\": 0, \"waived\": 1, \"drift\": 1,"));
	assert_non_null(strstr(buf, "\"class\": \"waived\""));
	free(buf);
	assert_int_equal(fx_render(REPORT_PROMETHEUS, &meta, add_waived, &buf, &len), 0);
	assert_non_null(strstr(buf, "class=\"waived\",severity=\"high\"} 1\n"));
	assert_non_null(strstr(buf, "drift_findings_counted{command=\"check\"} 1\n"));
	free(buf);

	null = fopen("/dev/null", "w");
	assert_non_null(null);
	assert_int_equal(report_new(REPORT_TEXT, null, &meta, &rep, NULL), 0);
	assert_int_equal(add_waived(rep), 0);
	report_get_counts(rep, &c);
	assert_int_equal(c.modified, 2);
	assert_int_equal(c.counted_modified, 1);
	assert_int_equal(c.waived, 1);
	assert_int_equal(c.expected, 0);
	assert_int_equal(report_finish(rep, NULL), 0);
	report_free(rep);
	fclose(null);
}

static void test_report_add_verdict_rejects_bad_verdicts_and_adds_nothing(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct entry e = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .mode = S_IFREG };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	const struct deviation broken = { .change = CHANGE_REMOVED };
	struct fx_verdict v = { .class_name = "drift", .severity_rank = 4 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, f, &meta, &rep, NULL), 0);
	v.class_name = NULL;
	assert_int_equal(fx_add_verdict(rep, &a, &v), -EINVAL);
	v.class_name = "drift";
	v.severity_rank = 5;
	assert_int_equal(fx_add_verdict(rep, &a, &v), -EINVAL);
	v.severity_rank = 4;
	v.severity_name = "high"; /* not the name of rank 4 */
	assert_int_equal(fx_add_verdict(rep, &a, &v), -EINVAL);
	/* A malformed deviation is refused whatever its verdict. */
	v.severity_name = "critical";
	assert_int_equal(fx_add_verdict(rep, &broken, &v), -EINVAL);
	report_get_counts(rep, &c);
	assert_int_equal(c.added + c.removed + c.modified + c.counted_added + c.expected, 0);
	/* Nothing was spooled, and the report is still in the layout without verdicts. */
	assert_int_equal(report_finish(rep, NULL), 0);
	report_free(rep);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "drift check: no deviations from baseline 'baseline' "
				 "(#1, 2026-11-25 15:10:02 UTC); 1234 entries checked\n");
	free(buf);
}

static void test_report_finish_twice_and_add_after_finish_are_einval(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct diag diag = { 0 };
	struct entry e = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .mode = S_IFREG };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(null);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, null, &meta, &rep, NULL), 0);
	assert_int_equal(report_finish(rep, &diag), 0);
	assert_int_equal(fx_add(rep, &a), -EINVAL);
	e.err = EIO;
	assert_int_equal(report_add_error(rep, &e), -EINVAL);
	assert_int_equal(report_finish(rep, &diag), -EINVAL);
	assert_string_equal(diag.msg, "report already finished");
	report_free(rep);
	fclose(null);
}

/* Nothing reaches the output before report_finish(). */
static void test_report_add_writes_nothing_before_finish(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, f, &meta, &rep, NULL), 0);
	assert_int_equal(fx_add_mixed(rep), 0);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(len, 0);
	assert_int_equal(report_finish(rep, NULL), 0);
	assert_true(len > 0);
	report_free(rep);
	fclose(f);
	free(buf);
}

static void check_dev_full(enum report_format format, unsigned n)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct diag diag = { 0 };
	struct entry e = { .kind = ENTRY_FILE,
			   .key = "/some/rather/long/path/to/fill/buffers",
			   .mode = S_IFREG | 0644 };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	FILE *full = fopen("/dev/full", "w");

	if (!full)
		tap_skip("cannot open /dev/full");
	e.key_len = strlen(e.key);
	fx_meta_check(&meta);
	assert_int_equal(report_new(format, full, &meta, &rep, &diag), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(fx_add(rep, &a), 0);
	assert_int_equal(report_finish(rep, &diag), -EIO);
	assert_string_equal(diag.msg, "cannot write report: No space left on device");
	report_free(rep);
	fclose(full);
}

static void test_report_finish_to_dev_full_is_eio(void **state)
{
	(void)state;
	/* A short report fails at the final flush... */
	check_dev_full(REPORT_TEXT, 0);
	check_dev_full(REPORT_JSON, 1);
	/* ...a long one while its spools are copied. */
	check_dev_full(REPORT_TEXT, 20000);
	check_dev_full(REPORT_JSON, 20000);
}

/*
 * A spool that cannot be written (here: over RLIMIT_FSIZE, as on a full
 * /tmp): fx_add() fails with -EIO from then on, and report_finish()
 * says why without writing anything.
 */
static void test_report_add_spool_failure_is_eio_and_sticky(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct diag diag = { 0 };
	struct entry e = { .kind = ENTRY_FILE,
			   .key = "/a/path/of/some/length/to/fill/the/spool",
			   .mode = S_IFREG | 0644 };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	struct rlimit old, small;
	void (*old_handler)(int);
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int r = 0;

	(void)state;
	assert_non_null(f);
	e.key_len = strlen(e.key);
	fx_meta_check(&meta);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(report_new(REPORT_TEXT, f, &meta, &rep, NULL), 0);

	/* SIGXFSZ would kill us; ignored, the write fails with EFBIG instead. */
	old_handler = signal(SIGXFSZ, SIG_IGN);
	small = old;
	small.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (i = 0; i < 100000 && r == 0; i++)
		r = fx_add(rep, &a);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(r, -EIO);
	assert_true(i < 100000);
	report_get_counts(rep, &c);
	assert_int_equal(c.added, i - 1);
	assert_int_equal(fx_add(rep, &a), -EIO);
	assert_int_equal(report_finish(rep, &diag), -EIO);
	assert_string_equal(diag.msg,
			    "cannot write the temporary file of the report: File too large");
	report_free(rep);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

/*
 * A spool whose buffered bytes cannot be written when they are finally
 * flushed (RLIMIT_FSIZE 0 stands for a disk that filled up meanwhile):
 * fx_add() succeeded, but report_finish() fails before writing a byte.
 */
static void test_report_finish_late_spool_failure_writes_nothing(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct diag diag = { 0 };
	struct entry e = { .kind = ENTRY_FILE, .key = "/etc/late", .mode = S_IFREG | 0644 };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	struct rlimit old, zero;
	void (*old_handler)(int);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	(void)state;
	assert_non_null(f);
	e.key_len = strlen(e.key);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, f, &meta, &rep, NULL), 0);
	assert_int_equal(fx_add(rep, &a), 0); /* buffered by stdio */

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	zero = old;
	zero.rlim_cur = 0;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &zero), 0);
	r = report_finish(rep, &diag);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(r, -EIO);
	assert_string_equal(diag.msg,
			    "cannot write the temporary file of the report: File too large");
	report_free(rep);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

/* How many open files of this process live in @dir. */
static int fds_in(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char link[600], target[600];
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		ssize_t k;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		k = readlink(link, target, sizeof(target) - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		n += !strncmp(target, dir, strlen(dir)) && target[strlen(dir)] == '/';
	}
	closedir(d);
	return n;
}

/* The spools go to $TMPDIR, unlinked at once; a $TMPDIR that does not
 * exist fails report_new() with -EIO and *ret_report untouched. */
static void test_report_new_spools_honour_tmpdir(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL, *sentinel = (struct report *)&meta;
	struct diag diag = { 0 };
	char dir[] = "/tmp/drift-report-test-XXXXXX", missing[64];
	const char *saved = getenv("TMPDIR");
	char *saved_copy = saved ? strdup(saved) : NULL;
	DIR *d;
	struct dirent *de;
	int names = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fx_meta_check(&meta);
	assert_int_equal(setenv("TMPDIR", dir, 1), 0);
	assert_int_equal(report_new(REPORT_JSON, stdout, &meta, &rep, &diag), 0);
	assert_true(fds_in(dir) >= 1);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		names += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(names, 0);
	report_free(rep);
	assert_int_equal(fds_in(dir), 0);

	snprintf(missing, sizeof(missing), "%s/missing", dir);
	assert_int_equal(setenv("TMPDIR", missing, 1), 0);
	rep = sentinel;
	assert_int_equal(report_new(REPORT_JSON, stdout, &meta, &rep, &diag), -EIO);
	assert_ptr_equal(rep, sentinel);
	assert_non_null(strstr(diag.msg, "No such file or directory"));

	if (saved_copy)
		setenv("TMPDIR", saved_copy, 1);
	else
		unsetenv("TMPDIR");
	free(saved_copy);
	assert_int_equal(rmdir(dir), 0);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * 100,000 deviations of every kind, in key order, through a report to a
 * temporary file: the counts and the output must be right, and (without
 * ASan, whose allocator mallinfo2() does not see) the heap must not grow
 * between the first thousand and the last.
 */
static void check_many(enum report_format format)
{
	enum { N = 100000 };
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct entry o = { .kind = ENTRY_FILE,
			   .mode = S_IFREG | 0644,
			   .size = 1,
			   .hash_algo = HASH_XXH3_128,
			   .hash_len = 16 };
	struct entry n = o;
	char key[64];
	size_t heap_early = 0, lines = 0, bytes = 0;
	char buf[65536];
	size_t got;
	FILE *f = tmpfile();

	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(format, f, &meta, &rep, NULL), 0);
	for (unsigned i = 0; i < N; i++) {
		struct deviation d = { .before = &o, .after = &n };

		o.key = n.key = key;
		o.key_len = n.key_len =
			(size_t)snprintf(key, sizeof(key), "/data/dir%04u/file%08u", i / 1000, i);
		switch (i % 3) {
		case 0:
			d.change = CHANGE_ADDED;
			d.before = NULL;
			break;
		case 1:
			d.change = CHANGE_REMOVED;
			d.after = NULL;
			break;
		default:
			d.change = CHANGE_MODIFIED;
			n.size = i;
			n.hash[0] = (uint8_t)i;
			d.attrs = ATTR_SIZE | ATTR_HASH;
			break;
		}
		assert_int_equal(fx_add(rep, &d), 0);
		if (i == 999)
			heap_early = heap_in_use();
	}
	if (!fx_under_asan()) {
		size_t heap_late = heap_in_use();

		assert_true(heap_late < heap_early + 64 * 1024);
	}
	report_get_counts(rep, &c);
	assert_int_equal(c.added, 33334);
	assert_int_equal(c.removed, 33333);
	assert_int_equal(c.modified, 33333);
	assert_int_equal(report_finish(rep, NULL), 0);
	report_free(rep);

	rewind(f);
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		bytes += got;
		for (size_t i = 0; i < got; i++)
			lines += buf[i] == '\n';
	}
	fclose(f);
	if (format == REPORT_TEXT)
		/* summary, 3 x (blank + heading), one line per item, 2 more per modified */
		assert_int_equal(lines, 1 + 6 + N + 2 * 33333);
	else
		/* 15 newlines of frame (with an empty "unreadable") plus one per deviation */
		assert_int_equal(lines, 15 + N);
	assert_true(bytes > (size_t)N * 20);
}

static void test_report_handles_100000_deviations_in_flat_memory(void **state)
{
	(void)state;
	check_many(REPORT_TEXT);
	check_many(REPORT_JSON);
}

static int add_nothing(struct report *rep)
{
	(void)rep;
	return 0;
}

static void test_report_new_accepts_verify_without_snapshots(void **state)
{
	struct report_meta meta;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	fx_meta_verify(&meta);
	assert_int_equal(fx_render(REPORT_TEXT, &meta, add_nothing, &buf, &len), 0);
	assert_string_equal(buf, "drift verify: no files differ from their packages; "
				 "12345 files checked\n");
	free(buf);
	assert_int_equal(fx_render(REPORT_JSON, &meta, add_nothing, &buf, &len), 0);
	assert_non_null(strstr(buf, "\n  \"command\": \"verify\",\n"));
	assert_non_null(strstr(buf, "\n  \"old\": null,\n  \"new\": null,\n"));
	assert_non_null(strstr(buf, "\"total\": 0,"));
	assert_non_null(strstr(buf, "\"entries_checked\": 12345}"));
	free(buf);
	/* With snapshots too (shown in JSON). */
	meta.before = &fx_baseline;
	meta.after = &fx_check;
	assert_int_equal(fx_render(REPORT_JSON, &meta, add_nothing, &buf, &len), 0);
	assert_non_null(strstr(buf, "\n  \"old\": {\"id\": 1, \"label\": \"baseline\","));
	assert_non_null(strstr(buf, "\n  \"new\": {\"id\": 7, \"label\": \"check-"));
	free(buf);
}

static void test_report_add_attributed_rejects_bad_owners_and_adds_nothing(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct report_counts c;
	struct entry e = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .mode = S_IFREG };
	const struct deviation a = { .change = CHANGE_ADDED, .after = &e };
	const struct deviation broken = { .change = CHANGE_REMOVED };
	const struct fx_owner both = { .package = "p:all", .unowned = true };
	const struct fx_owner versions_only = { .old_version = "1" };
	const struct fx_owner fine = { .package = "p:all" };
	struct fx_verdict bad_v = { .class_name = NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, f, &meta, &rep, NULL), 0);
	assert_int_equal(fx_add_attributed(rep, &a, NULL, &both), -EINVAL);
	assert_int_equal(fx_add_attributed(rep, &a, NULL, &versions_only), -EINVAL);
	assert_int_equal(fx_add_attributed(rep, &broken, NULL, &fine), -EINVAL);
	assert_int_equal(fx_add_attributed(rep, &a, &bad_v, &fine), -EINVAL);
	report_get_counts(rep, &c);
	assert_int_equal(c.added + c.removed + c.modified, 0);
	/* An owner that says nothing is no owner; NULL is as fx_add_verdict(). */
	assert_int_equal(fx_add_attributed(rep, &a, NULL, &(struct fx_owner){ 0 }), 0);
	assert_int_equal(fx_add_attributed(rep, &a, NULL, NULL), 0);
	assert_int_equal(report_finish(rep, NULL), 0);
	assert_int_equal(fx_add_attributed(rep, &a, NULL, &fine), -EINVAL);
	report_free(rep);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "drift check: 2 deviations from baseline 'baseline' (#1, "
				 "2026-11-25 15:10:02 UTC): 2 added, 0 removed, 0 modified; 1234 "
				 "entries checked\n\nadded (2):\n  /x\n  /x\n");
	free(buf);
}

static void test_report_add_note_rejects_empty_and_after_finish(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_TEXT, f, &meta, &rep, NULL), 0);
	assert_int_equal(report_add_note(rep, NULL), -EINVAL);
	assert_int_equal(report_add_note(rep, ""), -EINVAL);
	{
		/* The report keeps a copy. */
		char text[] = "kept";

		assert_int_equal(report_add_note(rep, text), 0);
		text[0] = 'X';
	}
	assert_int_equal(report_finish(rep, NULL), 0);
	assert_int_equal(report_add_note(rep, "late"), -EINVAL);
	report_free(rep);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "drift check: no deviations from baseline 'baseline' (#1, "
				 "2026-11-25 15:10:02 UTC); 1234 entries checked\nnote: kept\n");
	free(buf);
}

/* A report freed with notes and never finished leaks nothing (ASan says). */
static void test_report_free_releases_unfinished_notes(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;

	(void)state;
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_JSON, stdout, &meta, &rep, NULL), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(report_add_note(rep, "a note"), 0);
	report_free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_new_rejects_unknown_format_and_leaves_output),
		cmocka_unit_test(test_report_new_rejects_unknown_command_and_leaves_output),
		cmocka_unit_test(test_report_new_rejects_missing_snapshot_and_leaves_output),
		cmocka_unit_test(test_report_free_accepts_null),
		cmocka_unit_test(test_report_add_rejects_malformed_deviations),
		cmocka_unit_test(test_report_get_counts_counts_each_kind),
		cmocka_unit_test(test_report_get_counts_counts_what_the_verdicts_count),
		cmocka_unit_test(test_report_waived_is_listed_and_counted_never_in_the_exit_code),
		cmocka_unit_test(test_report_add_verdict_rejects_bad_verdicts_and_adds_nothing),
		cmocka_unit_test(test_report_finish_twice_and_add_after_finish_are_einval),
		cmocka_unit_test(test_report_add_writes_nothing_before_finish),
		cmocka_unit_test(test_report_finish_to_dev_full_is_eio),
		cmocka_unit_test(test_report_add_spool_failure_is_eio_and_sticky),
		cmocka_unit_test(test_report_finish_late_spool_failure_writes_nothing),
		cmocka_unit_test(test_report_new_spools_honour_tmpdir),
		cmocka_unit_test(test_report_handles_100000_deviations_in_flat_memory),
		cmocka_unit_test(test_report_new_accepts_verify_without_snapshots),
		cmocka_unit_test(test_report_add_attributed_rejects_bad_owners_and_adds_nothing),
		cmocka_unit_test(test_report_add_note_rejects_empty_and_after_finish),
		cmocka_unit_test(test_report_free_releases_unfinished_notes),
	};
	return tap_run_group_tests_name("report/report", tests, NULL, NULL);
}
