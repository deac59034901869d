/* Tests of scanner/dpkg.c: the status file, file lists, canonical paths, the index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scanner/dpkg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "tests/probe/dpkg/troot.h"

static const uint8_t md5_hello_conf[16] = { 0x5b, 0x70, 0xc3, 0xed, 0x8b, 0x6a, 0xa5, 0x13,
					    0xe0, 0x5d, 0xe2, 0x58, 0xf5, 0xf6, 0x89, 0x91 };
static const uint8_t md5_hello[16] = { 0xd9, 0xee, 0x44, 0xd5, 0x93, 0x90, 0xc7, 0x09,
				       0x7f, 0x20, 0xa0, 0xec, 0x1c, 0x44, 0x90, 0x48 };
static const uint8_t md5_libfoo[16] = { 0xf3, 0x6c, 0x2e, 0x41, 0x7f, 0x95, 0xc6, 0xac,
					0x67, 0x2f, 0x1b, 0x14, 0x5a, 0x4e, 0x38, 0xe9 };

static int fixture_fd(void)
{
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* ---- collected files ---- */

#define FILES_MAX 32

struct files {
	size_t n;
	struct {
		char path[256];
		struct dpkg_file f;
		char pkg[32];
	} f[FILES_MAX];
	int fail_at; /* return -EINTR at this call (1-based), 0 never */
};

static int files_add(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	struct files *fs = userdata;

	assert_true(fs->n < FILES_MAX);
	assert_int_equal(strlen(f->path), f->path_len);
	snprintf(fs->f[fs->n].path, sizeof(fs->f[fs->n].path), "%s", f->path);
	snprintf(fs->f[fs->n].pkg, sizeof(fs->f[fs->n].pkg), "%s", pkg->name);
	fs->f[fs->n].f = *f;
	fs->f[fs->n].f.path = fs->f[fs->n].path;
	fs->n++;
	if (fs->fail_at && fs->n == (size_t)fs->fail_at)
		return -EINTR;
	return 0;
}

/* The file @path was handed out as; fails the test when it was not (never NULL). */
static const struct dpkg_file *files_get(const struct files *fs, const char *path)
{
	static const struct dpkg_file none;

	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].path, path))
			return &fs->f[i].f;
	fail_msg("'%s' not handed out", path);
	return &none;
}

static size_t pkg_index(const struct dpkg_db *db, const char *name)
{
	for (size_t i = 0; i < dpkg_db_count(db); i++)
		if (!strcmp(dpkg_db_get(db, i)->name, name))
			return i;
	fail_msg("no package '%s'", name);
	return SIZE_MAX;
}

/* ---- the status file ---- */

static void test_dpkg_db_load_reads_every_field(void **state)
{
	struct findings fs = { 0 };
	struct dpkg_db *db = NULL;
	const struct dpkg_pkg *p;
	int fd = fixture_fd();

	(void)state;
	assert_int_equal(dpkg_db_load(fd, findings_add, &fs, &db, NULL), 0);
	close(fd); /* the db keeps its own */
	assert_int_equal(fs.n, 0);
	assert_int_equal(dpkg_db_count(db), 4); /* "gone" is not-installed */

	p = dpkg_db_get(db, 0);
	assert_string_equal(p->name, "basefiles");
	assert_string_equal(p->arch, "all");
	assert_string_equal(p->version, "12.4");
	assert_string_equal(p->status, "install ok installed");
	assert_false(p->multiarch_same);
	assert_int_equal(p->nconffiles, 0);

	p = dpkg_db_get(db, 1);
	assert_string_equal(p->name, "hello");
	assert_string_equal(p->arch, "amd64");
	assert_string_equal(p->version, "1.0-1");
	assert_int_equal(p->nconffiles, 1);
	assert_string_equal(p->conffiles[0].path, "/etc/hello.conf");
	assert_true(p->conffiles[0].has_md5);
	assert_false(p->conffiles[0].obsolete);
	assert_memory_equal(p->conffiles[0].md5, md5_hello_conf, 16);

	p = dpkg_db_get(db, 2);
	assert_string_equal(p->name, "libfoo1");
	assert_string_equal(p->version, "2.0-1");
	assert_true(p->multiarch_same);

	p = dpkg_db_get(db, 3);
	assert_string_equal(p->name, "oldpkg");
	assert_string_equal(p->status, "deinstall ok config-files");
	assert_int_equal(p->nconffiles, 2);
	assert_string_equal(p->conffiles[0].path, "/etc/oldpkg.conf");
	assert_false(p->conffiles[0].obsolete);
	assert_string_equal(p->conffiles[1].path, "/etc/oldpkg.d/old.conf");
	assert_true(p->conffiles[1].obsolete);
	assert_true(p->conffiles[1].has_md5);
	dpkg_db_free(db);
}

