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
#include "rules/internal.h"

#define MAXP 16

struct problems {
	char text[MAXP][320];
	size_t n;
};

static void collect(const struct diag *d, void *userdata)
{
	struct problems *p = userdata;

	assert_non_null(d->file);
	assert_string_equal(d->file, "t.yaml");
	if (p->n < MAXP)
		snprintf(p->text[p->n], sizeof(p->text[0]), "%u:%u: %s", d->line, d->col, d->msg);
	p->n++;
}

static int load(const char *yaml, struct problems *p, struct rule_set **ret)
{
	struct diag d;

	memset(p, 0, sizeof(*p));
	return rule_set_load_buffer("t.yaml", yaml, strlen(yaml), collect, p, ret, &d);
}

/* Load @yaml, which must have exactly one problem, and return its text. */
static const char *one_problem(const char *yaml)
{
	static struct problems p;
	struct rule_set *rs = (struct rule_set *)0x1;

	assert_int_equal(load(yaml, &p, &rs), -EBADMSG);
	assert_ptr_equal(rs, (struct rule_set *)0x1);
	if (p.n != 1)
		for (size_t i = 0; i < p.n && i < MAXP; i++)
			print_message("problem: %s\n", p.text[i]);
	assert_int_equal(p.n, 1);
	return p.text[0];
}

static struct rule_set *load_ok(const char *yaml)
{
	struct problems p;
	struct rule_set *rs = NULL;
	int r = load(yaml, &p, &rs);

	for (size_t i = 0; i < p.n && i < MAXP; i++)
		print_message("unexpected problem: %s\n", p.text[i]);
	assert_int_equal(r, 0);
	assert_non_null(rs);
	return rs;
}

static void test_load_buffer_reports_yaml_syntax_error_with_position(void **state)
{
	(void)state;
	assert_string_equal(
		one_problem("rules:\n  - path: /etc\n   check: [mode\n"),
		"3:4: invalid YAML: did not find expected '-' indicator (while parsing a "
		"block collection at line 2)");
	assert_string_equal(one_problem("rules: [/etc\n"),
			    "2:1: invalid YAML: did not find expected ',' or ']' "
			    "(while parsing a flow sequence at line 1)");
}

static void test_load_buffer_reports_unknown_keys_with_allowed_ones(void **state)
{
	(void)state;
	assert_string_equal(one_problem("versoin: 1\n"),
			    "1:1: unknown key 'versoin' in the policy (did you mean 'version'?) "
			    "(allowed: version, scan, groups, rules)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    sevrity: high\n"),
			    "3:5: unknown key 'sevrity' in a rule (did you mean 'severity'?) "
			    "(allowed: id, title, path, check, ignore, expect, severity, "
			    "when_added, magic, exclude)");
	assert_string_equal(one_problem("scan:\n  root: [/etc]\n"),
			    "2:3: unknown key 'root' in 'scan' (did you mean 'roots'?) "
			    "(allowed: roots, exclude, cross_mounts, threads, hash)");
	assert_string_equal(one_problem("scan:\n  zzz: 1\n"),
			    "2:3: unknown key 'zzz' in 'scan' "
			    "(allowed: roots, exclude, cross_mounts, threads, hash)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    path: /usr\n"),
			    "3:5: duplicate key 'path' in a rule (first at line 2)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    [a]: 1\n"),
			    "3:5: keys in a rule must be strings");
}

