#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/rules.h"

#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"

static const char policy[] = "rules:\n"
			     "  - {id: etc, path: /etc, severity: high}\n"
			     "  - id: vol\n"
			     "    path: /etc/resolv.conf\n"
			     "    expect: [hash, size, mtime]\n"
			     "    severity: high\n"
			     "  - id: perm\n"
			     "    path: /srv\n"
			     "    check: perms\n"
			     "    ignore: [gid]\n"
			     "    severity: low\n"
			     "    when_added: info\n"
			     "  - {id: log, path: /var/log, check: log, severity: low}\n"
			     "  - id: grow\n"
			     "    path: /var/log/grow\n"
			     "    expect: [grow]\n"
			     "    severity: medium\n"
			     "  - id: bin\n"
			     "    path: /usr/bin\n"
			     "    severity: critical\n"
			     "    magic: true\n"
			     "  - {id: low, path: /opt, severity: low, magic: true}\n"
			     "  - {id: home, path: /home, check: all, severity: low}\n";

static int setup(void **state)
{
	struct rule_set *rs = NULL;
	struct diag d;

	if (rule_set_load_buffer("t.yaml", policy, strlen(policy), NULL, NULL, &rs, &d) != 0) {
		print_error("%s\n", d.msg);
		return -1;
	}
	*state = rs;
	return 0;
}

static int teardown(void **state)
{
	rule_set_free(*state);
	return 0;
}

static struct entry file(const char *path, uint32_t mode, uint64_t size)
{
	struct entry e;

	memset(&e, 0, sizeof(e));
	e.kind = ENTRY_FILE;
	e.key = path;
	e.key_len = strlen(path);
	e.mode = mode;
	e.size = size;
	e.ino = 42;
	return e;
}

/* Classify a modification of @path from @oldmode/@oldsize to @newmode/@newsize. */
static bool modified(const struct rule_set *rs, const char *path, uint32_t oldmode,
		     uint32_t newmode, uint64_t oldsize, uint64_t newsize, uint32_t attrs,
		     struct rule_verdict *v)
{
	struct entry o = file(path, oldmode, oldsize), n = file(path, newmode, newsize);

	return rule_set_classify(rs, RULE_MODIFIED, &o, &n, attrs, NULL, v);
}

static void test_set_classify_ignores_what_the_policy_does_not_cover(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry n = file("/nowhere/x", S_IFREG | 0644, 1);

	memset(&v, 0x5a, sizeof(v));
	/* No rule covers the path. */
	assert_false(rule_set_classify(rs, RULE_ADDED, NULL, &n, 0, NULL, &v));
	assert_false(
		modified(rs, "/nowhere/x", S_IFREG | 0644, S_IFREG | 0644, 1, 2, ATTR_SIZE, &v));
	/* ctime is not in static. */
	assert_false(
		modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0644, 1, 1, ATTR_CTIME, &v));
	/* gid is ignored, size not checked by perms. */
	assert_false(modified(rs, "/srv/x", S_IFREG | 0644, S_IFREG | 0644, 1, 2,
			      ATTR_GID | ATTR_SIZE | ATTR_HASH, &v));
	/* Wrong sides. */
	assert_false(rule_set_classify(rs, RULE_ADDED, &n, NULL, 0, NULL, &v));
	assert_false(rule_set_classify(rs, RULE_REMOVED, NULL, &n, 0, NULL, &v));
	assert_false(rule_set_classify(rs, RULE_MODIFIED, NULL, &n, ATTR_SIZE, NULL, &v));
	/* ret_verdict untouched on false. */
	assert_int_equal(v.reason[0], 0x5a);
}

static void test_set_classify_modified_is_drift_with_reason(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0644, 10, 12,
			     ATTR_HASH | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_int_equal(v.severity, RULE_HIGH);
	assert_string_equal(rule_id(v.rule), "etc");
	assert_int_equal(v.attrs, ATTR_HASH | ATTR_SIZE | ATTR_MTIME);
	assert_string_equal(v.reason, "content changed");

	assert_true(
		modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0600, 10, 10, ATTR_MODE, &v));
	assert_string_equal(v.reason, "mode changed 0644 -> 0600");

	assert_true(modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0600, 10, 10,
			     ATTR_MODE | ATTR_UID | ATTR_HASH, &v));
	assert_string_equal(v.reason, "content changed (+2 more)");

	assert_true(modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFLNK | 0777, 10, 10,
			     ATTR_TYPE | ATTR_MODE, &v));
	assert_string_equal(v.reason, "type changed file -> symlink (+1 more)");

	/* error is always checked, even under perms. */
	struct entry o = file("/srv/x", S_IFREG | 0644, 1), n = o;
	n.err = 13;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_ERROR, NULL, &v));
	assert_string_equal(v.reason, "cannot read: Permission denied");
	assert_int_equal(v.severity, RULE_LOW);
}