static void test_dpkg_db_load_missing_status_is_enoent(void **state)
{
	struct dpkg_db *db = (struct dpkg_db *)&db; /* a sentinel */
	struct troot t;
	struct diag d = { 0 };

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, &d), -ENOENT);
	assert_ptr_equal(db, (struct dpkg_db *)&db);
	assert_non_null(strstr(d.msg, "var/lib/dpkg/status"));
	/* a directory where the status file should be: an error, not "no dpkg" */
	assert_int_equal(troot_mkdir(&t, "var/lib/dpkg/status"), 0);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, &d), -EISDIR);
	assert_ptr_equal(db, (struct dpkg_db *)&db);
	troot_remove(&t);
}

static const char malformed_status[] =
	"Package: good\n"                                                    /* 1 */
	"Status: install ok installed\n"                                     /* 2 */
	"Architecture: amd64\n"                                              /* 3 */
	"Version: 1\n"                                                       /* 4 */
	"Conffiles:\n"                                                       /* 5 */
	" /etc/good.conf 0123456789abcdef0123456789ABCDEF\n"                 /* 6 */
	" /etc/bad.conf nothex\n"                                            /* 7 */
	" /etc/new.conf newconffile\n"                                       /* 8 */
	" /etc/rm.conf 0123456789abcdef0123456789abcdef remove-on-upgrade\n" /* 9 */
	" nopath\n"                                                          /* 10 */
	"\n"                                                                 /* 11 */
	"Status: install ok installed\n"                                     /* 12 */
	"Version: 1\n"                                                       /* 13 */
	"\n"                                                                 /* 14 */
	"Package: nover\n"                                                   /* 15 */
	"Status: install ok installed\n"                                     /* 16 */
	"Architecture: amd64\n"                                              /* 17 */
	"\n"                                                                 /* 18 */
	"Package: good\n"                                                    /* 19 */
	"Status: install ok installed\n"                                     /* 20 */
	"Architecture: amd64\n"                                              /* 21 */
	"Version: 2\n"                                                       /* 22 */
	"\n"                                                                 /* 23 */
	"this line has no colon\n"                                           /* 24 */
	"Package: badstatus\n"                                               /* 25 */
	"Status: install ok\n"                                               /* 26 */
	"Architecture: amd64\n"                                              /* 27 */
	"Version: 1\n"                                                       /* 28 */
	"\n"                                                                 /* 29 */
	"Package: crlf\r\n"                                                  /* 30 */
	"Status: hold ok installed\r\n"                                      /* 31 */
	"architecture: i386\r\n"                                             /* 32 */
	"Version:  3 \r\n"                                                   /* 33 */
	"\r\n"                                                               /* 34 */
	"Package: cfonly\n"                                                  /* 35 */
	"Status: deinstall ok config-files\n"                                /* 36 */
	"Architecture: amd64\n"                                              /* 37 */
	"\n"                                                                 /* 38 */
	"Package: trunc\n"                                                   /* 39 */
	"Status: install ok installed\n"                                     /* 40 */
	"Architecture: amd64\n"                                              /* 41 */
	"Version: 1\n"                                                       /* 42 */
	"Conffiles:\n"                                                       /* 43 */
	" /etc/trunc.conf 0123";                                             /* 44, cut short */

