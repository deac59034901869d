/*
 * Unit tests of report/text.c: the text report, against golden files in
 * tests/golden/ (.txt) (DRIFT_UPDATE_GOLDEN=1 rewrites them) and against the
 * exact lines the CLI and users' mail filters rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report/report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/escape.h"
#include "tests/report/fixture.h"

static char *render(const struct report_meta *meta, fx_add_fn *add, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(fx_render(REPORT_TEXT, meta, add, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	if (ret_len)
		*ret_len = len;
	return buf;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle)) {
		print_error("missing: [%s]\nin:\n%s\n", needle, haystack);
		fail();
	}
}

static void assert_starts_with(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix))) {
		print_error("does not start with: [%s]\nin:\n%s\n", prefix, s);
		fail();
	}
}

static void assert_ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	assert_true(len >= n);
	assert_string_equal(s + len - n, suffix);
}

static void test_text_clean_check_is_one_line(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_nothing, &len);
	assert_string_equal(buf, "drift check: no deviations from baseline 'baseline' "
				 "(#1, 2026-11-25 15:10:02 UTC); 1234 entries checked\n");
	fx_golden_check("check-clean.txt", buf, len);
	free(buf);
}

static void test_text_clean_diff_is_one_line_and_names_unlabelled_by_id(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	struct snap_info post = fx_post;

	(void)state;
	fx_meta_diff(&meta);
	/* Hashed like 'pre' (contents compared): otherwise a note follows. */
	post.hash = HASH_XXH3_128;
	meta.after = &post;
	buf = render(&meta, fx_add_nothing, &len);
	assert_string_equal(buf, "drift diff: no deviations between 'pre' (#2, 2026-11-20 "
				 "09:00:00 UTC) and #3 (2026-11-21 09:30:00 UTC)\n");
	fx_golden_check("diff-clean.txt", buf, len);
	free(buf);
}

static void test_text_mixed_check_lists_every_change_and_attribute(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_mixed, &len);
	fx_golden_check("check-mixed.txt", buf, len);

	/* The summary, plural, with the unreadable count last. */
	assert_starts_with(buf, "drift check: 15 deviations from baseline 'baseline' (#1, "
				"2026-11-25 15:10:02 UTC): 4 added, 2 removed, 9 modified; 1234 "
				"entries checked; 2 unreadable\n\nadded (4):\n");
	/* Sections in order, each after a blank line; the document ends with the last item. */
	assert_contains(buf, "  /etc/motd (symlink -> /run/motd.dynamic)\n\nremoved (2):\n");
	assert_contains(buf, "  /etc/run.sock (socket)\n\nmodified (9):\n  /etc/group\n");
	assert_contains(buf, "    mode: 0440 -> 4755\n    hash: 00112233445566778899aabbccddeeff "
			     "-> deadbeef0123456789abcdeffedcba98\n\nunreadable (2):\n");
	assert_ends_with(buf, len, "\n  /etc/vanished: Input/output error\n");

	/* Types of added and removed entries that are not regular files. */
	assert_contains(buf,
			"\n  /etc/cron.d/backup\n  /etc/cron.daily (dir)\n  /etc/fifo (fifo)\n");
	/* Every attribute's rendering, in the enum's order. */
	assert_contains(buf, "  /etc/group\n    uid: 0 -> 1000\n    gid: 0 -> 42\n");
	assert_contains(buf, "  /etc/hosts\n    size: 1024 -> 18446744073709551615\n"
			     "    mtime: 2026-11-20T09:00:00.123456789Z -> "
			     "2026-11-25T15:10:02.000000001Z\n"
			     "    ctime: 2026-11-20T09:00:00.123456789Z -> "
			     "2026-11-25T15:10:02.100000000Z\n"
			     "    hash: 00112233445566778899aabbccddeeff -> "
			     "deadbeef0123456789abcdeffedcba98\n");
	assert_contains(buf, "  /etc/localtime\n    target: \"/usr/share/zoneinfo/UTC\" -> "
			     "\"/usr/share/zoneinfo/Europe/Paris\"\n");
	/* A device's number as major,minor: /dev/null replaced by /dev/mem. */
	assert_contains(buf, "  /etc/null\n    rdev: 1,3 -> 1,1\n  /etc/passwd\n");
	assert_contains(buf, "  /etc/passwd\n    mode: 0644 -> 0600\n"
			     "    inode: 131075 -> 18446744073709551557\n"
			     "    device: 2049 -> 66306\n    nlink: 1 -> 2\n");
	assert_contains(buf, "  /etc/rc.local\n    type: file -> symlink\n    mode: 0755 -> 0777\n"
			     "    size: 1024 -> 9\n    target: none -> \"/bin/true\"\n"
			     "    hash: 00112233445566778899aabbccddeeff -> none\n");
	assert_contains(buf, "  /etc/shadow\n    error: none -> Permission denied\n");
	assert_contains(buf, "  /etc/sticky\n    mode: 0755 -> 1777\n");
	assert_contains(buf, "  /etc/sudoers (changed while read)\n    mode: 0440 -> 4755\n");
	/* The unreadable section. */
	assert_contains(buf, "unreadable (2):\n  /etc/shadow: Permission denied\n"
			     "  /etc/vanished: Input/output error\n");
	/* No colour unless asked. */
	assert_null(strchr(buf, '\033'));
	free(buf);
}

