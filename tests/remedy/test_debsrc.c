/*
 * Tests of remedy/debsrc.c: a package file's bytes from its .deb. The
 * fixture is built at test time: a tiny package "hello" (dpkg-deb --build)
 * and a root whose dpkg database says it is installed, with the real sums.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "remedy/debsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/diag.h"

#define VERSION  "1:1.0-1"
#define DEB_NAME "hello_1%3a1.0-1_all.deb"
/* over the 100 bytes of a tar header's name: dpkg-deb writes a GNU long name */
#define LONG_PATH                                                               \
	"usr/share/hello/a-directory-name-long-enough/to-push-the-member-name/" \
	"beyond-the-hundred-bytes-of-a-tar-header/file.txt"

static const char hello_bytes[] = "#!/bin/sh\necho hello\n";
static const char tampered_bytes[] = "#!/bin/sh\necho pwned\n";
static const char conf_bytes[] = "greeting = hello\n";
static const char long_bytes[] = "deep down\n";
static const char x_bytes[] = "x marks the spot\n";
static const char nosum_bytes[] = "dpkg has no sum of me\n";

static char base[] = "/var/tmp/drift-test-debsrc-XXXXXX";
static char cache[PATH_MAX], cache_bad[PATH_MAX], cache_none[PATH_MAX];
static int rootfd = -1;

/* ---- the fixture ---- */

static void path_at(char *out, size_t n, const char *rel)
{
	assert_true((size_t)snprintf(out, n, "%s/%s", base, rel) < n);
}

/* mkdir -p of @rel under the base, or of its parent when @parent */
static void mkdirs(const char *rel, bool parent)
{
	char p[PATH_MAX];

	path_at(p, sizeof(p), rel);
	if (parent)
		*strrchr(p, '/') = '\0';
	for (char *s = p + strlen(base) + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
			*s = c;
		}
		if (!*s)
			break;
	}
}

static void put(const char *rel, const void *bytes, size_t len)
{
	char p[PATH_MAX];
	FILE *f;

	mkdirs(rel, true);
	path_at(p, sizeof(p), rel);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void puts_at(const char *rel, const char *s)
{
	put(rel, s, strlen(s));
}

static void md5_hex(const char *s, char out[33])
{
	unsigned char md[16];
	unsigned int len = 0;

	assert_true(EVP_Digest(s, strlen(s), md, &len, EVP_md5(), NULL));
	assert_int_equal(len, 16);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The package tree @dir with @hello as usr/bin/hello, built into @deb (relative). */
static void build_deb(const char *dir, const char *hello, const char *deb)
{
	char rel[PATH_MAX], p[PATH_MAX], q[PATH_MAX], cmd[3 * PATH_MAX];
	static const char *const files[][2] = {
		{ "etc/hello.conf", conf_bytes },
		{ LONG_PATH, long_bytes },
		{ "bin/x", x_bytes },
		{ "usr/share/hello/nosum", nosum_bytes },
		{ "DEBIAN/control", "Package: hello\nVersion: " VERSION "\nArchitecture: all\n"
				    "Maintainer: Drift Tests <drift@example.org>\n"
				    "Description: a package for drift's tests\n" },
		{ "DEBIAN/conffiles", "/etc/hello.conf\n" },
	};

	snprintf(rel, sizeof(rel), "%s/usr/bin/hello", dir);
	puts_at(rel, hello);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, files[i][0]);
		puts_at(rel, files[i][1]);
	}
	/* a hard link: one of the two is a tar hard-link member */
	snprintf(rel, sizeof(rel), "%s/usr/bin/hello", dir);
	path_at(p, sizeof(p), rel);
	snprintf(rel, sizeof(rel), "%s/usr/bin/hello-link", dir);
	path_at(q, sizeof(q), rel);
	assert_int_equal(link(p, q), 0);

	path_at(p, sizeof(p), dir);
	mkdirs(deb, true);
	path_at(q, sizeof(q), deb);
	snprintf(cmd, sizeof(cmd),
		 "dpkg-deb -Zgzip --root-owner-group --build '%s' '%s' >/dev/null", p, q);
	assert_int_equal(system(cmd), 0);
}

