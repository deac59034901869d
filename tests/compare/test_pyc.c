/*
 * Tests of the byte-code explanation (compare/pyc.c): .pyc files whose
 * header names their packaged, unmodified source are expected, with the
 * __pycache__ directories holding only those, and byte-code removed with
 * its package's source; everything else stays drift. The .pyc headers are
 * built here, byte by byte; the hash-based one is fixed bytes CPython 3.11
 * wrote (py_compile, CHECKED_HASH).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compare/compare.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/compare/collect.h"
#include "tests/compare/fixture.h"
#include "tests/compare/snap.h"
#include "tests/probe/dpkg/troot.h"

#include "common/banned.h"

#define D      "/usr/lib/python3/hello"
#define CACHE  D "/__pycache__"
#define SRC    D "/greet.py"
#define PYC    CACHE "/greet.cpython-311.pyc"
#define PYC_O1 CACHE "/greet.cpython-311.opt-1.pyc"

/* The source as the package ships it (15 bytes), and as someone changed it. */
#define GREET    "print(\"hello\")\n"
#define GREET_MY "print(\"pwned\")\n"
/* The source's mtime on the host. */
#define MTIME 1700000123u

static const char policy[] = "rules:\n"
			     "  - {id: usr, path: /usr, check: [all], severity: medium}\n"
			     "packages:\n"
			     "  unowned_severity: high\n";

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

/* A byte-code file: a 16-byte header and a body (bytes of no meaning here). */
struct pyc {
	char b[24];
	size_t len;
};

static void put32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

/* CPython 3.11's magic number 3495, "\xa7\x0d\r\n", and timestamp-based flags. */
static struct pyc pyc_ts(uint32_t mtime, uint32_t size)
{
	struct pyc p = { .len = 24 };

	memcpy(p.b, "\xa7\x0d\r\n", 4);
	put32(p.b + 4, 0);
	put32(p.b + 8, mtime);
	put32(p.b + 12, size);
	memcpy(p.b + 16, "\xe3\x00\x00\x00code", 8);
	return p;
}

/*
 * What CPython 3.11.7 wrote for GREET with CHECKED_HASH (flags 3): the
 * SipHash-1-3 of the source keyed with the magic number, 4384a52f77abf775.
 */
static struct pyc pyc_hash(void)
{
	struct pyc p = { .len = 24 };

	memcpy(p.b, "\xa7\x0d\r\n\x03\x00\x00\x00\x43\x84\xa5\x2f\x77\xab\xf7\x75", 16);
	memcpy(p.b + 16, "\xe3\x00\x00\x00code", 8);
	return p;
}

/* Write @len bytes to the host's @path (parents created). */
static void host_bytes(struct fx *fx, const char *path, const char *bytes, size_t len)
{
	int fd;

	host_put(fx, path, "");
	fd = openat(fx->host.fd, path + 1, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void host_pyc(struct fx *fx, const char *path, const struct pyc *p)
{
	host_bytes(fx, path, p->b, p->len);
}

/* The packaged source on the host, with the mtime the headers name. */
static void host_source(struct fx *fx, const char *content)
{
	struct timespec ts[2] = { { .tv_sec = MTIME }, { .tv_sec = MTIME } };

	host_put(fx, SRC, content);
	assert_int_equal(utimensat(fx->host.fd, &SRC[1], ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* clang-format off */
#define DIR(p)     { .path = (p), .mode = S_IFDIR | 0755 }
#define BIN(p, x)  { .path = (p), .content = (x).b, .content_len = (x).len }
/* clang-format on */

static const struct tpkg base = { .name = "base", .version = "1", .files = { NOSUM("/usr") } };
static const struct tpkg hello10 = { .name = "hello",
				     .version = "1.0",
				     .files = { NOSUM(D), SUM(SRC, GREET) } };
/* hello 1.1 dropped greet.py. */
static const struct tpkg hello11 = { .name = "hello", .version = "1.1", .files = { NOSUM(D) } };

/* hello 1.0 installed: its source, and byte-code in a new __pycache__. */
static void install(struct fx *fx, const struct pyc *p)
{
	const struct side before = { .pkgs = { base } };
	const struct side after = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, *p) },
		.pkgs = { base, hello10 },
	};

	host_pyc(fx, PYC, p);
	sides(fx, &before, &after);
	compare(fx, NULL);
}

static void assert_drift(const struct got *g, const char *why)
{
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, why);
}

/* ---- rule 1 and 2: byte-code of a packaged source ---- */

static void test_byte_code_of_packaged_source_is_expected(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15);
	const struct side before = { .pkgs = { base } };
	const struct side after = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, p), BIN(PYC_O1, p) },
		.pkgs = { base, hello10 },
	};
	const struct got *g;

	host_source(fx, GREET);
	host_pyc(fx, PYC, &p);
	host_pyc(fx, PYC_O1, &p);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, PYC);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code of greet.py (package hello 1.0)");
	assert_package(g, "hello:amd64", "-", "1.0");
	assert_false(g->unowned);
	g = file(fx, PYC_O1);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code of greet.py (package hello 1.0)");
	g = file(fx, CACHE);
	assert_int_equal(g->change, CHANGE_ADDED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code directory of package hello 1.0");
	assert_package(g, "hello:amd64", "-", "1.0");
	/* The package's own files are dpkg's. */
	assert_string_equal(file(fx, SRC)->reason, "package hello 1.0 installed");
}