static void test_text_colour_marks_headings_and_paths_and_resets_each_line(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	fx_meta_check(&meta);
	meta.color = true;
	buf = render(&meta, fx_add_mixed, &len);
	fx_golden_check("check-mixed-color.txt", buf, len);

	assert_contains(buf, "\n\n\033[1madded (4):\033[0m\n  \033[32m/etc/cron.d/backup\033[0m\n");
	assert_contains(buf, "\n\033[1mremoved (2):\033[0m\n  \033[31m/etc/issue\033[0m\n");
	assert_contains(buf, "  \033[31m/etc/run.sock (socket)\033[0m\n");
	assert_contains(buf, "\033[1mmodified (9):\033[0m\n  \033[33m/etc/group\033[0m\n"
			     "    uid: 0 -> 1000\n");
	assert_contains(buf, "  \033[33m/etc/sudoers (changed while read)\033[0m\n");
	assert_contains(buf, "\033[1munreadable (2):\033[0m\n"
			     "  \033[35m/etc/shadow\033[0m: Permission denied\n");
	/* The summary line stays plain, for mail filters. */
	assert_true(strchr(buf, '\033') > strchr(buf, '\n'));

	/* Every line that switches something on switches it off again. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *last = strrchr(line, '\033');

		if (last)
			assert_true(!strncmp(last, "\033[0m", 4));
	}
	free(buf);
}

static void test_text_one_deviation_is_singular(void **state)
{
	struct report_meta meta;
	struct snap_info one = fx_check;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	one.entries = 1;
	meta.after = &one;
	buf = render(&meta, fx_add_one, &len);
	assert_string_equal(buf, "drift check: 1 deviation from baseline 'baseline' (#1, "
				 "2026-11-25 15:10:02 UTC): 0 added, 1 removed, 0 modified; "
				 "1 entry checked\n\nremoved (1):\n  /etc/issue\n");
	fx_golden_check("check-one.txt", buf, len);
	free(buf);

	fx_meta_diff(&meta);
	buf = render(&meta, fx_add_one, &len);
	assert_string_equal(buf, "drift diff: 1 deviation between 'pre' (#2, 2026-11-20 09:00:00 "
				 "UTC) and #3 (2026-11-21 09:30:00 UTC): 0 added, 1 removed, "
				 "0 modified\nnote: contents were not compared (the snapshots "
				 "were hashed with xxh3-128 and none)\n\nremoved (1):\n"
				 "  /etc/issue\n");
	free(buf);
}

static void test_text_unreadable_without_deviations_has_only_that_section(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_unreadable_only, &len);
	assert_string_equal(buf, "drift check: no deviations from baseline 'baseline' (#1, "
				 "2026-11-25 15:10:02 UTC); 1234 entries checked; 1 unreadable\n"
				 "\nunreadable (1):\n  /etc/shadow: Permission denied\n");
	fx_golden_check("check-unreadable.txt", buf, len);
	free(buf);
}

static void test_text_weird_names_are_escaped_never_raw(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	fx_meta_diff(&meta);
	buf = render(&meta, fx_add_weird, &len);
	fx_golden_check("diff-weird-names.txt", buf, len);

	assert_contains(buf, "drift diff: 11 deviations between 'pre' (#2, 2026-11-20 09:00:00 UTC)"
			     " and #3 (2026-11-21 09:30:00 UTC): 6 added, 2 removed, 3 modified; "
			     "1 unreadable\n");
	assert_contains(buf, "\n  /srv/a\\nb\n");
	assert_contains(buf, "\n  /srv/back\\\\slash\n");
	assert_contains(buf, "\n  /srv/del\\x7f\n");
	assert_contains(buf, "\n  /srv/link (symlink -> \\xff\\xfe/target\\nx)\n");
	assert_contains(buf, "\n  /srv/quote\"\n");
	assert_contains(buf, "\n  /srv/tab\\tname (changed while read)\n");
	assert_contains(buf, "\n  /srv/bell\\x01\n");
	assert_contains(buf, "\n  /srv/nel\\xc2\\x85\n");
	/* Valid UTF-8 stays as it is. */
	assert_contains(buf, "\n  /srv/caf\xc3\xa9\n    mode: 0644 -> 0600\n");
	assert_contains(buf, "\n  /srv/latin1-\\xff\\xfe (changed while read)\n    hash: ");
	assert_contains(buf, "\n  /srv/link2\n    size: 4 -> 12\n"
			     "    target: \"old\\xff\" -> \"new \"quoted\"\"\n");
	assert_contains(buf, "\n  /srv/unreadable\\xff: Permission denied\n");

	/* Nothing in the report is a raw control byte or invalid UTF-8. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(escape_is_clean(line, strlen(line)));
	free(buf);
}

static void test_text_classified_groups_by_severity_then_expected(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	fx_meta_check_policy(&meta);
	buf = render(&meta, fx_add_classified, &len);
	fx_golden_check("check-classified.txt", buf, len);

	/* The summary keeps its start, then the classes and the drift by severity. */
	assert_starts_with(buf, "drift check: 9 deviations from baseline 'baseline' (#1, "
				"2026-11-25 15:10:02 UTC): 2 added, 1 removed, 6 modified; "
				"2 expected; 7 drift (2 critical, 1 high, 1 medium, 1 low, "
				"1 info, 1 unclassified); 1234 entries checked; 1 unreadable\n"
				"note: the baseline was taken under another policy "
				"(digest 0123abcd...)\n\ncritical (2):\n");
	/* Items name their change, rule and reason; attributes of v->attrs only. */
	assert_contains(buf, "\ncritical (2):\n  modified  /usr/bin/ping  [bin] capabilities "
			     "changed\n");
	assert_contains(buf, "  modified  /usr/bin/su  [bin] setuid bit set\n"
			     "    mode: 0755 -> 4755\n\nhigh (1):\n"
			     "  added     /etc/cron.d/job  [etc] new file\n\nmedium (1):\n"
			     "  removed   /etc/old (dir)  [etc]\n\nlow (1):\n"
			     "  modified  /usr/lib/x.so  owner changed\n    uid: 0 -> 7\n\n"
			     "info (1):\n  added     /var/tmp/f  [tmp]\n\n");
	/* Drift without a verdict: the section of its change, as without a policy. */
	assert_contains(buf, "\n\nmodified (1):\n  /etc/motd\n    size: 1024 -> 2048\n\n");
	/* Expected: one line each, after the drift. */
	assert_contains(buf, "\n\nexpected (2):\n"
			     "  modified  /etc/hosts  [etc-volatile] mtime may change\n"
			     "  modified  /var/log/syslog  [logs] grew\n\n"
			     "unreadable (1):\n  /var/log/secret: Permission denied\n");
	assert_ends_with(buf, len, "unreadable (1):\n  /var/log/secret: Permission denied\n");
	/* No hash line for /usr/bin/su: the verdict says only the mode matters. */
	assert_null(strstr(buf, "    hash: "));

	/* The optional attributes. */
	assert_contains(
		buf,
		"    xattrs: user.a=\"1\", user.gone=\"x\" -> user.a=\"2\", "
		"-user.gone, +user.new\\n=\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
		"vvvvvvvvvvvv\"...(80 bytes)\n");
	assert_contains(buf, "    acl: none -> u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x\n"
			     "    caps: none -> cap_net_raw=ep\n"
			     "    selinux: system_u:object_r:bin_t:s0 -> "
			     "unconfined_u:object_r:user_home_t:s0\n"
			     "    mime: application/x-pie-executable -> text/x-shellscript\n");

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(escape_is_clean(line, strlen(line)));
	free(buf);
}