/* A name with a ':' would take the key of another package's name:arch (found by fuzz_package). */
static void test_dpkg_db_load_colon_in_name_is_a_finding(void **state)
{
	static const char status[] = "Package: libfoo0\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Version: 1\n"
				     "\n"
				     "Package: libfoo0:amd64\n"
				     "Status: install ok installed\n"
				     "Version: 2\n";
	struct findings fs = { 0 };
	struct dpkg_db *db = NULL;
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", status), 0);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fs, &db, NULL), 0);
	assert_int_equal(fs.n, 1);
	assert_true(findings_find(&fs, "var/lib/dpkg/status", 6, "not a package name") >= 0);
	assert_int_equal(dpkg_db_count(db), 1);
	assert_string_equal(dpkg_db_get(db, 0)->name, "libfoo0");
	assert_string_equal(dpkg_db_get(db, 0)->version, "1");
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_db_load_malformed_stanzas_are_findings(void **state)
{
	const char *st = "var/lib/dpkg/status";
	struct findings fs = { 0 };
	struct dpkg_db *db = NULL;
	const struct dpkg_pkg *p;
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, st, malformed_status), 0);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fs, &db, NULL), 0);

	assert_int_equal(fs.n, 8);
	for (size_t i = 0; i < fs.n; i++)
		assert_string_equal(fs.f[i].probe, "package");
	assert_true(findings_find(&fs, st, 7, "malformed 'Conffiles' line") >= 0);
	assert_true(findings_find(&fs, st, 10, "malformed 'Conffiles' line") >= 0);
	assert_true(findings_find(&fs, st, 12, "without a 'Package' field") >= 0);
	assert_true(findings_find(&fs, st, 15, "'nover'") >= 0);
	assert_true(findings_find(&fs, st, 19, "listed twice") >= 0);
	assert_true(findings_find(&fs, st, 24, "malformed line") >= 0);
	assert_true(findings_find(&fs, st, 25, "malformed 'Status' field") >= 0);
	assert_true(findings_find(&fs, st, 44, "malformed 'Conffiles' line") >= 0);

	assert_int_equal(dpkg_db_count(db), 4);
	p = dpkg_db_get(db, 0);
	assert_string_equal(p->name, "cfonly");
	assert_string_equal(p->version, ""); /* config-files may lack one */
	p = dpkg_db_get(db, 1);
	assert_string_equal(p->name, "crlf");
	assert_string_equal(p->arch, "i386"); /* field names are case-insensitive */
	assert_string_equal(p->version, "3");
	assert_string_equal(p->status, "hold ok installed");
	p = dpkg_db_get(db, 2);
	assert_string_equal(p->name, "good");
	assert_string_equal(p->version, "1"); /* the first of the two */
	assert_int_equal(p->nconffiles, 3);
	assert_string_equal(p->conffiles[0].path, "/etc/good.conf");
	assert_true(p->conffiles[0].has_md5);
	assert_int_equal(p->conffiles[0].md5[15], 0xef);
	assert_string_equal(p->conffiles[1].path, "/etc/new.conf");
	assert_false(p->conffiles[1].has_md5);
	assert_string_equal(p->conffiles[2].path, "/etc/rm.conf");
	assert_false(p->conffiles[2].obsolete);
	p = dpkg_db_get(db, 3);
	assert_string_equal(p->name, "trunc");
	assert_int_equal(p->nconffiles, 0);
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_db_load_continuation_outside_field_is_finding(void **state)
{
	struct findings fs = { 0 };
	struct dpkg_db *db = NULL;
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status",
				     " orphan\n"
				     "Package: a\nStatus: install ok installed\nVersion: 1\n"
				     "Description: x\n more\n"
				     "\n\n\n"
				     "Package: b\nStatus: install ok unpacked\nVersion: 1\n"),
			 0);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fs, &db, NULL), 0);
	assert_int_equal(fs.n, 1);
	assert_true(findings_find(&fs, "var/lib/dpkg/status", 1, "continuation") >= 0);
	assert_int_equal(dpkg_db_count(db), 2);
	assert_string_equal(dpkg_db_get(db, 0)->arch, "");
	assert_string_equal(dpkg_db_get(db, 1)->status, "install ok unpacked");
	dpkg_db_free(db);

	/* an empty status file: no packages, no findings */
	fs.n = 0;
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", ""), 0);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fs, &db, NULL), 0);
	assert_int_equal(dpkg_db_count(db), 0);
	assert_int_equal(fs.n, 0);
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_md5_parse_accepts_hex_and_refuses_the_rest(void **state)
{
	uint8_t md5[16], keep[16];

	(void)state;
	assert_int_equal(dpkg_md5_parse("d9ee44d59390c7097f20a0ec1c449048", md5), 0);
	assert_memory_equal(md5, md5_hello, 16);
	assert_int_equal(dpkg_md5_parse("D9EE44D59390C7097F20A0EC1C449048  tail", md5), 0);
	assert_memory_equal(md5, md5_hello, 16);
	memset(md5, 0x55, 16);
	memcpy(keep, md5, 16);
	assert_int_equal(dpkg_md5_parse("d9ee44d59390c7097f20a0ec1c44904", md5), -EINVAL);
	assert_int_equal(dpkg_md5_parse("g9ee44d59390c7097f20a0ec1c449048", md5), -EINVAL);
	assert_int_equal(dpkg_md5_parse("", md5), -EINVAL);
	assert_memory_equal(md5, keep, 16);
}