static void test_rewritten_byte_code(void **state)
{
	struct fx *fx = *state;
	struct pyc old = pyc_ts(MTIME - 100, 15), p = pyc_ts(MTIME, 15);
	const struct tfile exec = { .path = CACHE "/greet.cpython-312.pyc",
				    .content = old.b,
				    .content_len = old.len,
				    .mode = S_IFREG | 0755 };
	const struct side before = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, old),
			   BIN(CACHE "/greet.cpython-312.pyc", old) },
		.pkgs = { base, hello10 },
	};
	const struct side after = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, p), exec },
		.pkgs = { base, hello10 },
	};
	const struct got *g;

	host_source(fx, GREET);
	host_pyc(fx, PYC, &p);
	host_pyc(fx, CACHE "/greet.cpython-312.pyc", &old);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, PYC);
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code of greet.py (package hello 1.0)");
	/* A new mode is not py3compile's doing. */
	assert_drift(file(fx, CACHE "/greet.cpython-312.pyc"), "more than its content changed");
}

static void test_hash_based_byte_code(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_hash(), forged = pyc_hash(), old = pyc_hash();
	const struct side before = { .pkgs = { base } };
	const struct side after = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, p), BIN(PYC_O1, forged),
			   BIN(CACHE "/greet.cpython-310.pyc", old) },
		.pkgs = { base, hello10 },
	};
	const struct got *g;

	forged.b[15] ^= 1;
	memcpy(old.b, "\x6f\x0d\r\n", 4); /* 3439: Python 3.10, SipHash-2-4 */
	host_source(fx, GREET);
	host_pyc(fx, PYC, &p);
	host_pyc(fx, PYC_O1, &forged);
	host_pyc(fx, CACHE "/greet.cpython-310.pyc", &old);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, PYC);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code of greet.py (package hello 1.0)");
	assert_drift(file(fx, PYC_O1), "byte-code header does not match greet.py (source hash)");
	assert_drift(file(fx, CACHE "/greet.cpython-310.pyc"), "not verifiable");
	/* One file not explained: neither is the directory. */
	assert_drift(file(fx, CACHE), "greet.cpython-310.pyc in it: ");
	assert_contains(file(fx, CACHE)->reason, "(and 1 more)");
}

/* ---- rule 1's counter-cases ---- */

static void test_forged_header_stays_drift(void **state)
{
	struct fx *fx = *state;
	struct pyc mtime = pyc_ts(MTIME + 1, 15), size = pyc_ts(MTIME, 16);
	const struct side before = { .pkgs = { base } };
	const struct side after = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, mtime),
			   BIN(PYC_O1, size) },
		.pkgs = { base, hello10 },
	};
	const struct got *g;

	host_source(fx, GREET);
	host_pyc(fx, PYC, &mtime);
	host_pyc(fx, PYC_O1, &size);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, PYC);
	assert_drift(g, "byte-code header does not match greet.py (mtime or size)");
	assert_drift(file(fx, PYC_O1), "byte-code header does not match greet.py");
	assert_drift(file(fx, CACHE),
		     "greet.cpython-311.opt-1.pyc in it: byte-code header does not match");
}

static void test_no_source(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15);
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { DIR(CACHE), BIN(PYC, p) }, .pkgs = { base } };

	host_pyc(fx, PYC, &p);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_drift(file(fx, PYC), "byte-code without a packaged source (greet.py is missing)");
	assert_drift(file(fx, CACHE), "byte-code without a packaged source");
}

static void test_source_not_packaged(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15);
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { REG(SRC, GREET), DIR(CACHE), BIN(PYC, p) },
				    .pkgs = { base } };

	host_source(fx, GREET);
	host_pyc(fx, PYC, &p);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_drift(file(fx, PYC),
		     "byte-code without a packaged source (no package owns greet.py)");
	assert_drift(file(fx, CACHE), "no package owns greet.py");
}

static void test_source_modified(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15); /* matches the changed source's mtime and size */

	host_source(fx, GREET_MY);
	install(fx, &p);

	assert_drift(file(fx, PYC), "greet.py does not match package hello 1.0");
	assert_drift(file(fx, CACHE), "greet.py does not match package hello 1.0");
}