static void test_set_classify_expect_makes_expected(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(modified(rs, "/etc/resolv.conf", S_IFREG | 0644, S_IFREG | 0644, 10, 20,
			     ATTR_HASH | ATTR_SIZE | ATTR_MTIME, &v));
	assert_int_equal(v.class, RULE_EXPECTED);
	assert_string_equal(rule_id(v.rule), "vol");
	assert_string_equal(v.reason, "content changed");

	/* An unexpected attribute among expected ones: drift, and the reason names it. */
	assert_true(modified(rs, "/etc/resolv.conf", S_IFREG | 0644, S_IFREG | 0666, 10, 20,
			     ATTR_HASH | ATTR_SIZE | ATTR_MODE, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_string_equal(v.reason, "world-writable in a system directory");
	assert_true(modified(rs, "/etc/resolv.conf", S_IFREG | 0644, S_IFREG | 0640, 10, 20,
			     ATTR_HASH | ATTR_MODE, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_string_equal(v.reason, "mode changed 0644 -> 0640");
}

static void test_set_classify_log_growth(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry o = file("/var/log/syslog", S_IFREG | 0640, 100), n = o;

	n.size = 200;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MTIME, NULL, &v));
	assert_int_equal(v.class, RULE_EXPECTED);
	assert_int_equal(v.severity, RULE_LOW);
	assert_string_equal(v.reason, "log grew");
	assert_int_equal(v.attrs, ATTR_SIZE);

	n.size = 50;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_SIZE, NULL, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_string_equal(v.reason, "log shrank");

	n.size = 200;
	n.ino = 43;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_INODE, NULL, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_string_equal(v.reason, "log replaced");

	/* Growth explains the size, not a mode change. */
	n.ino = 42;
	n.mode = S_IFREG | 0644;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MODE, NULL, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_string_equal(v.reason, "mode changed 0640 -> 0644");

	/* grow in expect, under static: size, mtime and content of a growing file. */
	o = file("/var/log/grow", S_IFREG | 0640, 100);
	n = o;
	n.size = 300;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MTIME | ATTR_HASH,
				      NULL, &v));
	assert_int_equal(v.class, RULE_EXPECTED);
	assert_string_equal(rule_id(v.rule), "grow");
	assert_string_equal(v.reason, "log grew");
	n.size = 10;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_HASH, NULL, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_string_equal(v.reason, "log shrank");
}

static void test_set_classify_added_and_removed(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry f = file("/srv/new", S_IFREG | 0644, 1);
	struct entry d = file("/etc/new.d", S_IFDIR | 0755, 0);

	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_int_equal(v.severity, RULE_INFO); /* when_added */
	assert_string_equal(v.reason, "new file");
	assert_string_equal(rule_id(v.rule), "perm");

	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &d, 0, NULL, &v));
	assert_int_equal(v.severity, RULE_HIGH); /* when_added defaults to severity */
	assert_string_equal(v.reason, "new directory");

	assert_true(rule_set_classify(rs, RULE_REMOVED, &f, NULL, 0, NULL, &v));
	assert_int_equal(v.class, RULE_DRIFT);
	assert_int_equal(v.severity, RULE_LOW);
	assert_string_equal(v.reason, "removed");
}

static void test_set_classify_escalates_setuid(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry f = file("/srv/su", S_IFREG | 04755, 1);

	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.severity, RULE_HIGH);
	assert_string_equal(v.reason, "new setuid file");
	f.mode = S_IFREG | 02755;
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_string_equal(v.reason, "new setgid file");

	assert_true(modified(rs, "/srv/x", S_IFREG | 0755, S_IFREG | 04755, 1, 1, ATTR_MODE, &v));
	assert_int_equal(v.severity, RULE_HIGH);
	assert_string_equal(v.reason, "setuid bit added");
	/* A directory's setgid bit is ordinary. */
	assert_true(modified(rs, "/srv/d", S_IFDIR | 0755, S_IFDIR | 02755, 1, 1, ATTR_MODE, &v));
	assert_int_equal(v.severity, RULE_LOW);
	assert_string_equal(v.reason, "mode changed 0755 -> 2755");
	/* Removing the bit is not an escalation. */
	assert_true(modified(rs, "/srv/x", S_IFREG | 04755, S_IFREG | 0755, 1, 1, ATTR_MODE, &v));
	assert_int_equal(v.severity, RULE_LOW);
}