/* ---- file lists ---- */

/*
 * A list line holding a NUL byte is a finding and skipped: handed out, the
 * path would be cut short at the NUL (found by tests/fuzz/fuzz_dpkg).
 */
static void test_dpkg_pkg_files_nul_in_list_is_finding(void **state)
{
	static const char list[] = "/.\n/usr/bin/a\0b\n/usr/bin/hello\n";
	static const char *const lname = "var/lib/dpkg/info/hello.list";
	struct dpkg_db *db = NULL;
	struct findings fs = { 0 };
	struct files files = { 0 };
	struct troot t;
	char path[256];
	int fd;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status",
				     "Package: hello\nStatus: install ok installed\n"
				     "Architecture: amd64\nVersion: 1.0\n"),
			 0);
	assert_int_equal(troot_write(&t, lname, ""), 0);
	snprintf(path, sizeof(path), "%s/%s", t.dir, lname);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, list, sizeof(list) - 1), (ssize_t)(sizeof(list) - 1));
	close(fd);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fs, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "hello"), files_add, &files, NULL), 0);
	assert_int_equal(files.n, 2);
	assert_string_equal(files.f[0].path, "/");
	assert_string_equal(files.f[1].path, "/usr/bin/hello");
	assert_true(findings_find(&fs, lname, 2, "contains a NUL byte") >= 0);
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_pkg_files_canonicalizes_merged_usr(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { 0 };
	const struct dpkg_file *f;
	int fd = fixture_fd();
	static const char *const want[] = {
		"/",
		"/lib", /* the symlink itself: the last component is never resolved */
		"/usr/lib/x86_64-linux-gnu",
		"/usr/lib/x86_64-linux-gnu/libfoo.so.1",
		"/usr",
		"/usr/share",
		"/usr/share/doc",
		"/usr/share/doc/libfoo1",
		"/usr/share/doc/libfoo1/copyright",
	};

	(void)state;
	assert_int_equal(dpkg_db_load(fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "libfoo1"), files_add, &fs, NULL), 0);
	assert_int_equal(fs.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < fs.n; i++) {
		assert_string_equal(fs.f[i].path, want[i]);
		assert_string_equal(fs.f[i].pkg, "libfoo1");
		assert_false(fs.f[i].f.conffile);
		assert_false(fs.f[i].f.diverted);
	}
	f = files_get(&fs, "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
	assert_true(f->has_md5);
	assert_memory_equal(f->md5, md5_libfoo, 16);
	assert_true(files_get(&fs, "/usr/share/doc/libfoo1/copyright")->has_md5);
	assert_false(files_get(&fs, "/usr/lib/x86_64-linux-gnu")->has_md5);
	dpkg_db_free(db);
	close(fd);
}