static void test_load_buffer_reports_wrong_types(void **state)
{
	(void)state;
	assert_string_equal(one_problem("- a\n- b\n"),
			    "1:1: a policy must be a mapping (with 'version', 'scan', 'groups', "
			    "'rules')");
	assert_string_equal(one_problem("scan: [a]\n"), "1:7: 'scan' must be a mapping");
	assert_string_equal(one_problem("rules: {path: /etc}\n"),
			    "1:8: 'rules' must be a list of rules");
	assert_string_equal(one_problem("rules:\n  - /etc\n"),
			    "2:5: a rule must be a mapping (with 'path', 'check', ...)");
	assert_string_equal(one_problem("scan:\n  cross_mounts: maybe\n"),
			    "2:17: 'cross_mounts' must be true or false");
	assert_string_equal(one_problem("scan:\n  cross_mounts: \"true\"\n"),
			    "2:17: 'cross_mounts' must be true or false");
	assert_string_equal(one_problem("scan:\n  threads: -1\n"),
			    "2:12: 'threads' must be a number from 0 to 1024 (0: one per CPU)");
	assert_string_equal(one_problem("scan:\n  threads: 5000\n"),
			    "2:12: 'threads' must be a number from 0 to 1024 (0: one per CPU)");
	assert_string_equal(one_problem("scan:\n  roots: {a: b}\n"),
			    "2:10: 'roots' must be a list of absolute paths");
	assert_string_equal(one_problem("scan:\n  roots: [/etc, [x]]\n"),
			    "2:17: 'roots' must be a list of absolute paths");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    check: {a: b}\n"),
			    "3:12: 'check' must be a list of attribute and group names");
	assert_string_equal(one_problem("rules:\n  - path: [/etc]\n"),
			    "2:11: 'path' must be a string");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    magic: 1\n"),
			    "3:12: 'magic' must be true or false");
	assert_string_equal(one_problem("groups: [a]\n"),
			    "1:9: 'groups' must be a mapping of group names to attribute lists");
	assert_string_equal(one_problem("rules:\n  - path: \"/etc\\0x\"\n"),
			    "2:11: 'path' must not contain a NUL byte");
}

static void test_load_buffer_reports_bad_patterns(void **state)
{
	(void)state;
	assert_string_equal(one_problem("rules:\n  - path: /a/[bc\n"),
			    "2:11: bad pattern '/a/[bc': unterminated '['");
	assert_string_equal(one_problem("rules:\n  - path: \"=etc\"\n"),
			    "2:11: bad pattern '=etc': '=' must be followed by an absolute path");
	assert_string_equal(one_problem("rules:\n  - path: \"=/etc/*\"\n"),
			    "2:11: bad pattern '=/etc/*': '=' takes a literal path, not a glob");
	assert_string_equal(one_problem("rules:\n  - path: etc/*.conf\n"),
			    "2:11: bad pattern 'etc/*.conf': a pattern starts with '/' or '=/', "
			    "or is a name glob without '/'");
	assert_string_equal(one_problem("rules:\n  - path: \"\"\n"),
			    "2:11: bad pattern '': empty pattern");
	assert_string_equal(one_problem("scan:\n  exclude: [/ok, \"/x[\"]\n"),
			    "2:18: bad pattern '/x[': unterminated '['");
}

static void test_load_buffer_reports_unknown_attributes_and_groups(void **state)
{
	(void)state;
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    check: [mode, mtim]\n"),
			    "3:19: unknown attribute or group 'mtim' (did you mean 'mtime'?)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    check: statik\n"),
			    "3:12: unknown attribute or group 'statik' (did you mean 'static'?)");
	assert_string_equal(
		one_problem(
			"groups:\n  mine: [mode]\nrules:\n  - path: /etc\n    ignore: [mines]\n"),
		"5:14: unknown attribute or group 'mines' (did you mean 'mine'?)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    expect: [zzzzzz]\n"),
			    "3:14: unknown attribute or group 'zzzzzz'");
}

static void test_load_buffer_reports_duplicate_rule_ids(void **state)
{
	(void)state;
	assert_string_equal(
		one_problem("rules:\n  - id: a\n    path: /etc\n  - id: a\n    path: /usr\n"),
		"4:9: duplicate rule id 'a' (first at line 2)");
	assert_string_equal(one_problem("rules:\n  - id: rule-2\n    path: /etc\n  - path: /usr\n"),
			    "4:5: duplicate rule id 'rule-2' (the default id of this rule is taken "
			    "at line 2: give it an id)");
	assert_string_equal(one_problem("rules:\n  - id: a b\n    path: /etc\n"),
			    "2:9: bad rule id 'a b': use letters, digits, '.', '_' and '-'");
}

