/*
 * Tests of the alternatives source (compare/alternatives.c): the links
 * update-alternatives manages are expected when they match the admin
 * files of /var/lib/dpkg/alternatives (a link to /etc/alternatives/NAME,
 * and a choice that is a registered path a package owns); a link pointing
 * anywhere else is drift. The records and links are the fixture host's,
 * never this machine's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include "compare/compare.h"
#include "tests/compare/collect.h"
#include "tests/compare/fixture.h"
#include "tests/compare/snap.h"
#include "tests/probe/dpkg/troot.h"

#define ED  "ed, the standard editor\n"
#define VIM "vim, the other editor\n"

static const char policy[] = "rules:\n"
			     "  - {id: usr, path: /usr, check: [all], severity: medium}\n"
			     "  - {id: etc, path: /etc, check: [all], severity: high}\n"
			     "packages:\n"
			     "  conffile_severity: info\n"
			     "  unowned_severity: high\n";

/* As update-alternatives writes it: editor, one slave, two alternatives. */
static const char editor_admin[] = "auto\n"
				   "/usr/bin/editor\n"
				   "editor.1.gz\n"
				   "/usr/share/man/man1/editor.1.gz\n"
				   "\n"
				   "/bin/ed\n"
				   "-100\n"
				   "/usr/share/man/man1/ed.1.gz\n"
				   "/usr/bin/vim.basic\n"
				   "30\n"
				   "/usr/share/man/man1/vim.1.gz\n"
				   "\n";

static const struct tpkg ed = { .name = "ed",
				.version = "1.19-1",
				.files = { SUM("/bin/ed", ED),
					   SUM("/usr/share/man/man1/ed.1.gz", ED) } };
static const struct tpkg vim = { .name = "vim",
				 .version = "2:9.0-1",
				 .files = { SUM("/usr/bin/vim.basic", VIM),
					    SUM("/usr/share/man/man1/vim.1.gz", VIM) } };

#define LNK(p, t)                                                  \
	{                                                          \
		.path = (p), .mode = S_IFLNK | 0777, .target = (t) \
	}
#define LNK_T1(p, t)                                                                         \
	{                                                                                    \
		.path = (p), .mode = S_IFLNK | 0777, .target = (t), .mtime = T1, .ino = 2000 \
	}

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

/* ---- what the admin files explain ---- */

static void test_master_and_slave_links_are_expected(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { ed } };
	const struct side after = {
		.files = { LNK("/usr/bin/editor", "/etc/alternatives/editor"),
			   LNK("/usr/share/man/man1/editor.1.gz", "/etc/alternatives/editor.1.gz"),
			   LNK("/etc/alternatives/editor", "/usr/bin/vim.basic"),
			   LNK("/etc/alternatives/editor.1.gz", "/usr/share/man/man1/vim.1.gz") },
		.pkgs = { ed, vim },
	};
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/editor");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "link of alternative editor");
	assert_false(g->counts);

	g = file(fx, "/usr/share/man/man1/editor.1.gz");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "link of alternative editor.1.gz (slave of editor)");

	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "alternative editor -> /usr/bin/vim.basic (package vim 2:9.0-1)");
	assert_package(g, "vim:amd64", "-", "2:9.0-1");

	g = file(fx, "/etc/alternatives/editor.1.gz");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "alternative editor.1.gz -> /usr/share/man/man1/vim.1.gz "
				       "(package vim 2:9.0-1)");
	assert_package(g, "vim:amd64", "-", "2:9.0-1");
	/* links are never read */
	assert_int_equal(seams.file_reads, 0);
}

/* The admin chose another registered alternative (update-alternatives --config). */
static void test_switched_to_another_registered_alternative(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { LNK("/etc/alternatives/editor",
						    "/usr/bin/vim.basic") },
				     .pkgs = { ed, vim } };
	const struct side after = { .files = { LNK_T1("/etc/alternatives/editor", "/bin/ed") },
				    .pkgs = { ed, vim } };
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "alternative editor -> /bin/ed (package ed 1.19-1)");
	assert_package(g, "ed:amd64", "1.19-1", "1.19-1");
}

/* ---- what stays drift ---- */