static void test_dpkg_pkg_files_takes_sums_from_md5sums_and_conffiles(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { 0 };
	const struct dpkg_file *f;
	int fd = fixture_fd();

	(void)state;
	assert_int_equal(dpkg_db_load(fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "hello"), files_add, &fs, NULL), 0);
	assert_int_equal(fs.n, 10);
	f = files_get(&fs, "/etc/hello.conf");
	assert_non_null(f);
	assert_true(f->conffile);
	assert_true(f->has_md5);
	assert_false(f->obsolete);
	assert_memory_equal(f->md5, md5_hello_conf, 16);
	f = files_get(&fs, "/usr/bin/hello");
	assert_non_null(f);
	assert_false(f->conffile);
	assert_true(f->has_md5);
	assert_memory_equal(f->md5, md5_hello, 16);
	f = files_get(&fs, "/usr/share/doc/hello");
	assert_non_null(f);
	assert_false(f->has_md5);

	/* config-files: only what is left, no finding for anything */
	fs.n = 0;
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "oldpkg"), files_add, &fs, NULL), 0);
	assert_int_equal(fs.n, 2);
	f = files_get(&fs, "/etc/oldpkg.conf");
	assert_true(f->conffile);
	assert_true(f->has_md5);
	dpkg_db_free(db);
	close(fd);
}

static void test_dpkg_pkg_files_stops_when_the_callback_fails(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { .fail_at = 3 };
	int fd = fixture_fd();

	(void)state;
	assert_int_equal(dpkg_db_load(fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "hello"), files_add, &fs, NULL), -EINTR);
	assert_int_equal(fs.n, 3);
	dpkg_db_free(db);
	close(fd);
}

static const char one_pkg_status[] = "Package: t\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Version: 1\n"
				     "\n"
				     "Package: gone\n"
				     "Status: deinstall ok config-files\n"
				     "Architecture: amd64\n"
				     "Version: 1\n";

static void test_dpkg_pkg_files_resolves_symlinks_under_the_root(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { 0 };
	struct troot t;
	static const char *const pairs[][2] = {
		{ "/bin/hello", "/usr/bin/hello" },
		{ "/a/doc/f", "/usr/share/doc/f" },     /* a -> /usr/share, absolute */
		{ "/b/f", "/usr/lib/f" },               /* b -> ../usr/./lib, ".." at the root */
		{ "/loop1/f", "/loop1/f" },             /* a loop: left as it is */
		{ "/x/f", "/usr/bin/f" },               /* x -> bin -> usr/bin */
		{ "/nodir/sub/f", "/nodir/sub/f" },     /* not there: as listed */
		{ "/lib/nodir/f", "/usr/lib/nodir/f" }, /* the part that exists is resolved */
		{ "/esc/f", "/etc/f" },                 /* never above the root */
		{ "/usr/share/doc/d/f", "/usr/lib/f" }, /* d -> ../../lib, relative inside */
		{ "/bin", "/bin" },
		{ "/usr/share/doc/e/g", "/usr/share/doc/e/g" }, /* e -> file: ENOTDIR later */
	};
	char list[1024] = "";

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		size_t l = strlen(list);

		snprintf(list + l, sizeof(list) - l, "%s\n", pairs[i][0]);
	}
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/t.list", list), 0);
	assert_int_equal(troot_mkdir(&t, "usr/bin"), 0);
	assert_int_equal(troot_mkdir(&t, "usr/lib"), 0);
	assert_int_equal(troot_mkdir(&t, "usr/share/doc"), 0);
	assert_int_equal(troot_mkdir(&t, "etc"), 0);
	assert_int_equal(troot_symlink(&t, "bin", "usr/bin"), 0);
	assert_int_equal(troot_symlink(&t, "lib", "usr/lib"), 0);
	assert_int_equal(troot_symlink(&t, "a", "/usr/share"), 0);
	assert_int_equal(troot_symlink(&t, "b", "../usr/./lib"), 0);
	assert_int_equal(troot_symlink(&t, "loop1", "loop2"), 0);
	assert_int_equal(troot_symlink(&t, "loop2", "/loop1"), 0);
	assert_int_equal(troot_symlink(&t, "x", "bin"), 0);
	assert_int_equal(troot_symlink(&t, "esc", "../../../../etc"), 0);
	assert_int_equal(troot_symlink(&t, "usr/share/doc/d", "../../lib"), 0);
	assert_int_equal(troot_write(&t, "usr/share/doc/e", "a file\n"), 0);

	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "t"), files_add, &fs, NULL), 0);
	assert_int_equal(fs.n, sizeof(pairs) / sizeof(pairs[0]));
	for (size_t i = 0; i < fs.n; i++)
		assert_string_equal(fs.f[i].path, pairs[i][1]);
	/* a second pass answers from the cache, the same */
	fs.n = 0;
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "t"), files_add, &fs, NULL), 0);
	for (size_t i = 0; i < fs.n; i++)
		assert_string_equal(fs.f[i].path, pairs[i][1]);
	dpkg_db_free(db);
	troot_remove(&t);
}

