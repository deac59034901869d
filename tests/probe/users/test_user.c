/*
 * Tests of the user probe (scanner/probe_user.c) on the fixture host
 * (tests/fixtures/host/etc/{passwd,group,shadow,gshadow}) and on temporary
 * variants of it.
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

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/probe.h"
#include "tests/probe/users/probe_rec.h"

#include "common/banned.h"

extern const struct probe probe_user;

/* The fake hashes of the fixture's shadow and gshadow, none of which may leak. */
static const char *const fixture_hashes[] = {
	"$6$fixturesalt$FAKEroot.hash/not.real.0123456789abcdef",
	"$y$j9T$fixturesaltalice$FAKEalice.hash/not.real.0123456789",
	"$6$fixturesaltbob$FAKEbob.hash/not.real.0123456789",
	"$6$fixturesaltgroup$FAKEgroup.hash/not.real.0123456789",
};

/*
 * Expected digests, computed with the openssl command, not with the code
 * under test:
 *   printf %s "$hash" | openssl dgst -sha256 -mac HMAC -macopt hexkey:00..00 (32 zero bytes)
 *   printf %s "$hash" | openssl dgst -sha256 -hmac drift-test-secret
 * cut to the first 16 bytes.
 */
#define ROOT_DIGEST_ZERO_KEY   "be1ecb0d8017057717262e38d3a12cc7"
#define BOB_DIGEST_TEST_SECRET "36eda68180dafe126baa1fb23c4f7b39"

static void copy_all(const struct rec_fx *fx)
{
	assert_int_equal(troot_copy_fixture(fx->root, "etc/passwd"), 0);
	assert_int_equal(troot_copy_fixture(fx->root, "etc/group"), 0);
	assert_int_equal(troot_copy_fixture(fx->root, "etc/shadow"), 0);
	assert_int_equal(troot_copy_fixture(fx->root, "etc/gshadow"), 0);
}

static int run_tmp(struct rec_fx *fx, const char *secret)
{
	if (fx->rootfd < 0)
		fx->rootfd = troot_open(fx->root);
	rec_release(&fx->rec);
	return rec_run(&probe_user, fx->rootfd, secret, HASH_NONE, &fx->rec);
}

static int run_fixture(struct recorder *rec, const char *secret)
{
	int fd = troot_open(PROBE_FIXTURE_ROOT);
	int r = rec_run(&probe_user, fd, secret, HASH_NONE, rec);

	close(fd);
	return r;
}

static void test_probe_user_describes_itself(void **state)
{
	(void)state;
	assert_string_equal(probe_user.name, "user");
	assert_int_equal(probe_user.kinds[0], ENTRY_USER);
	assert_int_equal(probe_user.kinds[1], ENTRY_GROUP);
	assert_int_equal(probe_user.kinds[2], 0);
	assert_non_null(probe_user.summary);
	assert_null(strchr(probe_user.summary, '\n'));
}

static void test_user_run_emits_fixture_accounts(void **state)
{
	struct recorder rec = { 0 };

	(void)state;
	assert_int_equal(run_fixture(&rec, NULL), 0);
	assert_int_equal(rec_count(&rec, ENTRY_USER), 6);
	assert_int_equal(rec.nf, 0);
	rec_assert_props(rec_find(&rec, ENTRY_USER, "root"), "uid=0", "gid=0", "gecos=root",
			 "home=/root", "shell=/bin/bash", "password=set",
			 "password_digest=" ROOT_DIGEST_ZERO_KEY, "last_change=2023-12-09", "min=0",
			 "max=99999", "warn=7", "inactive=", "expire=", NULL);
	rec_assert_props(rec_find(&rec, ENTRY_USER, "daemon"), "uid=1", "gid=1", "gecos=daemon",
			 "home=/usr/sbin", "shell=/usr/sbin/nologin", "password=disabled",
			 "last_change=2023-12-09", "min=0", "max=99999", "warn=7",
			 "inactive=", "expire=", NULL);
	rec_assert_props(rec_find(&rec, ENTRY_USER, "sshd"), "uid=105", "gid=65534",
			 "gecos=", "home=/run/sshd", "shell=/usr/sbin/nologin", "password=disabled",
			 "last_change=2023-12-09",
			 "min=", "max=", "warn=", "inactive=", "expire=", NULL);
	rec_assert_props(rec_find(&rec, ENTRY_USER, "carol"), "uid=1002", "gid=1002",
			 "gecos=Carol Nopass", "home=/home/carol", "shell=/bin/sh", "password=none",
			 "last_change=2023-12-12", "min=0", "max=99999", "warn=7",
			 "inactive=", "expire=", NULL);
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_USER, "alice"), "password"), "set");
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_USER, "alice"), "gecos"),
			    "Alice Example,,,");
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_USER, "bob"), "password"), "locked");
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_USER, "bob"), "inactive"), "30");
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_USER, "bob"), "expire"), "2024-03-18");
	assert_int_equal(strlen(rec_prop(rec_find(&rec, ENTRY_USER, "bob"), "password_digest")),
			 32);
	rec_release(&rec);
}

