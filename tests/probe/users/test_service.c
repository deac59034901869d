/*
 * Tests of the service probe (scanner/probe_service.c) on the fixture host
 * (tests/fixtures/host/{etc,usr/lib}/systemd/system) and on temporary roots
 * built for one case each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/entry.h"
#include "scanner/probe.h"
#include "tests/probe/users/probe_rec.h"

#include "common/banned.h"

extern const struct probe probe_service;

/*
 * Digests of the fixture's unit files, computed with the xxhsum and
 * sha256sum commands, not with the code under test:
 *   cat usr/lib/systemd/system/ssh.service usr/lib/systemd/system/ssh.service.d/10-vendor.conf \
 *       etc/systemd/system/ssh.service.d/override.conf | xxhsum -H2    (or sha256sum)
 *   xxhsum -H2 usr/lib/systemd/system/<unit>
 */
#define SSH_CONTENT_XXH  "27bd70dcd390e54364b5d9583f757990"
#define SSH_CONTENT_SHA  "3679d392ad2b17f26f1bc62457c1fd8e50fdfe481ece8f359a29e4992a2e2b90"
#define SSH_FILE_XXH     "40ad4779396f2180bfd33466f8e18683"
#define JOURNALD_XXH     "2ca8cc795ad3d518769ea71fbdb005ed"
#define GETTY_XXH        "ce997431f2a893e8a46baed9eaa9986e"
#define GETTY_TARGET_XXH "f26e65136ade935dd06ed71fa37b3ee5"
#define MULTI_USER_XXH   "d9499896f29a73f4f9520a1d724c23e2"
#define RSYNC_XXH        "e5f2dd227a81152903107bc13ff9b58a"

#define LIB "usr/lib/systemd/system/"
#define ETC "etc/systemd/system/"
#define RUN "run/systemd/system/"

static int run_tmp(struct rec_fx *fx, enum hash_algo hash)
{
	if (fx->rootfd < 0)
		fx->rootfd = troot_open(fx->root);
	rec_release(&fx->rec);
	return rec_run(&probe_service, fx->rootfd, NULL, hash, &fx->rec);
}

static int run_fixture(struct recorder *rec, enum hash_algo hash)
{
	int fd = troot_open(PROBE_FIXTURE_ROOT);
	int r = rec_run(&probe_service, fd, NULL, hash, rec);

	close(fd);
	return r;
}

/* "content=" and the hex XXH3-128 of @text, into @out (64 bytes). */
static const char *content_of(const char *text, char *out)
{
	XXH128_canonical_t c;
	size_t n;

	XXH128_canonicalFromHash(&c, XXH3_128bits(text, strlen(text)));
	n = (size_t)snprintf(out, 64, "content=");
	for (size_t i = 0; i < sizeof(c.digest); i++)
		n += (size_t)snprintf(out + n, 64 - n, "%02x", c.digest[i]);
	return out;
}

static void w(const struct rec_fx *fx, const char *rel, const char *text)
{
	if (troot_write(fx->root, rel, text) < 0)
		fail_msg("cannot write %s", rel);
}

static void ln(const struct rec_fx *fx, const char *rel, const char *target)
{
	if (troot_symlink(fx->root, rel, target) < 0)
		fail_msg("cannot link %s", rel);
}

static void test_probe_service_describes_itself(void **state)
{
	(void)state;
	assert_string_equal(probe_service.name, "service");
	assert_int_equal(probe_service.kinds[0], ENTRY_SERVICE);
	assert_int_equal(probe_service.kinds[1], 0);
	assert_non_null(probe_service.summary);
}