static void test_load_buffer_reports_bad_severity(void **state)
{
	(void)state;
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    severity: hihg\n"),
			    "3:15: bad severity 'hihg' (did you mean 'high'?) "
			    "(allowed: critical, high, medium, low, info)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    when_added: urgent\n"),
			    "3:17: bad severity 'urgent' (allowed: critical, high, medium, low, "
			    "info)");
}

static void test_load_buffer_reports_group_cycles_and_bad_groups(void **state)
{
	(void)state;
	assert_string_equal(one_problem("groups:\n  a: [mode, a]\n"),
			    "2:13: group 'a' refers to itself (a -> a)");
	assert_string_equal(one_problem("groups:\n  a: [b]\n  b: [mode, c]\n  c: a\n"),
			    "4:6: group 'a' refers to itself (a -> b -> c -> a)");
	assert_string_equal(one_problem("groups:\n  static: [mode]\n"),
			    "2:3: group 'static' is built in and cannot be redefined (choose "
			    "another name)");
	assert_string_equal(one_problem("groups:\n  mode: [uid]\n"),
			    "2:3: group 'mode' has the name of an attribute");
	assert_string_equal(one_problem("groups:\n  \"a b\": [uid]\n"),
			    "2:3: bad group name 'a b': use letters, digits, '_' and '-'");
	assert_string_equal(one_problem("groups:\n  a: [uid]\n  a: [gid]\n"),
			    "3:3: duplicate group 'a' (first at line 2)");
}

static void test_load_buffer_reports_missing_path(void **state)
{
	(void)state;
	assert_string_equal(one_problem("rules:\n  - id: x\n    check: perms\n"),
			    "2:5: rule 'x' has no 'path'");
	assert_string_equal(one_problem("rules:\n  - {check: perms}\n"),
			    "2:5: rule 'rule-1' has no 'path'");
}

static void test_load_buffer_reports_bad_scan_section(void **state)
{
	(void)state;
	assert_string_equal(one_problem("scan:\n  roots: [/etc, usr]\n"),
			    "2:17: scan root 'usr' is not an absolute path");
	assert_string_equal(one_problem("scan:\n  roots: []\n"), "2:10: 'roots' must not be empty");
	assert_string_equal(one_problem("scan:\n  hash: md5\n"),
			    "2:9: unknown hash 'md5' (allowed: xxh3-128, sha256, none)");
	assert_string_equal(one_problem("version: 2\n"),
			    "1:10: unsupported policy version '2' (only 1 is known)");
}

static void test_load_buffer_reports_exclude_rule_with_checks(void **state)
{
	(void)state;
	assert_string_equal(
		one_problem("rules:\n  - path: /tmp\n    exclude: true\n    check: perms\n"),
		"4:5: 'check' has no effect in a rule with 'exclude: true'");
}

static void test_load_buffer_refuses_second_document(void **state)
{
	(void)state;
	assert_string_equal(one_problem("version: 1\n---\nversion: 1\n"),
			    "2:1: a policy is one YAML document, found another");
}

static void test_load_buffer_reports_every_problem_in_file_order(void **state)
{
	(void)state;
	struct problems p;
	struct rule_set *rs = (struct rule_set *)0x1;
	struct diag d;
	const char *yaml = "rules:\n"
			   "  - path: /a/[b\n"
			   "    severity: bad\n"
			   "  - id: x\n"
			   "groups:\n"
			   "  g: [nope]\n";

	memset(&p, 0, sizeof(p));
	assert_int_equal(rule_set_load_buffer("t.yaml", yaml, strlen(yaml), collect, &p, &rs, &d),
			 -EBADMSG);
	assert_ptr_equal(rs, (struct rule_set *)0x1);
	assert_int_equal(p.n, 4);
	assert_true(!strncmp(p.text[0], "2:11: bad pattern", 17));
	assert_true(!strncmp(p.text[1], "3:15: bad severity", 18));
	assert_true(!strncmp(p.text[2], "4:5: rule 'x' has no 'path'", 27));
	assert_string_equal(p.text[3], "6:7: unknown attribute or group 'nope'");
	assert_string_equal(d.msg, "4 problems in policy 't.yaml'");

	/* Without a callback the count still comes back. */
	assert_int_equal(rule_set_load_buffer("t.yaml", yaml, strlen(yaml), NULL, NULL, &rs, NULL),
			 -EBADMSG);
	assert_ptr_equal(rs, (struct rule_set *)0x1);
}