static void test_user_run_emits_fixture_groups(void **state)
{
	struct recorder rec = { 0 };
	const char *d;
	char pd[64];

	(void)state;
	assert_int_equal(run_fixture(&rec, "drift-test-secret"), 0);
	assert_int_equal(rec_count(&rec, ENTRY_GROUP), 9);
	rec_assert_props(rec_find(&rec, ENTRY_GROUP, "root"), "gid=0",
			 "members=", "password=disabled", "admins=", NULL);
	/* "syslog,alice,alice": sorted, the duplicate gone */
	rec_assert_props(rec_find(&rec, ENTRY_GROUP, "adm"), "gid=4", "members=alice,syslog",
			 "password=disabled", "admins=", NULL);
	rec_assert_props(rec_find(&rec, ENTRY_GROUP, "sudo"), "gid=27", "members=alice",
			 "password=disabled", "admins=alice", NULL);
	d = rec_prop(rec_find(&rec, ENTRY_GROUP, "users"), "password_digest");
	assert_non_null(d);
	assert_int_equal(strlen(d), 32);
	assert_int_equal(strspn(d, "0123456789abcdef"), 32);
	snprintf(pd, sizeof(pd), "password_digest=%s", d);
	rec_assert_props(rec_find(&rec, ENTRY_GROUP, "users"), "gid=100", "members=alice,bob,carol",
			 "password=set", "admins=alice,bob", pd, NULL);
	rec_release(&rec);
}

static void test_user_digest_matches_hmac_of_the_hash(void **state)
{
	struct recorder rec = { 0 };

	(void)state;
	/* locked: the digest of what follows the '!' */
	assert_int_equal(run_fixture(&rec, "drift-test-secret"), 0);
	assert_string_equal(rec_prop(rec_find(&rec, ENTRY_USER, "bob"), "password_digest"),
			    BOB_DIGEST_TEST_SECRET);
	rec_release(&rec);
}

static void test_user_run_never_leaks_password_hashes(void **state)
{
	struct rec_fx *fx = *state;
	struct recorder rec = { 0 };

	assert_int_equal(run_fixture(&rec, NULL), 0);
	assert_true(rec.raw_len > 0);
	for (size_t i = 0; i < sizeof(fixture_hashes) / sizeof(fixture_hashes[0]); i++)
		assert_false(rec_contains(&rec, fixture_hashes[i]));
	assert_false(rec_contains(&rec, "fixturesalt"));
	assert_false(rec_contains(&rec, "not.real"));
	rec_release(&rec);

	/* malformed shadow lines, which become findings, quote nothing of them either */
	copy_all(fx);
	assert_int_equal(troot_write(fx->root, "etc/shadow",
				     "mallory:$6$fixturesaltm$FAKEm.not.real:1\n"
				     "root:$6$fixturesaltr$FAKEr.not.real:1:2:3:4:5:6:\n"
				     "root:$6$fixturesaltdup$FAKEdup.not.real:1:2:3:4:5:6:\n"
				     "ghost:$6$fixturesaltghost$FAKEghost.not.real:1::::::\n"
				     "+$6$fixturesaltnis$FAKEnis.not.real\n"
				     "alice:$6$fixturesalta$FAKEa.not.real:soon::::::\n"),
			 0);
	assert_int_equal(troot_write(fx->root, "etc/gshadow",
				     "users:$6$fixturesaltg$FAKEg.not.real:a:b:c\n"),
			 0);
	assert_int_equal(run_tmp(fx, NULL), 0);
	assert_int_equal(fx->rec.nf, 6);
	assert_false(rec_contains(&fx->rec, "fixturesalt"));
	assert_false(rec_contains(&fx->rec, "not.real"));
	assert_false(rec_contains(&fx->rec, "FAKE"));
	assert_false(rec_contains(&fx->rec, "$6$"));
	assert_false(rec_contains(&fx->rec, "mallory"));
	assert_false(rec_contains(&fx->rec, "ghost"));
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 1, "3 fields, expected 9"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 3, "duplicate entry"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 4, "without a line"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 5, "NIS"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 6, "field 3"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/gshadow", 1, "5 fields, expected 4"), 1);
}

