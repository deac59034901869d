/*
 * rule_set_explain(): which rule decides an entry and why, what excludes
 * it, or that nothing covers it; and the accessors that show a rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"

static const char policy[] = "scan:\n"
			     "  roots: [/etc, /srv]\n"
			     "  exclude: [/srv/cache]\n"
			     "  probes: [user, sysctl]\n"
			     "rules:\n"
			     "  - {id: all, path: /, check: perms}\n"      /* 6 */
			     "  - {id: etc, path: /etc, severity: high}\n" /* 7 */
			     "  - id: ssh\n"                               /* 8 */
			     "    title: SSH\n"
			     "    path: /etc/ssh\n"
			     "    check: [static, xattrs]\n"
			     "    ignore: [mtime]\n"
			     "    expect: [hash, size]\n"
			     "    severity: critical\n"
			     "    when_added: low\n"
			     "    magic: true\n"
			     "  - {id: conf, path: \"/etc/ssh/*.conf\", check: log}\n" /* 17 */
			     "  - {id: tmp, path: /etc/tmp, exclude: true}\n"          /* 18 */
			     "  - {id: www, path: \"/srv/www/**\"}\n"                  /* 19 */
			     "  - {id: users, kind: user, key: \"**\"}\n"              /* 20 */
			     "  - {id: root, kind: user, key: \"=root\", severity: critical}\n"
			     "  - {id: net, kind: sysctl, key: \"net.*\"}\n" /* 22 */
			     "  - {id: rnd, kind: sysctl, key: \"net.core.*\", exclude: true}\n"
			     "  - {id: boot, kind: mount, path: /boot}\n"; /* 24 */

static int setup(void **state)
{
	struct rule_set *rs = NULL;
	struct diag d;

	assert_int_equal(
		rule_set_load_buffer("t.yaml", policy, strlen(policy), NULL, NULL, &rs, &d), 0);
	*state = rs;
	return 0;
}

static int teardown(void **state)
{
	rule_set_free(*state);
	return 0;
}

static void explain(const struct rule_set *rs, enum entry_kind kind, const char *key,
		    struct rule_explanation *ex)
{
	assert_int_equal(rule_set_explain(rs, kind, key, strlen(key), ex), 0);
	/* The explanation names the rule the matcher picks. */
	assert_ptr_equal(ex->rule, rule_set_match_kind(rs, kind, key, strlen(key)));
	assert_int_equal(ex->excluded, rule_set_excluded_kind(rs, kind, key, strlen(key)));
}

static const char *names(const struct rule *r, enum rule_list which)
{
	static char buf[256];
	const char *v[32];
	size_t n = rule_list_names(r, which, v, 32), off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "", v[i]);
	return buf;
}

static void test_explain_decisive_rule_and_the_ones_it_overrides(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_explanation ex;

	explain(rs, ENTRY_FILE, "/etc/ssh/sshd.conf", &ex);
	assert_false(ex.excluded);
	assert_non_null(ex.rule);
	assert_string_equal(rule_id(ex.rule), "conf");
	/* Every earlier rule that matches too, in file order. */
	assert_int_equal(ex.noverridden, 3);
	assert_string_equal(rule_id(ex.overridden[0]), "all");
	assert_string_equal(rule_id(ex.overridden[1]), "etc");
	assert_string_equal(rule_id(ex.overridden[2]), "ssh");
	assert_true(ex.in_roots);
	assert_null(ex.probe);
	rule_explanation_release(&ex);
	assert_null(ex.overridden);

	/* What the rule says, as written and expanded. */
	explain(rs, ENTRY_FILE, "/etc/ssh/moduli", &ex);
	const struct rule *r = ex.rule;
	assert_string_equal(rule_id(r), "ssh");
	assert_string_equal(rule_title(r), "SSH");
	assert_string_equal(rule_file(r), "t.yaml");
	assert_int_equal(rule_line(r), 8);
	assert_int_equal(rule_column(r), 5);
	assert_string_equal(rule_pattern(r), "/etc/ssh");
	assert_string_equal(names(r, RULE_LIST_CHECK), "type,mode,uid,gid,size,rdev,target,hash,"
						       "xattrs");
	assert_string_equal(names(r, RULE_LIST_IGNORE), "mtime");
	assert_string_equal(names(r, RULE_LIST_EXPECT), "size,hash");
	assert_int_equal(rule_severity(r), SEVERITY_CRITICAL);
	assert_int_equal(rule_when_added(r), SEVERITY_LOW);
	assert_true(rule_magic(r));
	assert_false(rule_exclude(r));
	assert_int_equal(ex.noverridden, 2);
	rule_explanation_release(&ex);

	/* grow is named last; a list too small gets the count all the same. */
	explain(rs, ENTRY_FILE, "/etc/ssh/ssh_config.conf", &ex);
	assert_string_equal(names(ex.rule, RULE_LIST_CHECK), "type,mode,uid,gid,rdev,grow");
	assert_int_equal(rule_list_names(ex.rule, RULE_LIST_CHECK, NULL, 0), 6);
	rule_explanation_release(&ex);

	/* The only match overrides nothing. */
	explain(rs, ENTRY_FILE, "/opt/x", &ex);
	assert_string_equal(rule_id(ex.rule), "all");
	assert_int_equal(ex.noverridden, 0);
	assert_false(ex.in_roots); /* only a root on the command line reaches it */
	rule_explanation_release(&ex);
}