static void test_text_classified_colour_resets_each_line(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	fx_meta_check_policy(&meta);
	meta.color = true;
	buf = render(&meta, fx_add_classified, &len);
	fx_golden_check("check-classified-color.txt", buf, len);
	assert_contains(buf, "\033[1mcritical (2):\033[0m\n  \033[33mmodified  /usr/bin/ping\033[0m"
			     "  [bin] capabilities changed\n");
	assert_contains(buf, "  \033[32madded     /etc/cron.d/job\033[0m  [etc] new file\n");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *last = strrchr(line, '\033');

		if (last)
			assert_true(!strncmp(last, "\033[0m", 4));
	}
	free(buf);
}

/* Only additions, only removals: the other side of the xattrs line is "none". */
static int add_xattrs_one_sided(struct report *rep)
{
	static const uint8_t blob[] = { 6, 0, 0, 0, 'u', 's', 'e', 'r', '.', 'k', 1, 0, 0, 0, 7 };
	struct entry o = { .kind = ENTRY_FILE, .key = "/f", .key_len = 2, .mode = S_IFREG | 0644 };
	struct entry n = o;
	struct deviation d = {
		.change = CHANGE_MODIFIED, .before = &o, .after = &n, .attrs = ATTR_XATTRS
	};
	int r;

	o.collected = n.collected = ATTR_XATTRS;
	n.xattrs = blob;
	n.xattrs_len = sizeof(blob);
	r = fx_add(rep, &d);
	if (r < 0)
		return r;
	o.key = n.key = "/g";
	o.xattrs = blob;
	o.xattrs_len = sizeof(blob);
	n.xattrs = NULL;
	n.xattrs_len = 0;
	return fx_add(rep, &d);
}