static void test_user_run_reports_malformed_lines_and_goes_on(void **state)
{
	struct rec_fx *fx = *state;

	copy_all(fx);
	/* the fixture's passwd has 7 lines: these are lines 8 to 16 */
	assert_int_equal(troot_replace(fx->root, "etc/passwd", "/bin/sh\n",
				       "/bin/sh\n"
				       "baduid:x:abc:1::/:/bin/sh\n"
				       "short:x:1\n"
				       ":x:5:5::/:/bin/sh\n"
				       "root:x:0:0:dup:/:/bin/sh\n"
				       "+nisuser::::::\n"
				       "# a comment\n"
				       "\n"
				       "zed:x:2000:2000::/home/zed:/bin/sh\n"
				       "badgid:x:5:-1::/:/bin/sh\n"),
			 0);
	/* the fixture's shadow has 6 lines: 7 is zed's, 8 an orphan, 9 a NIS line */
	assert_int_equal(troot_replace(fx->root, "etc/shadow", ":19703:0:99999:7:::\n",
				       ":19703:0:99999:7:::\n"
				       "zed::19000:0:99999:7:::x\n"
				       "ghost:*:1::::::\n"
				       "-@nisgroup\n"),
			 0);
	/* the fixture's group has 9 lines: 10 is bad, 11 a duplicate */
	assert_int_equal(troot_replace(fx->root, "etc/group", "nogroup:x:65534:\n",
				       "nogroup:x:65534:\n"
				       "bad:x:gid:\n"
				       "adm:x:44:\n"),
			 0);

	assert_int_equal(run_tmp(fx, NULL), 0);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 8, "invalid uid 'abc'"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 9, "3 fields, expected 7"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 10, "empty user name"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 11,
					    "duplicate user 'root' (first on line 2)"),
			 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 12, "NIS entry not supported"),
			 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 16, "invalid gid '-1'"), 1);
	assert_int_equal(
		rec_findings_match(&fx->rec, "etc/shadow", 8, "without a line in etc/passwd"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 9, "NIS entry not supported"),
			 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/group", 10, "invalid gid 'gid'"), 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/group", 11,
					    "duplicate group 'adm' (first on line 3)"),
			 1);
	assert_int_equal(fx->rec.nf, 10);
	for (size_t i = 0; i < fx->rec.nf; i++)
		assert_string_equal(fx->rec.f[i].probe, "user");

	/* the probe went on: the good lines, the first of the duplicates */
	assert_int_equal(rec_count(&fx->rec, ENTRY_USER), 7);
	assert_int_equal(rec_count(&fx->rec, ENTRY_GROUP), 9);
	assert_string_equal(rec_prop(rec_find(&fx->rec, ENTRY_USER, "root"), "gecos"), "root");
	assert_string_equal(rec_prop(rec_find(&fx->rec, ENTRY_GROUP, "adm"), "gid"), "4");
	rec_assert_props(rec_find(&fx->rec, ENTRY_USER, "zed"), "uid=2000", "gid=2000",
			 "gecos=", "home=/home/zed", "shell=/bin/sh", "password=none",
			 "last_change=2022-01-08", "min=0", "max=99999", "warn=7",
			 "inactive=", "expire=", NULL);
	assert_null(rec_find(&fx->rec, ENTRY_USER, "baduid"));
	assert_null(rec_find(&fx->rec, ENTRY_USER, "short"));
	assert_null(rec_find(&fx->rec, ENTRY_USER, ""));
	assert_null(rec_find(&fx->rec, ENTRY_USER, "badgid"));
	assert_null(rec_find(&fx->rec, ENTRY_GROUP, "bad"));
}

static void test_user_run_keeps_a_bad_date_and_finds_it(void **state)
{
	struct rec_fx *fx = *state;

	copy_all(fx);
	assert_int_equal(troot_replace(fx->root, "etc/shadow",
				       ":19703:0:99999:7:::", ":someday:0:99999:7::99999999999:"),
			 0);
	assert_int_equal(run_tmp(fx, NULL), 0);
	assert_string_equal(rec_prop(rec_find(&fx->rec, ENTRY_USER, "carol"), "last_change"),
			    "someday");
	assert_string_equal(rec_prop(rec_find(&fx->rec, ENTRY_USER, "carol"), "expire"),
			    "99999999999");
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 6, "field 3 is not a number"),
			 1);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/shadow", 6, "field 8 is not a number"),
			 1);
	assert_int_equal(fx->rec.nf, 2);
}