static void test_service_run_emits_fixture_units(void **state)
{
	struct recorder rec = { 0 };

	(void)state;
	assert_int_equal(run_fixture(&rec, HASH_NONE), 0);
	for (size_t i = 0; i < rec.nf; i++)
		print_message("finding %s:%u: %s\n", rec.f[i].file, rec.f[i].line, rec.f[i].msg);
	assert_int_equal(rec.nf, 0);
	assert_int_equal(rec.ne, 9);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "ssh.service"),
			 "path=/usr/lib/systemd/system/ssh.service", "state=enabled",
			 "wanted_by=multi-user.target", "content=" SSH_CONTENT_XXH,
			 "dropins=/usr/lib/systemd/system/ssh.service.d/10-vendor.conf,"
			 "/etc/systemd/system/ssh.service.d/override.conf",
			 NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "sshd.service"),
			 "path=/etc/systemd/system/sshd.service", "state=alias",
			 "alias_of=ssh.service", "content=" SSH_FILE_XXH, NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "rpcbind.service"),
			 "path=/etc/systemd/system/rpcbind.service", "state=masked", NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "systemd-journald.service"),
			 "path=/usr/lib/systemd/system/systemd-journald.service", "state=static",
			 "content=" JOURNALD_XXH, NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "getty@.service"),
			 "path=/usr/lib/systemd/system/getty@.service", "state=enabled",
			 "wanted_by=getty.target", "content=" GETTY_XXH, NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "getty@tty1.service"),
			 "path=/usr/lib/systemd/system/getty@.service", "state=enabled",
			 "wanted_by=getty.target", "content=" GETTY_XXH, NULL);
	/* linked from a vendor .wants/: wanted, but not enabled */
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "getty.target"),
			 "path=/usr/lib/systemd/system/getty.target", "state=static",
			 "wanted_by=multi-user.target", "content=" GETTY_TARGET_XXH, NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "multi-user.target"),
			 "path=/usr/lib/systemd/system/multi-user.target", "state=static",
			 "content=" MULTI_USER_XXH, NULL);
	rec_assert_props(rec_find(&rec, ENTRY_SERVICE, "rsync.service"),
			 "path=/usr/lib/systemd/system/rsync.service", "state=disabled",
			 "content=" RSYNC_XXH, NULL);
	rec_release(&rec);
}

static void test_service_run_hashes_with_sha256_when_asked(void **state)
{
	struct recorder rec = { 0 };

	(void)state;
	assert_int_equal(run_fixture(&rec, HASH_SHA256), 0);
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_SERVICE, "ssh.service"), "content"),
			    SSH_CONTENT_SHA);
	rec_release(&rec);
	assert_int_equal(run_fixture(&rec, HASH_XXH3_128), 0);
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_SERVICE, "ssh.service"), "content"),
			    SSH_CONTENT_XXH);
	rec_release(&rec);
}

static void test_service_run_unavailable_without_unit_dirs(void **state)
{
	struct rec_fx *fx = *state;

	assert_int_equal(run_tmp(fx, HASH_NONE), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.calls, 0);
	assert_int_equal(fx->rec.nf, 0);

	/* a file where a directory should be is no directory either */
	w(fx, "etc/systemd/system", "not a directory\n");
	assert_int_equal(troot_mkdir(fx->root, "usr/lib/systemd"), 0);
	assert_int_equal(run_tmp(fx, HASH_NONE), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.calls, 0);

	/* an empty unit directory: available, nothing to say */
	assert_int_equal(troot_mkdir(fx->root, "usr/lib/systemd/system"), 0);
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_int_equal(fx->rec.calls, 0);
}