static void test_load_buffer_fills_defaults(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("rules:\n"
				      "  - path: /etc\n"
				      "  - id: logs\n"
				      "    title: Logs\n"
				      "    path: /var/log\n"
				      "    check: log\n"
				      "    severity: low\n"
				      "    when_added: high\n"
				      "    magic: true\n");
	const struct rule_scan *scan = rule_set_scan(rs);
	const struct rule *r1 = rule_set_match(rs, "/etc/x", 6);
	const struct rule *r2 = rule_set_match(rs, "/var/log/syslog", 15);

	assert_int_equal(scan->nroots, 1);
	assert_string_equal(scan->roots[0], "/");
	assert_int_equal(scan->nexcludes, 0);
	assert_false(scan->cross_mounts);
	assert_int_equal(scan->threads, 0);
	assert_int_equal(scan->hash, HASH_XXH3_128);

	assert_non_null(r1);
	assert_string_equal(rule_id(r1), "rule-1");
	assert_null(rule_title(r1));
	assert_string_equal(rule_file(r1), "t.yaml");
	assert_int_equal(rule_line(r1), 2);
	assert_int_equal(rule_severity(r1), RULE_MEDIUM);
	assert_false(rule_magic(r1));
	assert_int_equal(rule_attrs(r1), ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE |
						 ATTR_MTIME | ATTR_HASH | ATTR_TARGET | ATTR_ERROR);

	assert_non_null(r2);
	assert_string_equal(rule_id(r2), "logs");
	assert_string_equal(rule_title(r2), "Logs");
	assert_int_equal(rule_line(r2), 3);
	assert_int_equal(rule_severity(r2), RULE_LOW);
	assert_true(rule_magic(r2));
	/* grow needs the size and the inode; error is always checked. */
	assert_int_equal(rule_attrs(r2), ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE |
						 ATTR_INODE | ATTR_ERROR);
	assert_string_equal(rule_set_source(rs), "t.yaml");
	rule_set_free(rs);
}

static void test_load_buffer_reads_scan_section_and_groups(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("version: 1\n"
				      "scan:\n"
				      "  roots: [/etc/, /usr]\n"
				      "  exclude: [/var/cache, \"*.swp\"]\n"
				      "  cross_mounts: true\n"
				      "  threads: 4\n"
				      "  hash: none\n"
				      "groups:\n"
				      "  own: [uid, gid]\n"
				      "  mine: [own, mode, xattrs]\n"
				      "rules:\n"
				      "  - path: /etc\n"
				      "    check: [mine, all]\n"
				      "    ignore: [mtime, error]\n");
	const struct rule_scan *scan = rule_set_scan(rs);
	const struct rule *r = rule_set_match(rs, "/etc", 4);

	assert_int_equal(scan->nroots, 2);
	assert_string_equal(scan->roots[0], "/etc");
	assert_string_equal(scan->roots[1], "/usr");
	assert_int_equal(scan->nexcludes, 2);
	assert_string_equal(scan->excludes[1], "*.swp");
	assert_true(scan->cross_mounts);
	assert_int_equal(scan->threads, 4);
	assert_int_equal(scan->hash, HASH_NONE);
	assert_non_null(r);
	/* all + xattrs, minus mtime; error stays. */
	assert_int_equal(rule_attrs(r), ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE |
						ATTR_INODE | ATTR_DEVICE | ATTR_NLINK |
						ATTR_TARGET | ATTR_HASH | ATTR_ERROR | ATTR_XATTRS);
	rule_set_free(rs);
}

static void test_load_buffer_accepts_empty_policy(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("");

	assert_null(rule_set_match(rs, "/etc", 4));
	assert_false(rule_set_may_match_below(rs, "/", 1));
	rule_set_free(rs);
}