static void test_text_xattrs_one_sided_changes_show_none(void **state)
{
	struct report_meta meta;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, add_xattrs_one_sided, NULL);
	assert_contains(buf, "  /f\n    xattrs: none -> +user.k=\"\\a\"\n");
	assert_contains(buf, "  /g\n    xattrs: user.k=\"\\a\" -> -user.k\n");
	/* Without verdicts: no class counts in the summary, no policy note. */
	assert_starts_with(buf, "drift check: 2 deviations from baseline 'baseline' (#1, "
				"2026-11-25 15:10:02 UTC): 0 added, 0 removed, 2 modified; 1234 "
				"entries checked\n\nmodified (2):\n");
	free(buf);
}

static void test_text_policy_note_for_diff_and_unknown_digest(void **state)
{
	struct report_meta meta;
	struct snap_info a = fx_pre, b = fx_post;
	char digest[] = "fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876";
	char *buf;

	(void)state;
	fx_meta_diff(&meta);
	b.policy_digest = digest;
	meta.before = &a;
	meta.after = &b;
	buf = render(&meta, fx_add_nothing, NULL);
	assert_string_equal(buf, "drift diff: no deviations between 'pre' (#2, 2026-11-20 09:00:00 "
				 "UTC) and #3 (2026-11-21 09:30:00 UTC)\nnote: contents were not "
				 "compared (the snapshots were hashed with xxh3-128 and none)\n"
				 "note: the snapshots were "
				 "taken under different policies (none recorded and digest "
				 "fedc9876...)\n");
	free(buf);
	/* The same policy: no policy note. */
	a.policy_digest = digest;
	buf = render(&meta, fx_add_nothing, NULL);
	assert_null(strstr(buf, "polic"));
	free(buf);
}