static void test_service_run_follows_priority_and_states(void **state)
{
	struct rec_fx *fx = *state;
	char c[64];

	w(fx, LIB "a.service", "[Unit]\n\n[Install]\nWantedBy=multi-user.target\n");
	w(fx, LIB "b.service", "[Install]\nWantedBy=multi-user.target\n");
	w(fx, LIB "c.service", "v1\n");
	w(fx, LIB "d.service", "vendor\n[Install]\n");
	w(fx, LIB "e.service", "");
	ln(fx, LIB "f.service", "/dev/null");
	ln(fx, LIB "f@.service", "/dev/null");
	ln(fx, ETC "multi-user.target.wants/f@x.service", "/usr/lib/systemd/system/f@.service");
	w(fx, LIB "r.service", "  [Install]  \r\nWantedBy=foo.target\n");
	w(fx, LIB "README", "not a unit\n");
	w(fx, LIB "x.device", "not a unit type we list\n");
	w(fx, LIB "x.conf", "\n");
	assert_int_equal(troot_mkdir(fx->root, LIB "dir.service"), 0);
	w(fx, "usr/local/lib/systemd/system/c.service", "v2\n");
	w(fx, ETC "d.service", "admin\n");
	ln(fx, RUN "multi-user.target.wants/a.service", "/usr/lib/systemd/system/a.service");
	ln(fx, ETC "foo.target.requires/r.service", "../r.service");
	ln(fx, RUN "foo.target.wants/r.service", "../r.service");
	w(fx, RUN "b.service", "");

	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_int_equal(fx->rec.nf, 0);
	assert_int_equal(fx->rec.ne, 9);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "a.service"),
			 "path=/usr/lib/systemd/system/a.service", "state=enabled-runtime",
			 "wanted_by=multi-user.target",
			 content_of("[Unit]\n\n[Install]\nWantedBy=multi-user.target\n", c), NULL);
	/* an empty file in run/ masks */
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "b.service"),
			 "path=/run/systemd/system/b.service", "state=masked", NULL);
	/* usr/local/lib/ before usr/lib/ */
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "c.service"),
			 "path=/usr/local/lib/systemd/system/c.service", "state=static",
			 content_of("v2\n", c), NULL);
	/* etc/ before everything; its copy has no [Install] */
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "d.service"),
			 "path=/etc/systemd/system/d.service", "state=static",
			 content_of("admin\n", c), NULL);
	/* an empty file, or a link to /dev/null, masks in any directory (as in systemd) */
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "e.service"),
			 "path=/usr/lib/systemd/system/e.service", "state=masked", NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "f.service"),
			 "path=/usr/lib/systemd/system/f.service", "state=masked", NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "f@x.service"),
			 "path=/usr/lib/systemd/system/f@.service", "state=masked",
			 "wanted_by=multi-user.target", NULL);
	/* .requires/ enables too; etc/ wins over run/; one owner listed once */
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "r.service"),
			 "path=/usr/lib/systemd/system/r.service", "state=enabled",
			 "wanted_by=foo.target",
			 content_of("  [Install]  \r\nWantedBy=foo.target\n", c), NULL);
}

static void test_service_run_dedupes_merged_usr(void **state)
{
	struct rec_fx *fx = *state;
	char c[64];

	w(fx, LIB "m.service", "m\n");
	w(fx, LIB "m.service.d/x.conf", "x\n");
	ln(fx, LIB "multi-user.target.wants/m.service", "../m.service");
	/* absolute: resolved inside the root, not on this host */
	ln(fx, "lib", "/usr/lib");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_int_equal(fx->rec.nf, 0);
	assert_int_equal(fx->rec.ne, 1);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "m.service"),
			 "path=/usr/lib/systemd/system/m.service", "state=static",
			 "wanted_by=multi-user.target", content_of("m\nx\n", c),
			 "dropins=/usr/lib/systemd/system/m.service.d/x.conf", NULL);

	/* without a merged /usr, lib/ is a directory of its own, last */
	assert_int_equal(unlinkat(fx->rootfd, "lib", 0), 0);
	w(fx, "lib/systemd/system/n.service", "n\n");
	w(fx, "lib/systemd/system/m.service", "old m\n");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_int_equal(fx->rec.ne, 2);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "n.service"),
			 "path=/lib/systemd/system/n.service", "state=static", content_of("n\n", c),
			 NULL);
	assert_string_equal(rec_prop(rec_find(&fx->rec, ENTRY_SERVICE, "m.service"), "path"),
			    "/usr/lib/systemd/system/m.service");
}