struct deep {
	const char *want;
	size_t calls;
};

static int deep_check(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	struct deep *dp = userdata;

	(void)pkg;
	assert_int_equal(f->path_len, strlen(dp->want));
	assert_string_equal(f->path, dp->want);
	dp->calls++;
	return 0;
}

/* A list line of 8,000 components: no recursion per component, no stack overflow. */
static void test_dpkg_pkg_files_takes_very_deep_paths(void **state)
{
	enum { DEPTH = 8000 };
	struct dpkg_db *db = NULL;
	struct troot t;
	char *line = malloc(DEPTH * 2 + 8);
	size_t len = 0;
	char *want = malloc(DEPTH * 2 + 8);
	struct deep dp = { .want = want };

	(void)state;
	assert_non_null(line);
	assert_non_null(want);
	for (int i = 0; i < DEPTH; i++) {
		line[len++] = '/';
		line[len++] = i == 3 ? 'b' : 'd'; /* /d/d/d/b/...: b -> usr/bin below */
	}
	line[len++] = '\n';
	line[len] = '\0';
	/* "/usr/bin" for the first four, then the rest as listed */
	snprintf(want, DEPTH * 2 + 8, "/usr/bin%s", line + 8);
	want[strlen(want) - 1] = '\0';
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/t.list", line), 0);
	assert_int_equal(troot_mkdir(&t, "d/d/d"), 0);
	assert_int_equal(troot_mkdir(&t, "usr/bin"), 0);
	assert_int_equal(troot_symlink(&t, "d/d/d/b", "../../../usr/bin"), 0);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "t"), deep_check, &dp, NULL), 0);
	assert_int_equal(dp.calls, 1);
	dpkg_db_free(db);
	free(line);
	free(want);
	troot_remove(&t);
}