static void test_user_run_unavailable_without_passwd_and_group(void **state)
{
	struct rec_fx *fx = *state;

	/* shadow files alone do not make the source available */
	assert_int_equal(troot_copy_fixture(fx->root, "etc/shadow"), 0);
	assert_int_equal(troot_copy_fixture(fx->root, "etc/gshadow"), 0);
	assert_int_equal(run_tmp(fx, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.calls, 0);
	assert_int_equal(fx->rec.nf, 0);

	/* nor does an empty root */
	close(fx->rootfd);
	fx->rootfd = -1;
	troot_rm_rf(fx->root);
	assert_int_equal(mkdir(fx->root, 0700), 0);
	assert_int_equal(run_tmp(fx, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.calls, 0);
}

static void test_user_run_without_shadow_has_no_password_props(void **state)
{
	struct rec_fx *fx = *state;

	assert_int_equal(troot_copy_fixture(fx->root, "etc/passwd"), 0);
	assert_int_equal(troot_copy_fixture(fx->root, "etc/group"), 0);
	assert_int_equal(run_tmp(fx, NULL), 0);
	assert_int_equal(fx->rec.nf, 0);
	rec_assert_props(rec_find(&fx->rec, ENTRY_USER, "root"), "uid=0", "gid=0", "gecos=root",
			 "home=/root", "shell=/bin/bash", NULL);
	rec_assert_props(rec_find(&fx->rec, ENTRY_GROUP, "users"), "gid=100",
			 "members=alice,bob,carol", NULL);
}

static void test_user_run_with_one_file_missing_emits_the_other(void **state)
{
	struct rec_fx *fx = *state;

	assert_int_equal(troot_copy_fixture(fx->root, "etc/group"), 0);
	assert_int_equal(run_tmp(fx, NULL), 0);
	assert_int_equal(rec_count(&fx->rec, ENTRY_USER), 0);
	assert_int_equal(rec_count(&fx->rec, ENTRY_GROUP), 9);
	assert_int_equal(rec_findings_match(&fx->rec, "etc/passwd", 0, "missing"), 1);
	assert_int_equal(fx->rec.nf, 1);

	assert_int_equal(troot_copy_fixture(fx->root, "etc/passwd"), 0);
	assert_int_equal(unlinkat(fx->rootfd, "etc/group", 0), 0);
	assert_int_equal(run_tmp(fx, NULL), 0);
	assert_int_equal(rec_count(&fx->rec, ENTRY_USER), 6);
	assert_int_equal(rec_count(&fx->rec, ENTRY_GROUP), 0);
}

static void test_user_run_fails_on_an_unreadable_passwd(void **state)
{
	struct rec_fx *fx = *state;
	struct diag d = { .msg = "" };
	struct recorder *rec = &fx->rec;
	struct probe_ctx ctx = {
		.emit = rec_emit,
		.finding = rec_finding,
		.userdata = rec,
	};

	/* a directory where etc/passwd should be: EISDIR, the probe fails */
	assert_int_equal(troot_mkdir(fx->root, "etc/passwd"), 0);
	assert_int_equal(troot_copy_fixture(fx->root, "etc/group"), 0);
	fx->rootfd = troot_open(fx->root);
	ctx.rootfd = fx->rootfd;
	assert_int_equal(probe_user.run(&ctx, &d), -EISDIR);
	assert_non_null(strstr(d.msg, "etc/passwd"));
	assert_int_equal(rec->calls, 0);
}

static char *digest_of(struct rec_fx *fx, const char *secret, const char *user, const char *state_)
{
	const struct rec_entry *e;

	assert_int_equal(run_tmp(fx, secret), 0);
	e = rec_find(&fx->rec, ENTRY_USER, user);
	assert_non_null(e);
	assert_string_equal(rec_prop(e, "password"), state_);
	assert_non_null(rec_prop(e, "password_digest"));
	return strdup(rec_prop(e, "password_digest"));
}

static void test_user_password_digest_follows_hash_not_lock(void **state)
{
	struct rec_fx *fx = *state;
	char *d1, *d2, *d3, *d4;

	copy_all(fx);
	d1 = digest_of(fx, "k", "alice", "set");
	assert_int_equal(troot_replace(fx->root, "etc/shadow", "FAKEalice", "FAKEalicf"), 0);
	d2 = digest_of(fx, "k", "alice", "set");
	assert_int_equal(troot_replace(fx->root, "etc/shadow", "FAKEalicf", "FAKEalice"), 0);
	assert_int_equal(troot_replace(fx->root, "etc/shadow", "alice:$y$", "alice:!$y$"), 0);
	d3 = digest_of(fx, "k", "alice", "locked");
	assert_int_equal(troot_replace(fx->root, "etc/shadow", "alice:!$y$", "alice:!!$y$"), 0);
	d4 = digest_of(fx, "k", "alice", "locked");
	assert_string_not_equal(d1, d2);
	assert_string_equal(d1, d3);
	assert_string_equal(d1, d4);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
}

static void test_user_password_digest_depends_on_secret(void **state)
{
	struct rec_fx *fx = *state;
	char *a, *b, *none, *empty;

	copy_all(fx);
	a = digest_of(fx, "secret-a", "root", "set");
	b = digest_of(fx, "secret-b", "root", "set");
	none = digest_of(fx, NULL, "root", "set");
	empty = digest_of(fx, "", "root", "set");
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, none);
	assert_string_equal(none, empty);
	assert_string_equal(none, ROOT_DIGEST_ZERO_KEY);
	free(a);
	free(b);
	free(none);
	free(empty);
}

static void test_user_password_states_of_placeholders(void **state)
{
	struct rec_fx *fx = *state;
	static const struct {
		const char *field, *state;
	} cases[] = {
		{ "", "none" },
		{ "*", "disabled" },
		{ "!", "disabled" },
		{ "!!", "disabled" },
		{ "!*", "disabled" },
		{ "*LK*", "disabled" },
		{ "x", "disabled" },
		{ "$6$", "disabled" },
		{ "$6$salt$has space", "disabled" },
		{ "abcdefghijklm", "set" }, /* traditional DES */
		{ "!abcdefghijklm", "locked" },
		{ "_J9..abcdefghijklmno", "set" }, /* BSDi */
		{ "$2b$10$abcdefghijklmnopqrstuv", "set" },
		{ "$6$rounds=5000$salt$hash", "set" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[128];
		const struct rec_entry *e;

		snprintf(line, sizeof(line), "u:%s:1::::::\n", cases[i].field);
		assert_int_equal(troot_write(fx->root, "etc/passwd", "u:x:1:1::/:/bin/sh\n"), 0);
		assert_int_equal(troot_write(fx->root, "etc/shadow", line), 0);
		assert_int_equal(run_tmp(fx, NULL), 0);
		e = rec_find(&fx->rec, ENTRY_USER, "u");
		assert_non_null(e);
		if (strcmp(rec_prop(e, "password"), cases[i].state))
			fail_msg("'%s': %s, expected %s", cases[i].field, rec_prop(e, "password"),
				 cases[i].state);
		assert_true(!rec_prop(e, "password_digest") ==
			    (cases[i].state[0] == 'd' || cases[i].state[0] == 'n'));
		assert_false(cases[i].field[0] && cases[i].field[1] &&
			     rec_contains(&fx->rec, cases[i].field));
	}
}

static void test_user_run_stops_when_emit_fails(void **state)
{
	struct rec_fx *fx = *state;

	copy_all(fx);
	fx->rootfd = troot_open(fx->root);
	fx->rec.stop_after = 2;
	fx->rec.stop_err = -EINTR;
	assert_int_equal(rec_run(&probe_user, fx->rootfd, NULL, HASH_NONE, &fx->rec), -EINTR);
	assert_int_equal(fx->rec.calls, 2);
	assert_int_equal(fx->rec.ne, 1);

	/* and in the groups too */
	rec_release(&fx->rec);
	fx->rec.stop_after = 8;
	fx->rec.stop_err = -EINTR;
	assert_int_equal(rec_run(&probe_user, fx->rootfd, NULL, HASH_NONE, &fx->rec), -EINTR);
	assert_int_equal(fx->rec.calls, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_user_describes_itself),
		cmocka_unit_test(test_user_run_emits_fixture_accounts),
		cmocka_unit_test(test_user_run_emits_fixture_groups),
		cmocka_unit_test(test_user_digest_matches_hmac_of_the_hash),
		rec_unit_test(test_user_run_never_leaks_password_hashes),
		rec_unit_test(test_user_run_reports_malformed_lines_and_goes_on),
		rec_unit_test(test_user_run_keeps_a_bad_date_and_finds_it),
		rec_unit_test(test_user_run_unavailable_without_passwd_and_group),
		rec_unit_test(test_user_run_without_shadow_has_no_password_props),
		rec_unit_test(test_user_run_with_one_file_missing_emits_the_other),
		rec_unit_test(test_user_run_fails_on_an_unreadable_passwd),
		rec_unit_test(test_user_password_digest_follows_hash_not_lock),
		rec_unit_test(test_user_password_digest_depends_on_secret),
		rec_unit_test(test_user_password_states_of_placeholders),
		rec_unit_test(test_user_run_stops_when_emit_fails),
	};

	return cmocka_run_group_tests_name("probe/user", tests, NULL, NULL);
}