static int group_setup(void **state)
{
	char rel[PATH_MAX], p[PATH_MAX], q[PATH_MAX], list[2048], sums[1024], status[512];
	char md5_hello[33], md5_conf[33], md5_long[33], md5_x[33];

	(void)state;
	umask(022);
	assert_non_null(mkdtemp(base));
	build_deb("pkg", hello_bytes, "cache/" DEB_NAME);
	build_deb("pkg-bad", tampered_bytes, "cache-bad/" DEB_NAME);
	mkdirs("cache-none", false);
	path_at(cache, sizeof(cache), "cache");
	path_at(cache_bad, sizeof(cache_bad), "cache-bad");
	path_at(cache_none, sizeof(cache_none), "cache-none");

	/* the root: merged /usr, the package installed, apt's cache holding its .deb */
	mkdirs("root/usr/bin", false);
	path_at(p, sizeof(p), "root/bin");
	assert_int_equal(symlink("usr/bin", p), 0);
	mkdirs("root/var/cache/apt/archives", false);
	path_at(p, sizeof(p), "cache/" DEB_NAME);
	path_at(q, sizeof(q), "root/var/cache/apt/archives/" DEB_NAME);
	assert_int_equal(link(p, q), 0);

	md5_hex(hello_bytes, md5_hello);
	md5_hex(conf_bytes, md5_conf);
	md5_hex(long_bytes, md5_long);
	md5_hex(x_bytes, md5_x);
	snprintf(status, sizeof(status),
		 "Package: hello\nStatus: install ok installed\nArchitecture: all\n"
		 "Version: " VERSION "\nConffiles:\n /etc/hello.conf %s\n",
		 md5_conf);
	puts_at("root/var/lib/dpkg/status", status);
	snprintf(list, sizeof(list),
		 "/.\n/bin\n/bin/x\n/etc\n/etc/hello.conf\n/usr\n/usr/bin\n/usr/bin/hello\n"
		 "/usr/bin/hello-link\n/usr/share\n/usr/share/hello\n/usr/share/hello/nosum\n"
		 "/%s\n",
		 LONG_PATH);
	puts_at("root/var/lib/dpkg/info/hello.list", list);
	snprintf(sums, sizeof(sums),
		 "%s  usr/bin/hello\n%s  usr/bin/hello-link\n%s  bin/x\n%s  " LONG_PATH "\n",
		 md5_hello, md5_hello, md5_x, md5_long);
	puts_at("root/var/lib/dpkg/info/hello.md5sums", sums);

	snprintf(rel, sizeof(rel), "root");
	path_at(p, sizeof(p), rel);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int group_teardown(void **state)
{
	(void)state;
	if (rootfd >= 0)
		close(rootfd);
	return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ---- */

struct got {
	int r;
	uint8_t *bytes;
	size_t len;
	char *origin;
	struct diag d;
};

static struct got fetch(const char *cachedir, const char *pkg, const char *path, size_t max)
{
	struct deb_source src = { .rootfd = rootfd, .cachedir = cachedir, .download = false };
	struct got g = { 0 };

	g.r = deb_fetch(&src, pkg, VERSION, path, max, &g.bytes, &g.len, &g.origin, &g.d);
	return g;
}

static void got_free(struct got *g)
{
	free(g->bytes);
	free(g->origin);
}

static void assert_fetched(const char *pkg, const char *path, const char *want)
{
	char origin[sizeof(cache) + sizeof(DEB_NAME) + 1];
	struct got g = fetch(cache, pkg, path, 1 << 20);

	if (g.r < 0)
		fail_msg("%s: %d %s", path, g.r, g.d.msg);
	assert_int_equal(g.len, strlen(want));
	assert_memory_equal(g.bytes, want, g.len);
	snprintf(origin, sizeof(origin), "%s/%s", cache, DEB_NAME);
	assert_string_equal(g.origin, origin);
	got_free(&g);
}

/* ---- tests ---- */

static void test_fetch_file(void **state)
{
	(void)state;
	assert_fetched("hello", "/usr/bin/hello", hello_bytes);
	assert_fetched("hello:all", "/usr/bin/hello", hello_bytes);
}

static void test_fetch_conffile(void **state)
{
	(void)state;
	assert_fetched("hello", "/etc/hello.conf", conf_bytes);
}

static void test_fetch_long_name(void **state)
{
	(void)state;
	assert_fetched("hello", "/" LONG_PATH, long_bytes);
}

static void test_fetch_merged_usr(void **state)
{
	(void)state;
	/* dpkg lists /bin/x; bin -> usr/bin, so it is /usr/bin/x; the member is ./bin/x */
	assert_fetched("hello", "/usr/bin/x", x_bytes);
}

static void test_fetch_hard_link(void **state)
{
	(void)state;
	assert_fetched("hello", "/usr/bin/hello-link", hello_bytes);
}

static void test_fetch_from_apt_cache_under_root(void **state)
{
	struct got g = fetch(NULL, "hello", "/usr/bin/hello", 1 << 20);
	const char *tail = "/root/var/cache/apt/archives/" DEB_NAME;

	(void)state;
	assert_int_equal(g.r, 0);
	assert_memory_equal(g.bytes, hello_bytes, g.len);
	assert_true(strlen(g.origin) > strlen(tail));
	assert_string_equal(g.origin + strlen(g.origin) - strlen(tail), tail);
	got_free(&g);
}

static void test_tampered_deb_is_refused(void **state)
{
	struct got g = fetch(cache_bad, "hello", "/usr/bin/hello", 1 << 20);

	(void)state;
	assert_int_equal(g.r, -EBADMSG);
	assert_null(g.bytes);
	assert_non_null(strstr(g.d.msg, "does not match dpkg's sum"));
	assert_non_null(strstr(g.d.msg, cache_bad));
	/* the files that were not touched still come */
	got_free(&g);
	g = fetch(cache_bad, "hello", "/etc/hello.conf", 1 << 20);
	assert_int_equal(g.r, 0);
	got_free(&g);
}

static void test_missing_deb_names_the_command(void **state)
{
	struct got g = fetch(cache_none, "hello", "/usr/bin/hello", 1 << 20);

	(void)state;
	assert_int_equal(g.r, -ENOENT);
	assert_non_null(strstr(g.d.msg, cache_none));
	assert_non_null(strstr(g.d.msg, "apt-get download hello=" VERSION));
	got_free(&g);
}

static void test_no_sum_is_enodata(void **state)
{
	struct got g = fetch(cache, "hello", "/usr/share/hello/nosum", 1 << 20);

	(void)state;
	assert_int_equal(g.r, -ENODATA);
	assert_non_null(strstr(g.d.msg, "/usr/share/hello/nosum"));
	got_free(&g);
}

static void test_too_large_is_efbig(void **state)
{
	struct got g = fetch(cache, "hello", "/usr/bin/hello", 3);

	(void)state;
	assert_int_equal(g.r, -EFBIG);
	assert_null(g.bytes);
	got_free(&g);
}

static void test_not_dpkgs_is_enoent(void **state)
{
	struct got g = fetch(cache, "hello", "/usr/bin/nope", 1 << 20);

	(void)state;
	assert_int_equal(g.r, -ENOENT);
	got_free(&g);
	g = fetch(cache, "nope", "/usr/bin/hello", 1 << 20);
	assert_int_equal(g.r, -ENOENT);
	got_free(&g);
	g = fetch(cache, "hello:amd64", "/usr/bin/hello", 1 << 20);
	assert_int_equal(g.r, -ENOENT);
	got_free(&g);
}

static void test_not_a_deb_is_eio(void **state)
{
	char dir[PATH_MAX], p[PATH_MAX];
	struct got g;

	(void)state;
	puts_at("cache-junk/" DEB_NAME, "this is not an ar archive\n");
	path_at(dir, sizeof(dir), "cache-junk");
	g = fetch(dir, "hello", "/usr/bin/hello", 1 << 20);
	assert_int_equal(g.r, -EIO);
	assert_non_null(strstr(g.d.msg, "dpkg-deb"));
	got_free(&g);
	path_at(p, sizeof(p), "cache-junk/" DEB_NAME);
	unlink(p);
	rmdir(dir);
}

/* Whether an executable dpkg-deb is in PATH. */
static bool have_dpkg_deb(void)
{
	const char *path = getenv("PATH");
	char p[PATH_MAX];

	for (const char *s = path ? path : "/usr/bin:/bin"; *s;) {
		size_t n = strcspn(s, ":");

		snprintf(p, sizeof(p), "%.*s/dpkg-deb", (int)n, s);
		if (n && access(p, X_OK) == 0)
			return true;
		s += n + (s[n] == ':');
	}
	return false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_file),
		cmocka_unit_test(test_fetch_conffile),
		cmocka_unit_test(test_fetch_long_name),
		cmocka_unit_test(test_fetch_merged_usr),
		cmocka_unit_test(test_fetch_hard_link),
		cmocka_unit_test(test_fetch_from_apt_cache_under_root),
		cmocka_unit_test(test_tampered_deb_is_refused),
		cmocka_unit_test(test_missing_deb_names_the_command),
		cmocka_unit_test(test_no_sum_is_enodata),
		cmocka_unit_test(test_too_large_is_efbig),
		cmocka_unit_test(test_not_dpkgs_is_enoent),
		cmocka_unit_test(test_not_a_deb_is_eio),
	};

	if (!have_dpkg_deb()) {
		printf("1..0 # SKIP dpkg-deb not found\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