static void test_service_run_resolves_links_inside_the_root(void **state)
{
	struct rec_fx *fx = *state;
	char c[64];

	w(fx, "opt/vendor/out.service", "inside the root\n");
	ln(fx, ETC "out.service", "/opt/vendor/out.service");
	/* climbing above the root stays at the root: there is no etc/passwd in it */
	ln(fx, ETC "esc.service", "../../../../../../../../../../etc/passwd");
	ln(fx, ETC "multi-user.target.wants/esc.service", "/etc/systemd/system/esc.service");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "out.service"),
			 "path=/etc/systemd/system/out.service", "state=static",
			 content_of("inside the root\n", c), NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "esc.service"),
			 "path=/etc/systemd/system/esc.service", "state=enabled",
			 "wanted_by=multi-user.target", "error=No such file or directory", NULL);
	assert_int_equal(rec_findings_match(&fx->rec, ETC "esc.service", 0,
					    "cannot read unit file: No such file or directory"),
			 1);
	assert_int_equal(fx->rec.nf, 1);
	assert_string_equal(fx->rec.f[0].probe, "service");
}

static void test_service_run_records_unreadable_units(void **state)
{
	struct rec_fx *fx = *state;

	ln(fx, LIB "gone.service", "/nonexistent/gone.service");
	ln(fx, LIB "loop.service", "loop.service");
	ln(fx, LIB "other.service", "gone.service");
	w(fx, LIB "ok.service", "ok\n");
	/* linked, but there is no such unit (nor a template for it) */
	ln(fx, ETC "multi-user.target.wants/nothere.service",
	   "/usr/lib/systemd/system/nothere.service");
	ln(fx, ETC "multi-user.target.wants/inst@x.service",
	   "/usr/lib/systemd/system/inst@.service");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_int_equal(fx->rec.ne, 4);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "gone.service"),
			 "path=/usr/lib/systemd/system/gone.service", "state=bad",
			 "error=No such file or directory", NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "loop.service"),
			 "path=/usr/lib/systemd/system/loop.service", "state=bad",
			 "error=Too many levels of symbolic links", NULL);
	/* an alias of a unit that cannot be read: still an alias */
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "other.service"),
			 "path=/usr/lib/systemd/system/other.service", "state=alias",
			 "alias_of=gone.service", "error=No such file or directory", NULL);
	assert_non_null(rec_find(&fx->rec, ENTRY_SERVICE, "ok.service"));
	assert_int_equal(rec_findings_match(&fx->rec, LIB "gone.service", 0, "cannot read"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, LIB "loop.service", 0, "cannot read"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, LIB "other.service", 0, "cannot read"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, ETC "multi-user.target.wants/nothere.service",
					    0, "linked unit 'nothere.service' has no unit file"),
			 1);
	assert_int_equal(rec_findings_match(&fx->rec, ETC "multi-user.target.wants/inst@x.service",
					    0, "has no unit file"),
			 1);
	assert_int_equal(fx->rec.nf, 5);
}