static void test_explain_exclusions(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_explanation ex;

	/* By a rule, with the rule that would decide otherwise. */
	explain(rs, ENTRY_FILE, "/etc/tmp/x/y", &ex);
	assert_true(ex.excluded);
	assert_null(ex.rule);
	assert_int_equal(ex.noverridden, 0);
	assert_string_equal(rule_id(ex.excluded_by), "tmp");
	assert_true(rule_exclude(ex.excluded_by));
	assert_null(ex.excluded_pattern);
	assert_string_equal(rule_id(ex.unless_excluded), "etc");
	rule_explanation_release(&ex);

	/* By the scan section. */
	explain(rs, ENTRY_FILE, "/srv/cache", &ex);
	assert_true(ex.excluded);
	assert_null(ex.excluded_by);
	assert_string_equal(ex.excluded_pattern, "/srv/cache");
	assert_string_equal(rule_id(ex.unless_excluded), "all");
	rule_explanation_release(&ex);

	/* Of a kind, by the kind's own exclusions. */
	explain(rs, ENTRY_SYSCTL, "net.core.somaxconn", &ex);
	assert_true(ex.excluded);
	assert_string_equal(rule_id(ex.excluded_by), "rnd");
	assert_string_equal(rule_pattern(ex.excluded_by), "net.core.*");
	assert_string_equal(rule_id(ex.unless_excluded), "net");
	rule_explanation_release(&ex);
}

static void test_explain_uncovered(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_explanation ex;

	/* "/srv/www/" + "**" is below /srv/www, not /srv/www itself: the walk enters it. */
	static const char small[] = "scan:\n  probes: none\nrules:\n  - {path: \"/srv/www/**\"}\n";
	struct rule_set *only = NULL;
	struct diag d;

	assert_int_equal(
		rule_set_load_buffer("s.yaml", small, strlen(small), NULL, NULL, &only, &d), 0);
	explain(only, ENTRY_FILE, "/srv/www", &ex);
	assert_null(ex.rule);
	assert_false(ex.excluded);
	assert_true(ex.below);
	assert_true(ex.in_roots);
	rule_explanation_release(&ex);
	explain(only, ENTRY_FILE, "/srv/data", &ex);
	assert_null(ex.rule);
	assert_false(ex.below);
	rule_explanation_release(&ex);
	explain(only, ENTRY_FILE, "/srv/www/index.html", &ex);
	assert_non_null(ex.rule);
	rule_explanation_release(&ex);
	rule_set_free(only);

	/* A kind no rule covers, and one whose probe does not run. */
	explain(rs, ENTRY_GROUP, "adm", &ex);
	assert_null(ex.rule);
	assert_false(ex.excluded);
	assert_string_equal(ex.probe, "user");
	assert_true(ex.probe_runs);
	rule_explanation_release(&ex);
	explain(rs, ENTRY_MOUNT, "/boot/efi", &ex);
	assert_string_equal(rule_id(ex.rule), "boot");
	assert_string_equal(ex.probe, "mount");
	assert_false(ex.probe_runs);
	rule_explanation_release(&ex);
}