/* A snapshot hashed differently from the other (`--hash none` against a
 * hashed baseline): contents were not compared, and the report says so
 * right after the summary, clean or not. */
static void test_text_hash_note_when_contents_were_not_compared(void **state)
{
	struct report_meta meta;
	struct snap_info a = fx_baseline, b = fx_check;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	meta.before = &a;
	meta.after = &b;
	b.hash = HASH_NONE;
	buf = render(&meta, fx_add_nothing, NULL);
	assert_string_equal(buf, "drift check: no deviations from baseline 'baseline' (#1, "
				 "2026-11-25 15:10:02 UTC); 1234 entries checked\nnote: contents "
				 "were not compared (the snapshots were hashed with xxh3-128 and "
				 "none)\n");
	free(buf);
	buf = render(&meta, fx_add_mixed, NULL);
	assert_contains(buf, " unreadable\nnote: contents were not compared "
			     "(the snapshots were hashed with xxh3-128 and none)\n\nadded (");
	free(buf);
	/* The same algorithm on both sides, even none: no note. */
	a.hash = HASH_NONE;
	buf = render(&meta, fx_add_nothing, NULL);
	assert_null(strstr(buf, "note:"));
	free(buf);
	a.hash = b.hash = HASH_SHA256;
	buf = render(&meta, fx_add_nothing, NULL);
	assert_null(strstr(buf, "note:"));
	free(buf);
}