static void test_service_run_applies_dropins_in_order(void **state)
{
	struct rec_fx *fx = *state;
	char c[64];

	w(fx, LIB "p.service", "p\n");
	w(fx, LIB "p.service.d/a.conf", "A\n");
	w(fx, LIB "p.service.d/b.conf", "B\n");
	w(fx, LIB "p.service.d/notes.txt", "ignored\n");
	w(fx, ETC "p.service.d/b.conf", "B2\n");       /* overrides the vendor's b.conf */
	ln(fx, ETC "p.service.d/a.conf", "/dev/null"); /* masks the vendor's a.conf */
	w(fx, RUN "p.service.d/c.conf", "C\n");
	/* a template's drop-ins apply to its instances, after their own by name */
	w(fx, LIB "t@.service", "t\n[Install]\nWantedBy=multi-user.target\n");
	w(fx, LIB "t@.service.d/t.conf", "T\n");
	w(fx, ETC "t@x.service.d/own.conf", "OWN\n");
	ln(fx, ETC "multi-user.target.wants/t@x.service", "/usr/lib/systemd/system/t@.service");
	ln(fx, ETC "sockets.target.wants/t@y.service", "/usr/lib/systemd/system/t@.service");

	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_int_equal(fx->rec.nf, 0);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "p.service"),
			 "path=/usr/lib/systemd/system/p.service", "state=static",
			 content_of("p\nB2\nC\n", c),
			 "dropins=/etc/systemd/system/p.service.d/b.conf,"
			 "/run/systemd/system/p.service.d/c.conf",
			 NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "t@x.service"),
			 "path=/usr/lib/systemd/system/t@.service", "state=enabled",
			 "wanted_by=multi-user.target",
			 content_of("t\n[Install]\nWantedBy=multi-user.target\nOWN\nT\n", c),
			 "dropins=/etc/systemd/system/t@x.service.d/own.conf,"
			 "/usr/lib/systemd/system/t@.service.d/t.conf",
			 NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "t@y.service"),
			 "path=/usr/lib/systemd/system/t@.service", "state=enabled",
			 "wanted_by=sockets.target",
			 content_of("t\n[Install]\nWantedBy=multi-user.target\nT\n", c),
			 "dropins=/usr/lib/systemd/system/t@.service.d/t.conf", NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_SERVICE, "t@.service"),
			 "path=/usr/lib/systemd/system/t@.service", "state=enabled",
			 "wanted_by=multi-user.target,sockets.target",
			 content_of("t\n[Install]\nWantedBy=multi-user.target\nT\n", c),
			 "dropins=/usr/lib/systemd/system/t@.service.d/t.conf", NULL);
	assert_int_equal(fx->rec.ne, 4);
}

static void test_service_content_follows_unit_and_dropins(void **state)
{
	struct rec_fx *fx = *state;
	char *before;

	w(fx, LIB "q.service", "q\n");
	w(fx, ETC "q.service.d/z.conf", "z\n");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	before = strdup(rec_prop(rec_find(&fx->rec, ENTRY_SERVICE, "q.service"), "content"));
	w(fx, ETC "q.service.d/z.conf", "y\n");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_string_not_equal(rec_prop(rec_find(&fx->rec, ENTRY_SERVICE, "q.service"), "content"),
				before);
	w(fx, ETC "q.service.d/z.conf", "z\n");
	assert_int_equal(run_tmp(fx, HASH_NONE), 0);
	assert_string_equal(rec_prop(rec_find(&fx->rec, ENTRY_SERVICE, "q.service"), "content"),
			    before);
	free(before);
}

static void test_service_run_stops_when_emit_fails(void **state)
{
	struct rec_fx *fx = *state;

	fx->rootfd = troot_open(PROBE_FIXTURE_ROOT);
	fx->rec.stop_after = 3;
	fx->rec.stop_err = -EINTR;
	assert_int_equal(rec_run(&probe_service, fx->rootfd, NULL, HASH_NONE, &fx->rec), -EINTR);
	assert_int_equal(fx->rec.calls, 3);
	assert_int_equal(fx->rec.ne, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_service_describes_itself),
		cmocka_unit_test(test_service_run_emits_fixture_units),
		cmocka_unit_test(test_service_run_hashes_with_sha256_when_asked),
		rec_unit_test(test_service_run_unavailable_without_unit_dirs),
		rec_unit_test(test_service_run_follows_priority_and_states),
		rec_unit_test(test_service_run_dedupes_merged_usr),
		rec_unit_test(test_service_run_resolves_links_inside_the_root),
		rec_unit_test(test_service_run_records_unreadable_units),
		rec_unit_test(test_service_run_applies_dropins_in_order),
		rec_unit_test(test_service_content_follows_unit_and_dropins),
		rec_unit_test(test_service_run_stops_when_emit_fails),
	};

	return cmocka_run_group_tests_name("probe/service", tests, NULL, NULL);
}