static void test_dpkg_pkg_files_applies_diversions(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { 0 };
	struct findings fi = { 0 };
	const struct dpkg_file *f;
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/t.list",
				     "/usr/bin/hello\n/usr/bin/own\n/bin/local\n"),
			 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/t.md5sums",
				     "d9ee44d59390c7097f20a0ec1c449048  usr/bin/hello\n"
				     "not a sum line\n"
				     "f36c2e417f95c6ac672f1b145a4e38e9 */usr/bin/own\n"),
			 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/diversions",
				     "/usr/bin/hello\n/usr/bin/hello.distrib\nother\n"
				     "/usr/bin/own\n/usr/bin/own.orig\nt\n"
				     "/bin/local\n/bin/local.orig\n:\n"
				     "/usr/bin/half\n"),
			 0);
	assert_int_equal(troot_mkdir(&t, "usr/bin"), 0);
	assert_int_equal(troot_symlink(&t, "bin", "usr/bin"), 0);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fi, &db, NULL), 0);
	assert_int_equal(fi.n, 1);
	assert_true(findings_find(&fi, "var/lib/dpkg/diversions", 10, "truncated diversion") >= 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "t"), files_add, &fs, NULL), 0);
	assert_int_equal(fi.n, 2);
	assert_true(findings_find(&fi, "var/lib/dpkg/info/t.md5sums", 2, "malformed line") >= 0);
	assert_int_equal(fs.n, 3);
	f = files_get(&fs, "/usr/bin/hello.distrib"); /* diverted by another package */
	assert_non_null(f);
	assert_true(f->diverted);
	assert_true(f->has_md5);
	assert_memory_equal(f->md5, md5_hello, 16);
	f = files_get(&fs, "/usr/bin/own"); /* its own diversion: the package's file stays */
	assert_non_null(f);
	assert_false(f->diverted);
	assert_memory_equal(f->md5, md5_libfoo, 16); /* " *" binary-mode separator */
	f = files_get(&fs, "/usr/bin/local.orig");   /* a local diversion, canonicalized */
	assert_non_null(f);
	assert_true(f->diverted);
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_pkg_files_missing_list_is_finding(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { 0 };
	struct findings fi = { 0 };
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	assert_int_equal(dpkg_db_load(t.fd, findings_add, &fi, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "t"), files_add, &fs, NULL), 0);
	assert_int_equal(fs.n, 0);
	assert_int_equal(fi.n, 1);
	assert_true(findings_find(&fi, "var/lib/dpkg/info/t.list", 0, "no file list") >= 0);
	assert_string_equal(fi.f[0].probe, "package");
	/* config-files without a list: nothing to say */
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "gone"), files_add, &fs, NULL), 0);
	assert_int_equal(fi.n, 1);
	assert_int_equal(fs.n, 0);
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_pkg_files_unreadable_list_fails(void **state)
{
	struct dpkg_db *db = NULL;
	struct files fs = { 0 };
	struct diag d = { 0 };
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	assert_int_equal(troot_mkdir(&t, "var/lib/dpkg/info/t.list"), 0);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_pkg_files(db, pkg_index(db, "t"), files_add, &fs, &d), -EISDIR);
	assert_non_null(strstr(d.msg, "t.list"));
	assert_int_equal(fs.n, 0);
	dpkg_db_free(db);
	troot_remove(&t);
}

/* ---- the index ---- */

static void test_dpkg_index_build_failure_leaves_ret_untouched(void **state)
{
	struct dpkg_db *db = NULL;
	struct dpkg_index *idx = (struct dpkg_index *)&idx; /* a sentinel */
	struct diag d = { 0 };
	struct troot t;

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	assert_int_equal(troot_mkdir(&t, "var/lib/dpkg/info/t.list"), 0);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_index_build(db, &idx, &d), -EISDIR);
	assert_ptr_equal(idx, (struct dpkg_index *)&idx);
	assert_non_null(strstr(d.msg, "t.list"));
	dpkg_db_free(db);
	troot_remove(&t);
}

static void test_dpkg_index_finds_owners_by_canonical_path(void **state)
{
	struct dpkg_db *db = NULL;
	struct dpkg_index *idx = NULL;
	const struct dpkg_file *f = NULL;
	size_t pkg = 99;
	int fd = fixture_fd();
	const char *p;

	(void)state;
	assert_int_equal(dpkg_db_load(fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_index_build(db, &idx, NULL), 0);
	/* distinct paths: basefiles 6, hello +7 (/etc, conf, /usr/bin, hello, doc,
	 * doc/hello, copyright), libfoo1 +5 (/lib, the x86_64 directory, the library,
	 * its doc directory, copyright), oldpkg +1 (its conf) */
	assert_int_equal(dpkg_index_count(idx), 19);

	p = "/usr/bin/hello";
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), &pkg, &f), 1);
	assert_string_equal(dpkg_db_get(db, pkg)->name, "hello");
	assert_string_equal(f->path, p);
	assert_memory_equal(f->md5, md5_hello, 16);

	p = "/usr/lib/x86_64-linux-gnu/libfoo.so.1";
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), &pkg, &f), 1);
	assert_string_equal(dpkg_db_get(db, pkg)->name, "libfoo1");
	assert_true(f->has_md5);

	p = "/usr"; /* shared: the first by name */
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), &pkg, NULL), 1);
	assert_string_equal(dpkg_db_get(db, pkg)->name, "basefiles");

	p = "/etc/hello.conf";
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), NULL, &f), 1);
	assert_true(f->conffile);

	p = "/etc/oldpkg.conf";
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), &pkg, NULL), 1);
	assert_string_equal(dpkg_db_get(db, pkg)->name, "oldpkg");

	/* a length shorter than the string: "/usr/bin" of "/usr/bin/hello" */
	p = "/usr/bin/hello";
	assert_int_equal(dpkg_index_find(idx, p, 8, &pkg, &f), 1);
	assert_string_equal(f->path, "/usr/bin");

	/* not owned, and the listed (non-canonical) form: ret_* untouched */
	pkg = 77;
	f = NULL;
	p = "/lib/x86_64-linux-gnu/libfoo.so.1";
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), &pkg, &f), 0);
	p = "/usr/bin/nothing";
	assert_int_equal(dpkg_index_find(idx, p, strlen(p), &pkg, &f), 0);
	assert_int_equal(pkg, 77);
	assert_null(f);
	dpkg_index_free(idx);
	dpkg_db_free(db);
	close(fd);
}