/* Planted tampering: the choice and the master link retargeted to a path nobody registered. */
static void test_retargeted_to_unregistered_path(void **state)
{
	struct fx *fx = *state;
	const struct tpkg evil = { .name = "base",
				   .version = "7",
				   .files = { SUM("/usr/bin/evil", ED) } };
	const struct side before = {
		.files = { LNK("/usr/bin/editor", "/etc/alternatives/editor"),
			   LNK("/etc/alternatives/editor", "/usr/bin/vim.basic"),
			   LNK("/etc/alternatives/editor.1.gz", "/usr/share/man/man1/vim.1.gz") },
		.pkgs = { ed, vim, evil },
	};
	const struct side after = {
		.files = { LNK_T1("/usr/bin/editor", "/tmp/editor"),
			   LNK_T1("/etc/alternatives/editor", "/tmp/.x/editor"),
			   /* owned by a package, but not registered for it */
			   LNK_T1("/etc/alternatives/editor.1.gz", "/usr/bin/evil") },
		.pkgs = { ed, vim, evil },
	};
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "link of alternative editor points to /tmp/editor, "
				       "not /etc/alternatives/editor");
	assert_true(g->counts);

	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason,
			    "alternative editor points to /tmp/.x/editor, which is not registered");
	assert_true(g->counts);

	g = file(fx, "/etc/alternatives/editor.1.gz");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(
		g->reason,
		"alternative editor.1.gz points to /usr/bin/evil, which is not registered");
}

/* Registered by hand (update-alternatives --install of a local file): no package vouches. */
static void test_registered_target_owned_by_no_package(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { ed, vim } };
	const struct side after = { .files = { LNK("/etc/alternatives/editor",
						   "/usr/local/bin/myeditor") },
				    .pkgs = { ed, vim } };
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor",
		 "manual\n"
		 "/usr/bin/editor\n"
		 "\n"
		 "/bin/ed\n"
		 "-100\n"
		 "/usr/local/bin/myeditor\n"
		 "500\n"
		 "\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "alternative editor -> /usr/local/bin/myeditor: "
				       "registered, but owned by no package");
	assert_true(g->counts);
}

/* A malformed admin file registers nothing; its neighbours still do. */
static void test_malformed_admin_file(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { ed, vim } };
	const struct side after = {
		.files = { LNK("/etc/alternatives/editor", "/usr/bin/vim.basic"),
			   LNK("/etc/alternatives/badmode", "/bin/ed"),
			   LNK("/etc/alternatives/badprio", "/bin/ed"),
			   LNK("/etc/alternatives/noend", "/bin/ed"),
			   LNK("/etc/alternatives/badslave", "/bin/ed"),
			   LNK("/etc/alternatives/short", "/bin/ed"),
			   LNK("/usr/bin/twice", "/etc/alternatives/claim1"),
			   LNK("/usr/bin/editor", "/etc/alternatives/editor") },
		.pkgs = { ed, vim },
	};
	const char *drift[] = { "/etc/alternatives/badmode", "/etc/alternatives/badprio",
				"/etc/alternatives/noend", "/etc/alternatives/badslave",
				"/etc/alternatives/short" };
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	/* a leftover of an interrupted update-alternatives is no record */
	host_put(fx, "/var/lib/dpkg/alternatives/editor.dpkg-tmp",
		 "auto\n/usr/bin/editor\n\n/tmp/x\n1\n\n");
	host_put(fx, "/var/lib/dpkg/alternatives/badmode",
		 "sometimes\n/usr/bin/badmode\n\n"
		 "/bin/ed\n10\n\n");
	host_put(fx, "/var/lib/dpkg/alternatives/badprio",
		 "auto\n/usr/bin/badprio\n\n"
		 "/bin/ed\nten\n\n");
	host_put(fx, "/var/lib/dpkg/alternatives/noend", "auto\n/usr/bin/noend\n\n/bin/ed\n10\n");
	host_put(fx, "/var/lib/dpkg/alternatives/badslave",
		 "auto\n/usr/bin/badslave\nbadslave.1.gz\nusr/share/man/man1/badslave.1.gz\n\n"
		 "/bin/ed\n10\n/usr/share/man/man1/ed.1.gz\n\n");
	host_put(fx, "/var/lib/dpkg/alternatives/short",
		 "auto\n/usr/bin/short\nshort.1.gz\n/usr/share/man/man1/short.1.gz\n\n"
		 "/bin/ed\n10\n");
	host_put(fx, "/var/lib/dpkg/alternatives/empty", "");
	/* two alternatives claim one link: neither is believed */
	host_put(fx, "/var/lib/dpkg/alternatives/claim1", "auto\n/usr/bin/twice\n\n/bin/ed\n1\n\n");
	host_put(fx, "/var/lib/dpkg/alternatives/claim2", "auto\n/usr/bin/twice\n\n/bin/ed\n1\n\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "alternative editor -> /usr/bin/vim.basic (package vim 2:9.0-1)");

	g = file(fx, "/usr/bin/editor");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "link of alternative editor");

	for (size_t i = 0; i < sizeof(drift) / sizeof(drift[0]); i++) {
		g = file(fx, drift[i]);
		assert_int_equal(g->class, CLASS_DRIFT);
		assert_string_equal(g->reason, "new symlink");
	}

	g = file(fx, "/usr/bin/twice");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason,
			    "not owned by any package; more than one alternative claims it");
}