static void test_text_system_entries_show_kind_key_props_and_owner(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_system, &len);
	fx_golden_check("check-system.txt", buf, len);

	/* The summary counts every kind; the caller's notes follow it. */
	assert_starts_with(buf,
			   "drift check: 12 deviations from baseline 'baseline' (#1, "
			   "2026-11-25 15:10:02 UTC): 4 added, 3 removed, 5 modified; "
			   "2 expected; 10 drift (1 critical, 4 high, 1 medium, 1 low, 1 info, "
			   "2 unclassified); 1234 entries checked; 2 unreadable\n"
			   "note: probe mount unavailable under /mnt/img\n"
			   "note: 3 findings in etc/passwd (see stderr)\n"
			   "note: baseline has no package data for 2 packages\n\ncritical (1):\n");
	/* Other kinds: kind and key (escaped), no type; files first, then by kind. */
	assert_contains(buf, "\ncritical (1):\n  added     user ev\\xffil  [users] new account\n");
	assert_contains(buf,
			"\nhigh (4):\n"
			"  added     /usr/local/sbin/backdoor  [sbin] not owned by any package"
			"  (unowned)\n"
			"  added     package netcat:amd64  [packages] new package\n"
			"  modified  user www-data  [users] login shell for a service account\n"
			"    gecos: none -> Caf\\xe9\n"
			"    home: /var/www -> none\n"
			"    shell: /usr/sbin/nologin -> /bin/bash\n"
			"  added     port tcp/0.0.0.0:8080  [ports] new listening socket\n\n");
	assert_contains(buf, "\nmedium (1):\n  removed   user olduser  [users]\n\n");
	/* The package context ends the reason line: one version when it did not change. */
	assert_contains(buf, "\nlow (1):\n  modified  /etc/hello.conf  [conf] locally modified "
			     "configuration  (package hello:amd64 1.1-1)\n"
			     "    size: 1024 -> 2048\n    hash: ");
	assert_contains(buf, "\ninfo (1):\n  modified  package bash:amd64  [packages] version "
			     "changed\n    version: 5.2-1 -> 5.2-2\n\n");
	/* Without a verdict: the sections by change, the owner after the key. */
	assert_contains(buf, "\nremoved (2):\n  /usr/share/doc/hello/NEWS  (package hello:amd64 "
			     "1.0-1)\n  package oldpkg:amd64\n\n");
	/* Expected: one line each, files first. */
	assert_contains(buf,
			"\nexpected (2):\n  modified  /usr/bin/hello  [packages] package "
			"hello upgraded 1.0-1 -> 1.1-1  (package hello:amd64 1.0-1 -> "
			"1.1-1)\n  modified  package hello:amd64  [packages] upgraded by apt\n");
	assert_contains(buf, "\nunreadable (2):\n  /etc/shadow: Permission denied\n"
			     "  service secret.service: Permission denied\n");
	/* Properties that did not change are not listed. */
	assert_null(strstr(buf, "status:"));
	assert_null(strstr(buf, "uid:"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(escape_is_clean(line, strlen(line)));
	free(buf);
}

static void test_text_system_colour_resets_each_line(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *line, *save = NULL;

	(void)state;
	fx_meta_check(&meta);
	meta.color = true;
	buf = render(&meta, fx_add_system, &len);
	assert_contains(buf, "  \033[32madded     package netcat:amd64\033[0m  [packages] new "
			     "package\n");
	assert_contains(buf, "  \033[31m/usr/share/doc/hello/NEWS\033[0m  (package hello:amd64 "
			     "1.0-1)\n");
	assert_contains(buf, "  \033[35mservice secret.service\033[0m: Permission denied\n");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *last = strrchr(line, '\033');

		if (last)
			assert_true(!strncmp(last, "\033[0m", 4));
	}
	free(buf);
}

static void test_text_verify_summary_names_files_and_packages(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_verify(&meta);
	buf = render(&meta, fx_add_verify, &len);
	fx_golden_check("verify.txt", buf, len);
	assert_starts_with(buf,
			   "drift verify: 4 files differ from their packages: 1 added, "
			   "1 removed, 2 modified; 0 expected; 4 drift (1 critical, 1 high, "
			   "1 medium, 1 low); 12345 files checked\n"
			   "note: 2 packages have no MD5 sums: not verified\n\ncritical (1):\n");
	/* MD5 sums: 32 hex digits, the package's first. */
	assert_contains(buf, "  modified  /usr/bin/hello  content differs from the package  "
			     "(package hello:amd64 1.1-1)\n"
			     "    hash: d41d8cd98f00b204e9800998ecf8427e -> "
			     "098f6bcd4621d373cade4e832627b4f6\n");
	assert_contains(buf, "  added     /usr/sbin/tool  not owned by any package  (unowned)\n");
	free(buf);

	/* Clean, and singular. */
	meta.checked = 1;
	buf = render(&meta, fx_add_nothing, NULL);
	assert_string_equal(buf, "drift verify: no files differ from their packages; "
				 "1 file checked\n");
	free(buf);
	buf = render(&meta, fx_add_one, NULL);
	assert_string_equal(buf, "drift verify: 1 file differs from its package: 0 added, "
				 "1 removed, 0 modified; 1 file checked\n\nremoved (1):\n"
				 "  /etc/issue\n");
	free(buf);
}