static void test_dpkg_index_build_holds_many_paths(void **state)
{
	struct dpkg_db *db = NULL;
	struct dpkg_index *idx = NULL;
	size_t len = 0, alloc = 100000 * 32;
	char *list = malloc(alloc);
	struct troot t;
	char path[64];
	size_t pkg;

	(void)state;
	/* 100k paths: the table grows several times */
	assert_non_null(list);
	for (int i = 0; i < 100000; i++)
		len += (size_t)snprintf(list + len, alloc - len, "/usr/share/d%03d/f%06d\n",
					i % 1000, i);
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status", one_pkg_status), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/info/t.list", list), 0);
	free(list);
	assert_int_equal(dpkg_db_load(t.fd, NULL, NULL, &db, NULL), 0);
	assert_int_equal(dpkg_index_build(db, &idx, NULL), 0);
	assert_int_equal(dpkg_index_count(idx), 100000);
	for (int i = 0; i < 100000; i += 997) {
		snprintf(path, sizeof(path), "/usr/share/d%03d/f%06d", i % 1000, i);
		assert_int_equal(dpkg_index_find(idx, path, strlen(path), &pkg, NULL), 1);
	}
	assert_int_equal(dpkg_index_find(idx, "/usr/share/d000/f100000", 23, &pkg, NULL), 0);
	dpkg_index_free(idx);
	dpkg_db_free(db);
	troot_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg_db_load_reads_every_field),
		cmocka_unit_test(test_dpkg_db_load_missing_status_is_enoent),
		cmocka_unit_test(test_dpkg_db_load_malformed_stanzas_are_findings),
		cmocka_unit_test(test_dpkg_db_load_colon_in_name_is_a_finding),
		cmocka_unit_test(test_dpkg_db_load_continuation_outside_field_is_finding),
		cmocka_unit_test(test_dpkg_md5_parse_accepts_hex_and_refuses_the_rest),
		cmocka_unit_test(test_dpkg_pkg_files_nul_in_list_is_finding),
		cmocka_unit_test(test_dpkg_pkg_files_canonicalizes_merged_usr),
		cmocka_unit_test(test_dpkg_pkg_files_takes_sums_from_md5sums_and_conffiles),
		cmocka_unit_test(test_dpkg_pkg_files_stops_when_the_callback_fails),
		cmocka_unit_test(test_dpkg_pkg_files_resolves_symlinks_under_the_root),
		cmocka_unit_test(test_dpkg_pkg_files_takes_very_deep_paths),
		cmocka_unit_test(test_dpkg_pkg_files_applies_diversions),
		cmocka_unit_test(test_dpkg_pkg_files_missing_list_is_finding),
		cmocka_unit_test(test_dpkg_pkg_files_unreadable_list_fails),
		cmocka_unit_test(test_dpkg_index_build_failure_leaves_ret_untouched),
		cmocka_unit_test(test_dpkg_index_finds_owners_by_canonical_path),
		cmocka_unit_test(test_dpkg_index_build_holds_many_paths),
	};
	return cmocka_run_group_tests_name("probe/dpkg", tests, NULL, troot_cleanup_all);
}