static void test_explain_kinds(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_explanation ex;

	explain(rs, ENTRY_USER, "root", &ex);
	assert_string_equal(rule_id(ex.rule), "root");
	assert_string_equal(rule_pattern(ex.rule), "=root"); /* as written, not "=/root" */
	assert_int_equal(ex.noverridden, 1);
	assert_string_equal(rule_id(ex.overridden[0]), "users");
	assert_string_equal(names(ex.rule, RULE_LIST_CHECK), "props");
	rule_explanation_release(&ex);

	explain(rs, ENTRY_USER, "rooty", &ex);
	assert_string_equal(rule_id(ex.rule), "users");
	assert_int_equal(ex.noverridden, 0);
	rule_explanation_release(&ex);

	explain(rs, ENTRY_SYSCTL, "net.ipv4.ip_forward", &ex);
	assert_string_equal(rule_id(ex.rule), "net");
	rule_explanation_release(&ex);
	explain(rs, ENTRY_SYSCTL, "kernel.pid_max", &ex);
	assert_null(ex.rule);
	rule_explanation_release(&ex);

	/* A kind that does not exist. */
	ex.rule = (const struct rule *)0x1;
	assert_int_equal(rule_set_explain(rs, (enum entry_kind)42, "x", 1, &ex), -EINVAL);
	assert_ptr_equal(ex.rule, (const struct rule *)0x1);
}

/* The answer agrees with the matcher, path after path. */
static void test_explain_agrees_with_the_matcher(void **state)
{
	static const char *const paths[] = {
		"/",
		"/etc",
		"/etc/ssh",
		"/etc/ssh/a.conf",
		"/etc/ssh/a.conf/b",
		"/etc/sshx",
		"/etc/tmp",
		"/etc/tmpx",
		"/srv",
		"/srv/cache/a",
		"/srv/www",
		"/srv/www/a/b/c",
		"/srv/cachex",
		"/usr/bin/ls",
		"/etc/ssh/.conf",
		"/etc/ssh/x.confx",
	};
	const struct rule_set *rs = *state;
	struct rule_explanation ex;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		explain(rs, ENTRY_FILE, paths[i], &ex);
		assert_true(ex.rule || ex.excluded || ex.noverridden == 0);
		rule_explanation_release(&ex);
	}
}

/* Rules of an extended policy keep their file and line. */
static void test_explain_names_the_file_of_each_rule(void **state)
{
	(void)state;
	char dir[] = "/tmp/drift-explain-XXXXXX", path[64];
	struct rule_explanation ex;
	struct rule_set *rs;
	struct diag d;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("extends: builtin\nrules:\n  - {id: motd, path: /etc/motd, severity: low}\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rule_set_load_file(path, NULL, NULL, &rs, &d), 0);

	explain(rs, ENTRY_FILE, "/etc/motd", &ex);
	assert_string_equal(rule_id(ex.rule), "motd");
	assert_string_equal(rule_file(ex.rule), path);
	assert_int_equal(rule_line(ex.rule), 3);
	assert_int_equal(ex.noverridden, 2);
	assert_string_equal(rule_id(ex.overridden[0]), "default");
	assert_string_equal(rule_file(ex.overridden[0]), "(built-in)");
	assert_string_equal(rule_id(ex.overridden[1]), "etc");
	rule_explanation_release(&ex);
	rule_set_free(rs);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_decisive_rule_and_the_ones_it_overrides),
		cmocka_unit_test(test_explain_exclusions),
		cmocka_unit_test(test_explain_uncovered),
		cmocka_unit_test(test_explain_kinds),
		cmocka_unit_test(test_explain_agrees_with_the_matcher),
		cmocka_unit_test(test_explain_names_the_file_of_each_rule),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