static void test_set_digest_is_sha256_of_text(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("version: 1\n");

	assert_string_equal(rule_set_digest(rs),
			    "09bfcc6a14b83e2192b8673677725c84883ee9cd0c70e45c9ec09daa8f2b2847");
	rule_set_free(rs);
}

static void test_load_file_reads_and_fails_cleanly(void **state)
{
	(void)state;
	char dir[] = "/tmp/drift-rules-XXXXXX", path[64];
	struct rule_set *rs = (struct rule_set *)0x1;
	struct diag d;
	FILE *f;

	assert_int_equal(rule_set_load_file("/nonexistent/policy.yaml", NULL, NULL, &rs, &d),
			 -ENOENT);
	assert_ptr_equal(rs, (struct rule_set *)0x1);
	assert_string_equal(d.msg, "cannot open policy '/nonexistent/policy.yaml': No such file "
				   "or directory");

	assert_non_null(mkdtemp(dir));
	assert_int_equal(rule_set_load_file(dir, NULL, NULL, &rs, &d), -EISDIR);
	assert_ptr_equal(rs, (struct rule_set *)0x1);

	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("rules:\n  - path: /etc\n", f);
	fclose(f);
	assert_int_equal(rule_set_load_file(path, NULL, NULL, &rs, &d), 0);
	assert_string_equal(rule_set_source(rs), path);
	assert_string_equal(rule_file(rule_set_match(rs, "/etc", 4)), path);
	rule_set_free(rs);
	unlink(path);
	rmdir(dir);
	rule_set_free(NULL);
}

static void test_load_default_is_the_shipped_file(void **state)
{
	(void)state;
	struct rule_set *rs = NULL, *fromfile = NULL;
	struct diag d;
	const struct rule *r;

	assert_int_equal(rule_set_load_default(&rs, &d), 0);
	assert_string_equal(rule_set_source(rs), "(built-in)");
	assert_int_equal(
		rule_set_load_file(DRIFT_POLICY_DIR "/default.yaml", NULL, NULL, &fromfile, &d), 0);
	assert_string_equal(rule_set_digest(rs), rule_set_digest(fromfile));

	/* The catch-all covers any root; the specific rules win over it. */
	r = rule_set_match(rs, "/home/ann/x", 11);
	assert_non_null(r);
	assert_string_equal(rule_id(r), "default");
	r = rule_set_match(rs, "/usr/bin/ls", 11);
	assert_string_equal(rule_id(r), "usr-bin");
	assert_int_equal(rule_severity(r), RULE_CRITICAL);
	assert_true(rule_magic(r));
	r = rule_set_match(rs, "/etc/resolv.conf", 16);
	assert_string_equal(rule_id(r), "etc-resolv");
	r = rule_set_match(rs, "/etc/hostname", 13);
	assert_string_equal(rule_id(r), "etc");
	assert_int_equal(rule_severity(r), RULE_HIGH);
	r = rule_set_match(rs, "/var/log/syslog", 15);
	assert_string_equal(rule_id(r), "logs");
	assert_null(rule_set_match(rs, "/var/cache/apt/x", 16));
	assert_true(rule_set_excluded(rs, "/proc/1", 7));
	assert_false(rule_set_excluded(rs, "/procx", 6));
	rule_set_free(rs);
	rule_set_free(fromfile);
}

static void test_load_file_accepts_shipped_examples(void **state)
{
	(void)state;
	static const char *const files[] = { "webserver.yaml", "etc-only.yaml", "container.yaml" };
	char path[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct rule_set *rs = NULL;
		struct diag d;

		snprintf(path, sizeof(path), "%s/%s", DRIFT_POLICY_DIR, files[i]);
		if (rule_set_load_file(path, NULL, NULL, &rs, &d) != 0)
			fail_msg("%s: %s", path, d.msg);
		rule_set_free(rs);
	}
}

static char *show(const struct rule_set *rs, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(rule_set_show(rs, f), 0);
	fclose(f);
	*ret_len = len;
	return buf;
}