static void test_link_not_managed(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { ed, vim } };
	const struct side after = {
		.files = { LNK("/etc/alternatives/pager", "/usr/bin/vim.basic"),
			   LNK("/usr/bin/vi", "/etc/alternatives/editor"),
			   LNK("/etc/alternatives/sub/editor", "/usr/bin/vim.basic") },
		.pkgs = { ed, vim },
	};
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/alternatives/pager");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new symlink");
	g = file(fx, "/usr/bin/vi");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "not owned by any package");
	g = file(fx, "/etc/alternatives/sub/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new symlink");
}

/* Without the admin directory nothing is managed. */
static void test_no_admin_directory(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { ed, vim } };
	const struct side after = { .files = { LNK("/usr/bin/editor", "/etc/alternatives/editor"),
					       LNK("/etc/alternatives/editor", "/bin/ed") },
				    .pkgs = { ed, vim } };

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(file(fx, "/usr/bin/editor")->class, CLASS_DRIFT);
	assert_string_equal(file(fx, "/usr/bin/editor")->reason, "not owned by any package");
	assert_int_equal(file(fx, "/etc/alternatives/editor")->class, CLASS_DRIFT);
}

static void test_not_a_symlink_or_more_than_the_target(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { LNK("/etc/alternatives/editor", "/bin/ed") },
				     .pkgs = { ed, vim } };
	const struct side after = {
		.files = { REG("/usr/bin/editor", "#!/bin/sh\nexec /tmp/x \"$@\"\n"),
			   REG("/etc/alternatives/editor.1.gz", VIM),
			   { .path = "/etc/alternatives/editor",
			     .mode = S_IFLNK | 0777,
			     .target = "/usr/bin/vim.basic",
			     .mtime = T1,
			     .uid = 1000 } },
		.pkgs = { ed, vim },
	};
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason,
			    "not owned by any package; managed by alternative editor, but not a "
			    "symlink");
	g = file(fx, "/etc/alternatives/editor.1.gz");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "managed by alternative editor.1.gz, but not a symlink");
	/* update-alternatives does not chown */
	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "not explained by alternatives: more than its target changed");
}

/* A removed link is not this source's to explain. */
static void test_removed_link(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { LNK("/usr/bin/editor", "/etc/alternatives/editor"),
						LNK("/etc/alternatives/editor", "/bin/ed") },
				     .pkgs = { ed, vim } };
	const struct side after = { .pkgs = { ed, vim } };
	const struct got *g;

	host_put(fx, "/var/lib/dpkg/alternatives/editor", editor_admin);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/editor");
	assert_int_equal(g->change, CHANGE_REMOVED);
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_null(strstr(g->reason, "alternative"));
	g = file(fx, "/etc/alternatives/editor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_null(strstr(g->reason, "alternative"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_master_and_slave_links_are_expected),
		T(test_switched_to_another_registered_alternative),
		T(test_retargeted_to_unregistered_path),
		T(test_registered_target_owned_by_no_package),
		T(test_malformed_admin_file),
		T(test_link_not_managed),
		T(test_no_admin_directory),
		T(test_not_a_symlink_or_more_than_the_target),
		T(test_removed_link),
#undef T
	};
	return cmocka_run_group_tests_name("compare/alternatives", tests, NULL, troot_cleanup_all);
}