static void test_set_classify_escalates_world_writable_in_system_dirs(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry f = file("/etc/x", S_IFREG | 0666, 1);

	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.severity, RULE_HIGH);
	assert_string_equal(v.reason, "world-writable in a system directory");

	/* Sticky directories (like /tmp) are fine. */
	f = file("/etc/sticky", S_IFDIR | 01777, 0);
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_string_equal(v.reason, "new directory");
	/* Outside the system directories: no escalation. */
	f = file("/home/ann/x", S_IFREG | 0666, 1);
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.severity, RULE_LOW);
	/* Symlinks are always 0777. */
	f = file("/etc/link", S_IFLNK | 0777, 1);
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &f, 0, NULL, &v));
	assert_string_equal(v.reason, "new symlink");
	/* Becoming world-writable. */
	assert_true(modified(rs, "/etc/y", S_IFREG | 0644, S_IFREG | 0646, 1, 1, ATTR_MODE, &v));
	assert_string_equal(v.reason, "world-writable in a system directory");
	assert_int_equal(v.severity, RULE_HIGH);
}

static void test_set_classify_escalates_executables_under_magic(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry o = file("/opt/tool", S_IFREG | 0755, 1), n = o;

	assert_true(
		rule_set_classify(rs, RULE_ADDED, NULL, &n, 0, "application/x-pie-executable", &v));
	assert_int_equal(v.severity, RULE_HIGH);
	assert_string_equal(v.reason, "new ELF executable");

	n.size = 2;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_HASH | ATTR_SIZE,
				      "text/x-shellscript; charset=us-ascii", &v));
	assert_int_equal(v.severity, RULE_HIGH);
	assert_string_equal(v.reason, "changed script");
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_HASH, "text/x-script.python",
				      &v));
	assert_string_equal(v.reason, "changed script");
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &n, 0, "application/x-sharedlib", &v));
	assert_string_equal(v.reason, "new ELF shared library");

	/* Plain text is not escalated; nor is a mode-only change. */
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &n, 0, "text/plain", &v));
	assert_int_equal(v.severity, RULE_LOW);
	n = o;
	n.mode = S_IFREG | 0700;
	assert_true(rule_set_classify(rs, RULE_MODIFIED, &o, &n, ATTR_MODE,
				      "application/x-executable", &v));
	assert_int_equal(v.severity, RULE_LOW);

	/* Without magic: true, no escalation from content. */
	n = file("/home/ann/a.out", S_IFREG | 0755, 1);
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &n, 0, "application/x-executable", &v));
	assert_int_equal(v.severity, RULE_LOW);
	assert_string_equal(v.reason, "new file");

	/* Escalation never lowers: critical stays critical. */
	n = file("/usr/bin/evil", S_IFREG | 0755, 1);
	assert_true(rule_set_classify(rs, RULE_ADDED, NULL, &n, 0, "application/x-executable", &v));
	assert_int_equal(v.severity, RULE_CRITICAL);
	assert_string_equal(v.reason, "new ELF executable");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rule_severity_name(RULE_CRITICAL), "critical");
	assert_string_equal(rule_severity_name(RULE_INFO), "info");
	assert_string_equal(rule_class_name(RULE_EXPECTED), "expected");
	assert_string_equal(rule_class_name(RULE_DRIFT), "drift");
	assert_string_equal(rule_class_name(RULE_VIOLATION), "violation");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_classify_ignores_what_the_policy_does_not_cover),
		cmocka_unit_test(test_set_classify_modified_is_drift_with_reason),
		cmocka_unit_test(test_set_classify_expect_makes_expected),
		cmocka_unit_test(test_set_classify_log_growth),
		cmocka_unit_test(test_set_classify_added_and_removed),
		cmocka_unit_test(test_set_classify_escalates_setuid),
		cmocka_unit_test(test_set_classify_escalates_world_writable_in_system_dirs),
		cmocka_unit_test(test_set_classify_escalates_executables_under_magic),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("rules/classify", tests, setup, teardown);
}