/* show -> load -> show gives the same bytes, and the same answers. */
static void check_show_round_trip(struct rule_set *rs)
{
	static const char *const paths[] = {
		"/",          "/etc",         "/etc/passwd",   "/etc/resolv.conf", "/usr/bin/ls",
		"/var/log/x", "/var/cache/a", "/home/a/b.swp", "/srv/www/x.php",   "/etc/lvm/a/b"
	};
	struct rule_set *again = NULL;
	struct diag d;
	size_t len1, len2;
	char *text1 = show(rs, &len1), *text2;

	if (rule_set_load_buffer("shown", text1, len1, NULL, NULL, &again, &d) != 0)
		fail_msg("shown policy does not load: %s\n%s", d.msg, text1);
	text2 = show(again, &len2);
	assert_string_equal(text1, text2);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct rule *a = rule_set_match(rs, paths[i], strlen(paths[i]));
		const struct rule *b = rule_set_match(again, paths[i], strlen(paths[i]));
		assert_int_equal(!a, !b);
		if (!a)
			continue;
		assert_string_equal(rule_id(a), rule_id(b));
		assert_int_equal(rule_attrs(a), rule_attrs(b));
		assert_int_equal(rule_severity(a), rule_severity(b));
	}
	free(text1);
	free(text2);
	rule_set_free(again);
}

static void test_set_show_output_reloads_and_is_stable(void **state)
{
	(void)state;
	struct rule_set *rs = NULL;
	struct diag d;
	char path[512];

	assert_int_equal(rule_set_load_default(&rs, &d), 0);
	check_show_round_trip(rs);
	rule_set_free(rs);

	snprintf(path, sizeof(path), "%s/webserver.yaml", DRIFT_POLICY_DIR);
	assert_int_equal(rule_set_load_file(path, NULL, NULL, &rs, &d), 0);
	check_show_round_trip(rs);
	rule_set_free(rs);

	rs = load_ok("groups:\n  g: [mode, grow]\nrules:\n"
		     "  - title: \"quote \\\" back\\\\slash \\t tab: colon # hash\"\n"
		     "    path: \"/odd path/with: colon\"\n"
		     "    check: g\n    expect: [grow]\n"
		     "  - path: \"*.swp\"\n    exclude: true\n"
		     "  - path: \"=/etc\"\n    check: dir\n");
	check_show_round_trip(rs);
	rule_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_buffer_reports_yaml_syntax_error_with_position),
		cmocka_unit_test(test_load_buffer_reports_unknown_keys_with_allowed_ones),
		cmocka_unit_test(test_load_buffer_reports_wrong_types),
		cmocka_unit_test(test_load_buffer_reports_bad_patterns),
		cmocka_unit_test(test_load_buffer_reports_unknown_attributes_and_groups),
		cmocka_unit_test(test_load_buffer_reports_duplicate_rule_ids),
		cmocka_unit_test(test_load_buffer_reports_bad_severity),
		cmocka_unit_test(test_load_buffer_reports_group_cycles_and_bad_groups),
		cmocka_unit_test(test_load_buffer_reports_missing_path),
		cmocka_unit_test(test_load_buffer_reports_bad_scan_section),
		cmocka_unit_test(test_load_buffer_reports_exclude_rule_with_checks),
		cmocka_unit_test(test_load_buffer_refuses_second_document),
		cmocka_unit_test(test_load_buffer_reports_every_problem_in_file_order),
		cmocka_unit_test(test_load_buffer_fills_defaults),
		cmocka_unit_test(test_load_buffer_reads_scan_section_and_groups),
		cmocka_unit_test(test_load_buffer_accepts_empty_policy),
		cmocka_unit_test(test_set_digest_is_sha256_of_text),
		cmocka_unit_test(test_load_file_reads_and_fails_cleanly),
		cmocka_unit_test(test_load_default_is_the_shipped_file),
		cmocka_unit_test(test_load_file_accepts_shipped_examples),
		cmocka_unit_test(test_set_show_output_reloads_and_is_stable),
	};
	return cmocka_run_group_tests_name("rules/load", tests, NULL, NULL);
}