static void test_byte_code_changed_since_snapshot(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15), other = pyc_ts(MTIME, 15);
	const struct side before = { .pkgs = { base } };
	const struct side after = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, p) },
		.pkgs = { base, hello10 },
	};

	other.b[20] = 'X'; /* the header still right, the body not the snapshot's */
	host_source(fx, GREET);
	host_pyc(fx, PYC, &other);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_drift(file(fx, PYC), "the byte-code changed since the snapshot");
	assert_drift(file(fx, CACHE), "the byte-code changed since the snapshot");
}

static void test_not_byte_code_where_byte_code_goes(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15);
	const struct tfile exec = {
		.path = PYC, .content = p.b, .content_len = p.len, .mode = S_IFREG | 0755
	};
	const struct side before = { .pkgs = { base } };
	const struct side after = {
		.files = { DIR(D), BIN(D "/greet.pyc", p), REG(SRC, GREET), DIR(CACHE),
			   REG(CACHE "/evil.sh", "#!/bin/sh\n"), exec },
		.pkgs = { base, hello10 },
	};

	host_source(fx, GREET);
	host_pyc(fx, PYC, &p);
	host_pyc(fx, D "/greet.pyc", &p);
	host_put(fx, CACHE "/evil.sh", "#!/bin/sh\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_drift(file(fx, D "/greet.pyc"), "byte-code outside a __pycache__");
	assert_drift(file(fx, CACHE "/evil.sh"), "not byte-code of a source in a __pycache__");
	assert_drift(file(fx, PYC), "executable byte-code");
	assert_drift(file(fx, CACHE), "evil.sh in it: not byte-code");
}

static void test_empty_cache_directory(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { DIR(D), REG(SRC, GREET), DIR(CACHE) },
				    .pkgs = { base, hello10 } };

	host_source(fx, GREET);
	host_mkdir(fx, CACHE);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_drift(file(fx, CACHE), "empty byte-code directory");
}

/* ---- rule 3: byte-code removed with its source ---- */

static void removed(struct fx *fx, const struct tpkg *was, const struct tpkg *now)
{
	struct pyc p = pyc_ts(MTIME, 15);
	const struct side before = {
		.files = { DIR(D), REG(SRC, GREET), DIR(CACHE), BIN(PYC, p) },
		.pkgs = { base, *was },
	};
	struct side after = { .files = { DIR(D) }, .pkgs = { base } };

	if (now)
		after.pkgs[1] = *now;
	sides(fx, &before, &after);
	compare(fx, NULL);
}

static void test_removed_with_package(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	removed(fx, &hello10, NULL);

	g = file(fx, PYC);
	assert_int_equal(g->change, CHANGE_REMOVED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code of greet.py (package hello 1.0 removed)");
	assert_package(g, "hello:amd64", "1.0", "-");
	g = file(fx, CACHE);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code directory of package hello 1.0, removed");
}

static void test_removed_with_upgrade(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	removed(fx, &hello10, &hello11);

	g = file(fx, PYC);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "byte-code of greet.py (package hello upgraded 1.0 -> 1.1)");
	assert_package(g, "hello:amd64", "1.0", "1.1");
	assert_int_equal(file(fx, CACHE)->class, CLASS_EXPECTED);
}

static void test_removed_source_still_there(void **state)
{
	struct fx *fx = *state;

	host_source(fx, GREET);
	removed(fx, &hello10, NULL);

	assert_drift(file(fx, PYC), "greet.py is still on the host");
	assert_drift(file(fx, CACHE), "greet.py is still on the host");
}

static void test_removed_package_unchanged(void **state)
{
	struct fx *fx = *state;

	/* hello 1.0 on both sides, and its source gone from the host. */
	removed(fx, &hello10, &hello10);

	assert_drift(file(fx, PYC), "package hello 1.0 still ships greet.py");
}

static void test_removed_source_never_packaged(void **state)
{
	struct fx *fx = *state;
	struct pyc p = pyc_ts(MTIME, 15);
	const struct side before = { .files = { DIR(CACHE), BIN(PYC, p) }, .pkgs = { base } };
	const struct side after = { .pkgs = { base } };

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_drift(file(fx, PYC), "byte-code of greet.py, which no package owned");
	assert_drift(file(fx, CACHE), "which no package owned");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_byte_code_of_packaged_source_is_expected),
		T(test_rewritten_byte_code),
		T(test_hash_based_byte_code),
		T(test_forged_header_stays_drift),
		T(test_no_source),
		T(test_source_not_packaged),
		T(test_source_modified),
		T(test_byte_code_changed_since_snapshot),
		T(test_not_byte_code_where_byte_code_goes),
		T(test_empty_cache_directory),
		T(test_removed_with_package),
		T(test_removed_with_upgrade),
		T(test_removed_source_still_there),
		T(test_removed_package_unchanged),
		T(test_removed_source_never_packaged),
#undef T
	};
	return cmocka_run_group_tests_name("compare/pyc", tests, NULL, troot_cleanup_all);
}