/* Notes: after the report's own notes, escaped, one line each. */
static int add_notes(struct report *rep)
{
	int r = report_add_note(rep, "first");

	if (r == 0)
		r = report_add_note(rep, "two\nlines \xff");
	return r;
}

static void test_text_notes_follow_the_summary_and_own_notes(void **state)
{
	struct report_meta meta;
	struct snap_info a = fx_baseline, b = fx_check;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	b.hash = HASH_NONE;
	meta.before = &a;
	meta.after = &b;
	buf = render(&meta, add_notes, NULL);
	assert_string_equal(buf, "drift check: no deviations from baseline 'baseline' (#1, "
				 "2026-11-25 15:10:02 UTC); 1234 entries checked\nnote: contents "
				 "were not compared (the snapshots were hashed with xxh3-128 and "
				 "none)\nnote: first\nnote: two\\nlines \\xff\n");
	free(buf);
}

/* Props one side only, empty values, equal values, a malformed blob. */
static int add_props_edges(struct report *rep)
{
	static const uint8_t a[] = {
		1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 'b', 1, 0, 0, 0, 'x'
	};
	static const uint8_t b[] = { 1, 0, 0,   0, 'b', 1, 0, 0, 0, 'x', 1, 0,
				     0, 0, 'c', 0, 0,   0, 0, 9, 0, 0,   0 /* truncated */ };
	struct entry o = { .kind = ENTRY_SYSCTL, .key = "k", .key_len = 1 };
	struct entry n = o;
	struct deviation d = {
		.change = CHANGE_MODIFIED, .before = &o, .after = &n, .attrs = ATTR_PROPS
	};
	int r;

	o.props = a;
	o.props_len = sizeof(a);
	n.props = b;
	n.props_len = sizeof(b);
	r = fx_add(rep, &d);
	if (r < 0)
		return r;
	/* No props at all on either side, and an unknown kind. */
	o.key = n.key = "l";
	o.props = n.props = NULL;
	o.props_len = n.props_len = 0;
	o.kind = n.kind = (enum entry_kind)42;
	d.change = CHANGE_ADDED;
	d.before = NULL;
	return fx_add(rep, &d);
}

static void test_text_props_edges(void **state)
{
	struct report_meta meta;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, add_props_edges, NULL);
	assert_contains(buf, "\nadded (1):\n  unknown l\n");
	assert_contains(buf, "\nmodified (1):\n  sysctl k\n    a: \"\" -> none\n"
			     "    c: none -> \"\"\n");
	assert_null(strstr(buf, "    b:"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_clean_check_is_one_line),
		cmocka_unit_test(test_text_hash_note_when_contents_were_not_compared),
		cmocka_unit_test(test_text_clean_diff_is_one_line_and_names_unlabelled_by_id),
		cmocka_unit_test(test_text_mixed_check_lists_every_change_and_attribute),
		cmocka_unit_test(test_text_colour_marks_headings_and_paths_and_resets_each_line),
		cmocka_unit_test(test_text_one_deviation_is_singular),
		cmocka_unit_test(test_text_unreadable_without_deviations_has_only_that_section),
		cmocka_unit_test(test_text_weird_names_are_escaped_never_raw),
		cmocka_unit_test(test_text_classified_groups_by_severity_then_expected),
		cmocka_unit_test(test_text_classified_colour_resets_each_line),
		cmocka_unit_test(test_text_xattrs_one_sided_changes_show_none),
		cmocka_unit_test(test_text_policy_note_for_diff_and_unknown_digest),
		cmocka_unit_test(test_text_system_entries_show_kind_key_props_and_owner),
		cmocka_unit_test(test_text_system_colour_resets_each_line),
		cmocka_unit_test(test_text_verify_summary_names_files_and_packages),
		cmocka_unit_test(test_text_notes_follow_the_summary_and_own_notes),
		cmocka_unit_test(test_text_props_edges),
	};
	return cmocka_run_group_tests_name("report/text", tests, NULL, NULL);
}
