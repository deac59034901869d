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
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "rules/internal.h"
#include "scanner/probe.h"

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
			    "(allowed: version, extends, include, scan, groups, rules, packages)");
	assert_string_equal(
		one_problem("rules:\n  - path: /etc\n    sevrity: high\n"),
		"3:5: unknown key 'sevrity' in a rule (did you mean 'severity'?) "
		"(allowed: id, title, kind, path, key, check, ignore, expect, "
		"severity, when_added, magic, keep_content, secret, exclude, remediate)");
	assert_string_equal(
		one_problem("scan:\n  root: [/etc]\n"),
		"2:3: unknown key 'root' in 'scan' (did you mean 'roots'?) "
		"(allowed: roots, exclude, cross_mounts, threads, hash, probes, max_path)");
	assert_string_equal(
		one_problem("scan:\n  zzz: 1\n"),
		"2:3: unknown key 'zzz' in 'scan' "
		"(allowed: roots, exclude, cross_mounts, threads, hash, probes, max_path)");
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
			    "'rules', 'packages')");
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
			    "2:11: bad pattern 'etc/*.conf': a pattern starts with '/', '=/' or "
			    "'**/', or is a name glob without '/'");
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

/* A policy built in a strbuf, and its problems counted: for policies too big for one_problem(). */
struct many {
	size_t n;
	char first[4][320];
	char last[320];
};

static void collect_many(const struct diag *d, void *userdata)
{
	struct many *m = userdata;

	if (m->n < 4)
		snprintf(m->first[m->n], sizeof(m->first[0]), "%u:%u: %s", d->line, d->col, d->msg);
	snprintf(m->last, sizeof(m->last), "%u:%u: %s", d->line, d->col, d->msg);
	m->n++;
}

static int load_many(const struct strbuf *sb, struct many *m)
{
	struct rule_set *rs = (struct rule_set *)0x1;
	struct diag d;
	int r;

	memset(m, 0, sizeof(*m));
	r = rule_set_load_buffer("t.yaml", sb->buf, sb->len, collect_many, m, &rs, &d);
	if (r == 0)
		rule_set_free(rs);
	else
		assert_ptr_equal(rs, (struct rule_set *)0x1);
	return r;
}

/*
 * Duplicate ids in a big policy: each named once, with the line of the
 * first rule that has the id (the check used to compare every pair).
 */
static void test_load_buffer_reports_every_duplicate_id_of_a_big_policy(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	struct many m;

	/* Line 1 "rules:", then rule i on line i + 2: ids r0..r2999, then r0..r2999 again. */
	assert_int_equal(strbuf_adds(&sb, "rules:\n"), 0);
	for (unsigned i = 0; i < 6000; i++)
		assert_int_equal(strbuf_addf(&sb, "  - {id: r%u, path: /srv/d%u}\n", i % 3000, i),
				 0);
	/* A third r7; and a given id that a defaulted one took first (rule-6002, line 6003). */
	assert_int_equal(strbuf_adds(&sb, "  - {id: r7, path: /srv/x}\n"
					  "  - {path: /srv/y}\n"
					  "  - {id: rule-6002, path: /srv/z}\n"),
			 0);
	assert_int_equal(load_many(&sb, &m), -EBADMSG);
	assert_int_equal(m.n, 3002);
	assert_string_equal(m.first[0], "3002:10: duplicate rule id 'r0' (first at line 2)");
	assert_string_equal(m.first[1], "3003:10: duplicate rule id 'r1' (first at line 3)");
	assert_string_equal(m.last, "6004:10: duplicate rule id 'rule-6002' (first at line 6003)");
	strbuf_release(&sb);

	/* The other way round: the given id first, the default later. */
	assert_int_equal(strbuf_adds(&sb, "rules:\n  - {id: rule-3, path: /a}\n"), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(strbuf_addf(&sb, "  - {path: /b%u}\n", i), 0);
	assert_int_equal(load_many(&sb, &m), -EBADMSG);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.first[0], "4:5: duplicate rule id 'rule-3' (the default id of this "
					"rule is taken at line 2: give it an id)");
	strbuf_release(&sb);
}

/*
 * A YAML alias (`*name`) is the anchored node itself, in another place:
 * a faulty node referred to 10,000 times is one problem, reported where
 * the node is, not 10,000.
 */
static void test_load_buffer_reports_an_aliased_problem_once(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	struct many m;

	assert_int_equal(strbuf_adds(&sb, "rules:\n  - &bad {path: /etc, check: [nosuch]}\n"), 0);
	for (unsigned i = 0; i < 10000; i++)
		assert_int_equal(strbuf_adds(&sb, "  - *bad\n"), 0);
	assert_int_equal(load_many(&sb, &m), -EBADMSG);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.first[0], "2:31: unknown attribute or group 'nosuch'");
	strbuf_release(&sb);

	/* In a flow sequence, as a 300 KB file of aliases has them. */
	assert_int_equal(strbuf_adds(&sb, "rules: [&bad {path: /etc, severity: extreme}"), 0);
	for (unsigned i = 0; i < 10000; i++)
		assert_int_equal(strbuf_adds(&sb, ", *bad"), 0);
	assert_int_equal(strbuf_adds(&sb, "]\n"), 0);
	assert_int_equal(load_many(&sb, &m), -EBADMSG);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.first[0], "1:37: bad severity 'extreme' (allowed: critical, high, "
					"medium, low, info)");
	strbuf_release(&sb);

	/* An aliased rule with an id is a duplicate: one problem too. */
	assert_string_equal(
		one_problem("rules:\n  - &r {id: x, path: /etc}\n  - *r\n  - *r\n  - *r\n"),
		"2:13: duplicate rule id 'x' (first at line 2)");
	/* An aliased attribute list in groups and rules. */
	assert_string_equal(one_problem("groups:\n  a: &l [uid, nosuch]\n  b: *l\n"
					"rules:\n  - {path: /etc, check: *l}\n  - {path: /usr, "
					"ignore: *l}\n"),
			    "2:15: unknown attribute or group 'nosuch'");
	/* Two different problems at one place are both reported. */
	{
		static struct problems p;
		struct rule_set *rs = NULL;

		assert_int_equal(load("rules:\n  - {path: /a, magic: &b maybe}\n"
				      "  - {path: /b, exclude: *b}\n",
				      &p, &rs),
				 -EBADMSG);
		assert_int_equal(p.n, 2);
		assert_string_equal(p.text[0], "2:23: 'magic' must be true or false");
		assert_string_equal(p.text[1], "2:23: 'exclude' must be true or false");
	}
}

/* Many groups: found by name, and a duplicate named with its first line. */
static void test_load_buffer_handles_many_groups(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	struct rule_set *rs = NULL;
	struct diag d;
	struct many m;

	assert_int_equal(strbuf_adds(&sb, "groups:\n"), 0);
	for (unsigned i = 0; i < 5000; i++)
		assert_int_equal(strbuf_addf(&sb, "  g%u: [%s]\n", i, i % 2 ? "uid" : "mode"), 0);
	assert_int_equal(strbuf_adds(&sb, "rules:\n  - {path: /etc, check: [g4999]}\n"
					  "  - {path: /usr, check: [g4998, g17]}\n"),
			 0);
	assert_int_equal(rule_set_load_buffer("t.yaml", sb.buf, sb.len, NULL, NULL, &rs, &d), 0);
	assert_int_equal(rule_attrs(rule_set_match(rs, "/etc", 4)), ATTR_UID | ATTR_ERROR);
	assert_int_equal(rule_attrs(rule_set_match(rs, "/usr", 4)),
			 ATTR_UID | ATTR_MODE | ATTR_ERROR);
	rule_set_free(rs);

	strbuf_reset(&sb);
	assert_int_equal(strbuf_adds(&sb, "groups:\n"), 0);
	for (unsigned i = 0; i < 5000; i++)
		assert_int_equal(strbuf_addf(&sb, "  g%u: [uid]\n", i % 4000), 0);
	assert_int_equal(load_many(&sb, &m), -EBADMSG);
	assert_int_equal(m.n, 1000);
	assert_string_equal(m.first[0], "4002:3: duplicate group 'g0' (first at line 2)");
	strbuf_release(&sb);
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

static void test_load_buffer_reports_kind_problems_with_position(void **state)
{
	(void)state;
	assert_string_equal(one_problem("rules:\n  - kind: usr\n    key: root\n"),
			    "2:11: unknown kind 'usr' (did you mean 'user'?) (allowed: file, "
			    "package, user, group, service, sysctl, module, port, mount)");
	assert_string_equal(one_problem("rules:\n  - kind: [user]\n    key: root\n"),
			    "2:11: 'kind' must be a string");
	assert_string_equal(one_problem("rules:\n  - kind: user\n    path: root\n    key: x\n"),
			    "4:5: a rule has 'path' or 'key' (the same thing), not both");
	assert_string_equal(one_problem("rules:\n  - key: x\n    kind: user\n    path: root\n"),
			    "4:5: a rule has 'path' or 'key' (the same thing), not both");
	assert_string_equal(one_problem("rules:\n  - {id: x, kind: sysctl}\n"),
			    "2:5: rule 'x' has no 'key' (or 'path')");
	assert_string_equal(one_problem("rules:\n  - kind: user\n    key: root\n"
					"    check: [props, mode]\n"),
			    "4:20: 'mode' is not an attribute of kind 'user' (only 'props' is)");
	assert_string_equal(one_problem("rules:\n  - kind: package\n    key: \"*\"\n"
					"    check: static\n"),
			    "4:12: group 'static' has attributes of files, not of kind 'package' "
			    "(only 'props' is)");
	assert_string_equal(one_problem("groups:\n  g: [props, uid]\nrules:\n"
					"  - kind: group\n    key: \"*\"\n    ignore: g\n"),
			    "6:13: group 'g' has attributes of files, not of kind 'group' "
			    "(only 'props' is)");
	assert_string_equal(one_problem("rules:\n  - kind: sysctl\n    key: \"*\"\n"
					"    expect: [grow]\n"),
			    "4:14: 'grow' is not an attribute of kind 'sysctl' (only 'props' is)");
	assert_string_equal(one_problem("rules:\n  - path: /etc\n    check: [static, props]\n"),
			    "3:21: 'props' is not an attribute of files (it is for the kinds of "
			    "system state: give the rule a 'kind')");
	assert_string_equal(one_problem("groups:\n  g: [props]\nrules:\n"
					"  - path: /etc\n    expect: g\n"),
			    "5:13: group 'g' has 'props', not an attribute of files (it is for "
			    "the kinds of system state: give the rule a 'kind')");
	assert_string_equal(one_problem("rules:\n  - kind: module\n    key: \"*\"\n"
					"    magic: true\n"),
			    "4:5: 'magic' applies to files, not to kind 'module'");
	assert_string_equal(one_problem("rules:\n  - kind: port\n    key: \"*\"\n"
					"    exclude: true\n    check: props\n"),
			    "5:5: 'check' has no effect in a rule with 'exclude: true'");
}

static void test_load_buffer_reports_bad_key_patterns(void **state)
{
	(void)state;
	assert_string_equal(one_problem("rules:\n  - kind: sysctl\n    key: /net.ipv4.*\n"),
			    "3:10: bad pattern '/net.ipv4.*': a key of kind 'sysctl' is a name, "
			    "not a path: write it without the leading '/'");
	assert_string_equal(one_problem("rules:\n  - kind: user\n    key: \"=/root\"\n"),
			    "3:10: bad pattern '=/root': a key of kind 'user' is a name, not a "
			    "path: write it without the leading '/'");
	assert_string_equal(one_problem("rules:\n  - kind: sysctl\n    key: \"net.[ab\"\n"),
			    "3:10: bad pattern 'net.[ab': unterminated '['");
	assert_string_equal(one_problem("rules:\n  - kind: package\n    key: \"\"\n"),
			    "3:10: bad pattern '': empty pattern");
	assert_string_equal(one_problem("rules:\n  - kind: package\n    key: \"=\"\n"),
			    "3:10: bad pattern '=': empty pattern");
	assert_string_equal(one_problem("rules:\n  - kind: service\n    key: \"=ssh*\"\n"),
			    "3:10: bad pattern '=ssh*': '=' takes a literal path, not a glob");
	/* Mount keys are paths: their patterns are path patterns. */
	assert_string_equal(one_problem("rules:\n  - kind: mount\n    path: run/user\n"),
			    "3:11: bad pattern 'run/user': a pattern starts with '/', '=/' or "
			    "'**/', or is a name glob without '/'");
}

static void test_load_buffer_reports_bad_probes(void **state)
{
	(void)state;
	assert_string_equal(one_problem("scan:\n  probes: [user, pakage]\n"),
			    "2:18: unknown probe 'pakage' (did you mean 'package'?) (allowed: "
			    "package, user, service, sysctl, module, port, mount, all, none)");
	assert_string_equal(one_problem("scan:\n  probes: zzz\n"),
			    "2:11: unknown probe 'zzz' (allowed: package, user, service, sysctl, "
			    "module, port, mount, all, none)");
	assert_string_equal(one_problem("scan:\n  probes: [user, port, user]\n"),
			    "2:24: duplicate probe 'user' in 'probes'");
	assert_string_equal(one_problem("scan:\n  probes: [all, user]\n"),
			    "2:12: 'all' stands alone in 'probes', not in a list of probes");
	assert_string_equal(one_problem("scan:\n  probes: [user, none]\n"),
			    "2:18: 'none' stands alone in 'probes', not in a list of probes");
	assert_string_equal(one_problem("scan:\n  probes: {user: true}\n"),
			    "2:11: 'probes' must be a list of probe names");
}

static void test_load_buffer_reports_bad_packages_section(void **state)
{
	(void)state;
	assert_string_equal(one_problem("packages: [a]\n"), "1:11: 'packages' must be a mapping");
	assert_string_equal(
		one_problem("packages:\n  atribution: true\n"),
		"2:3: unknown key 'atribution' in 'packages' (did you mean "
		"'attribution'?) (allowed: attribution, conffile_severity, "
		"unowned_severity, unowned, unowned_exclude, trigger_outputs, history)");
	assert_string_equal(one_problem("packages:\n  history: apt-get\n"),
			    "2:12: bad history 'apt-get' (allowed: apt, dpkg, none)");
	assert_string_equal(one_problem("packages:\n  attribution: yes\n"),
			    "2:16: 'attribution' must be true or false");
	assert_string_equal(one_problem("packages:\n  conffile_severity: hihg\n"),
			    "2:22: bad severity 'hihg' (did you mean 'high'?) (allowed: critical, "
			    "high, medium, low, info)");
	assert_string_equal(one_problem("packages:\n  unowned_severity: [low]\n"),
			    "2:21: 'unowned_severity' must be a string");
	assert_string_equal(one_problem("packages:\n  unowned: [/usr, \"/opt/[x\"]\n"),
			    "2:19: bad pattern '/opt/[x': unterminated '['");
	assert_string_equal(one_problem("packages:\n  unowned_exclude: [usr/local]\n"),
			    "2:21: bad pattern 'usr/local': a pattern starts with '/', '=/' or "
			    "'**/', or is a name glob without '/'");
	assert_string_equal(one_problem("packages:\n  unowned: {a: b}\n"),
			    "2:12: 'unowned' must be a list of patterns");
}

static void test_load_buffer_reads_kinds_and_defaults_their_checks(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("rules:\n"
				      "  - {id: f, path: /etc}\n"
				      "  - {id: u, kind: user, key: root, severity: high}\n"
				      "  - {id: s, kind: sysctl, path: \"net.*\", check: all}\n"
				      "  - {id: p, kind: package, key: \"*\", ignore: [props]}\n"
				      "  - {id: m, kind: mount, path: /boot, expect: props}\n"
				      "  - {id: x, kind: file, key: /usr}\n");
	const struct rule *r;

	r = rule_set_match_kind(rs, ENTRY_USER, "root", 4);
	assert_non_null(r);
	assert_string_equal(rule_id(r), "u");
	assert_int_equal(rule_kind(r), ENTRY_USER);
	assert_int_equal(rule_attrs(r), ATTR_PROPS | ATTR_ERROR);
	assert_int_equal(rule_severity(r), SEVERITY_HIGH);
	assert_false(rule_magic(r));
	r = rule_set_match_kind(rs, ENTRY_SYSCTL, "net.core.x", 10);
	assert_string_equal(rule_id(r), "s");
	assert_int_equal(rule_attrs(r), ATTR_PROPS | ATTR_ERROR); /* all means props */
	r = rule_set_match_kind(rs, ENTRY_PACKAGE, "bash:amd64", 10);
	assert_string_equal(rule_id(r), "p");
	assert_int_equal(rule_attrs(r), ATTR_ERROR);
	r = rule_set_match_kind(rs, ENTRY_MOUNT, "/boot/efi", 9);
	assert_string_equal(rule_id(r), "m");
	r = rule_set_match(rs, "/etc/x", 6);
	assert_string_equal(rule_id(r), "f");
	assert_int_equal(rule_kind(r), ENTRY_FILE);
	/* key: is path: for files too. */
	assert_string_equal(rule_id(rule_set_match(rs, "/usr/bin", 8)), "x");
	/* Only file rules check file attributes. */
	assert_int_equal(rule_set_attrs(rs) & ~(uint32_t)(ATTR_PROPS | ATTR_ERROR),
			 rule_attrs(rule_set_match(rs, "/etc", 4)) & ~(uint32_t)ATTR_ERROR);
	rule_set_free(rs);
}

static void test_load_buffer_reads_probes(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("");
	const struct rule_scan *scan = rule_set_scan(rs);

	/* Absent: every probe, in probe_list order. */
	assert_int_equal(scan->nprobes, probe_count);
	for (size_t i = 0; i < probe_count; i++)
		assert_string_equal(scan->probes[i], probe_list[i]->name);
	rule_set_free(rs);

	rs = load_ok("scan:\n  probes: [mount, user, package]\n");
	scan = rule_set_scan(rs);
	assert_int_equal(scan->nprobes, 3);
	assert_string_equal(scan->probes[0], "package");
	assert_string_equal(scan->probes[1], "user");
	assert_string_equal(scan->probes[2], "mount");
	rule_set_free(rs);

	rs = load_ok("scan:\n  probes: sysctl\n");
	scan = rule_set_scan(rs);
	assert_int_equal(scan->nprobes, 1);
	assert_string_equal(scan->probes[0], "sysctl");
	rule_set_free(rs);

	static const char *const none[] = { "scan:\n  probes: []\n", "scan:\n  probes: none\n",
					    "scan:\n  probes: [none]\n" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		rs = load_ok(none[i]);
		assert_int_equal(rule_set_scan(rs)->nprobes, 0);
		rule_set_free(rs);
	}
	rs = load_ok("scan:\n  probes: all\n");
	assert_int_equal(rule_set_scan(rs)->nprobes, probe_count);
	rule_set_free(rs);
	rs = load_ok("scan:\n  probes: [all]\n");
	assert_int_equal(rule_set_scan(rs)->nprobes, probe_count);
	rule_set_free(rs);
}

static void test_load_buffer_reads_packages_section(void **state)
{
	(void)state;
	struct rule_set *rs = load_ok("");
	const struct rule_packages *pk = rule_set_packages(rs);

	assert_true(pk->attribution);
	assert_int_equal(pk->conffile_severity, SEVERITY_LOW);
	assert_int_equal(pk->unowned_severity, SEVERITY_MEDIUM);
	rule_set_free(rs);

	/* A section with some keys keeps the defaults of the others. */
	rs = load_ok("packages:\n  conffile_severity: high\n");
	pk = rule_set_packages(rs);
	assert_true(pk->attribution);
	assert_int_equal(pk->conffile_severity, SEVERITY_HIGH);
	assert_int_equal(pk->unowned_severity, SEVERITY_MEDIUM);
	assert_true(rule_set_unowned_scope(rs, "/usr/bin/x", 10));
	rule_set_free(rs);

	rs = load_ok("packages:\n"
		     "  attribution: false\n"
		     "  conffile_severity: info\n"
		     "  unowned_severity: critical\n"
		     "  unowned: [/opt]\n"
		     "  unowned_exclude: []\n");
	pk = rule_set_packages(rs);
	assert_false(pk->attribution);
	assert_int_equal(pk->conffile_severity, SEVERITY_INFO);
	assert_int_equal(pk->unowned_severity, SEVERITY_CRITICAL);
	assert_true(rule_set_unowned_scope(rs, "/opt/x/__pycache__/y", 20));
	assert_false(rule_set_unowned_scope(rs, "/usr/bin/x", 10));
	rule_set_free(rs);
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
	assert_int_equal(rule_severity(r1), SEVERITY_MEDIUM);
	assert_false(rule_magic(r1));
	assert_int_equal(rule_attrs(r1), ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE |
						 ATTR_MTIME | ATTR_HASH | ATTR_TARGET | ATTR_RDEV |
						 ATTR_ERROR);

	assert_non_null(r2);
	assert_string_equal(rule_id(r2), "logs");
	assert_string_equal(rule_title(r2), "Logs");
	assert_int_equal(rule_line(r2), 3);
	assert_int_equal(rule_severity(r2), SEVERITY_LOW);
	assert_true(rule_magic(r2));
	/* grow needs the size and the inode; error is always checked. */
	assert_int_equal(rule_attrs(r2), ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_RDEV |
						 ATTR_SIZE | ATTR_INODE | ATTR_ERROR);
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
						ATTR_INODE | ATTR_DEVICE | ATTR_RDEV | ATTR_NLINK |
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

/* A FIFO (or a device) as the policy: refused at once, never waited on. */
static void test_load_file_refuses_fifo_without_blocking(void **state)
{
	(void)state;
	char dir[] = "/tmp/drift-rules-XXXXXX", path[64], want[160];
	struct rule_set *rs = (struct rule_set *)0x1;
	struct diag d;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* Before the fix, this open() waited for a writer that never comes. */
	assert_int_equal(rule_set_load_file(path, NULL, NULL, &rs, &d), -EINVAL);
	assert_ptr_equal(rs, (struct rule_set *)0x1);
	snprintf(want, sizeof(want), "cannot read policy '%s': not a regular file (a FIFO)", path);
	assert_string_equal(d.msg, want);

	assert_int_equal(rule_set_load_file("/dev/null", NULL, NULL, &rs, &d), -EINVAL);
	assert_string_equal(
		d.msg, "cannot read policy '/dev/null': not a regular file (a character device)");
	assert_ptr_equal(rs, (struct rule_set *)0x1);
	unlink(path);
	rmdir(dir);
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
	assert_int_equal(rule_severity(r), SEVERITY_CRITICAL);
	assert_true(rule_magic(r));
	r = rule_set_match(rs, "/etc/resolv.conf", 16);
	assert_string_equal(rule_id(r), "etc-resolv");
	r = rule_set_match(rs, "/etc/hostname", 13);
	assert_string_equal(rule_id(r), "etc");
	assert_int_equal(rule_severity(r), SEVERITY_HIGH);
	/* Logs are not among the roots: under one given on the command line, the catch-all. */
	r = rule_set_match(rs, "/var/log/syslog", 15);
	assert_string_equal(rule_id(r), "default");
	assert_null(rule_set_match(rs, "/var/cache/apt/x", 16));
	assert_true(rule_set_excluded(rs, "/proc/1", 7));
	assert_false(rule_set_excluded(rs, "/procx", 6));

	/* Every probe, and a rule for every kind of system state. */
	assert_int_equal(rule_set_scan(rs)->nprobes, probe_count);
	for (int k = ENTRY_PACKAGE; k <= ENTRY__KIND_MAX; k++) {
		static const char *const any[] = {
			[ENTRY_PACKAGE] = "vim:amd64",    [ENTRY_USER] = "ann",
			[ENTRY_GROUP] = "staff",          [ENTRY_SERVICE] = "cups.service",
			[ENTRY_SYSCTL] = "vm.swappiness", [ENTRY_MODULE] = "ext4",
			[ENTRY_PORT] = "tcp/0.0.0.0:631", [ENTRY_MOUNT] = "/home"
		};
		r = rule_set_match_kind(rs, (enum entry_kind)k, any[k], strlen(any[k]));
		if (!r)
			fail_msg("no rule of kind %s for '%s'", entry_kind_name((enum entry_kind)k),
				 any[k]);
		assert_int_equal(rule_kind(r), k);
		assert_int_equal(rule_attrs(r), ATTR_PROPS | ATTR_ERROR);
	}
	static const struct {
		enum entry_kind kind;
		const char *key, *id;
		enum severity sev;
	} expect[] = {
		{ ENTRY_PACKAGE, "bash:amd64", "packages", SEVERITY_MEDIUM },
		{ ENTRY_USER, "root", "users", SEVERITY_HIGH },
		{ ENTRY_GROUP, "sudo", "groups", SEVERITY_HIGH },
		{ ENTRY_SERVICE, "cron.service", "services", SEVERITY_MEDIUM },
		{ ENTRY_SERVICE, "apt-daily.timer", "timers", SEVERITY_HIGH },
		{ ENTRY_SERVICE, "ssh.service", "ssh-service", SEVERITY_HIGH },
		{ ENTRY_SYSCTL, "net.ipv4.ip_forward", "sysctl-forwarding", SEVERITY_HIGH },
		{ ENTRY_SYSCTL, "net.ipv6.conf.all.forwarding", "sysctl-forwarding",
		  SEVERITY_HIGH },
		{ ENTRY_SYSCTL, "kernel.kptr_restrict", "sysctl-kernel-hardening", SEVERITY_HIGH },
		{ ENTRY_SYSCTL, "fs.protected_symlinks", "sysctl-fs-protected", SEVERITY_HIGH },
		{ ENTRY_SYSCTL, "net.ipv4.conf.eth0/100.rp_filter", "sysctl", SEVERITY_MEDIUM },
		{ ENTRY_MODULE, "ext4", "modules", SEVERITY_MEDIUM },
		{ ENTRY_PORT, "udp6/[::]:53", "ports", SEVERITY_MEDIUM },
		{ ENTRY_MOUNT, "/", "mounts", SEVERITY_LOW },
		{ ENTRY_MOUNT, "/proc", "mounts", SEVERITY_LOW },
		{ ENTRY_MOUNT, "/boot/efi", "mount-boot", SEVERITY_MEDIUM },
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		const char *key = expect[i].key;
		r = rule_set_match_kind(rs, expect[i].kind, key, strlen(key));
		if (!r || strcmp(rule_id(r), expect[i].id))
			fail_msg("'%s': rule '%s', expected '%s'", key, r ? rule_id(r) : "-",
				 expect[i].id);
		assert_int_equal(rule_severity(r), expect[i].sev);
	}
	assert_int_equal(rule_set_match_kind(rs, ENTRY_PACKAGE, "vim:amd64", 9)->when_added,
			 SEVERITY_LOW);
	/* Volatile keys are left out. */
	static const struct {
		enum entry_kind kind;
		const char *key;
	} volatile_keys[] = {
		{ ENTRY_MOUNT, "/run/user/1000" },
		{ ENTRY_MOUNT, "/run/user/1000/doc" },
		{ ENTRY_MOUNT, "/proc/sys/fs/binfmt_misc" },
		{ ENTRY_MOUNT, "/sys/fs/cgroup" },
		{ ENTRY_MOUNT, "/run/credentials/systemd-sysctl.service" },
		{ ENTRY_MOUNT, "/run/docker/netns/abc" },
		{ ENTRY_MOUNT, "/snap/core22/1033" },
		{ ENTRY_MOUNT, "/var/lib/docker/overlay2/abc/merged" },
		{ ENTRY_SYSCTL, "kernel.random.boot_id" },
		{ ENTRY_SYSCTL, "fs.dentry-state" },
		{ ENTRY_SYSCTL, "fs.inode-nr" },
		{ ENTRY_SYSCTL, "net.ipv4.conf.veth1a2b3c.forwarding" },
		{ ENTRY_SYSCTL, "net.ipv6.neigh.br-0123abcd.retrans_time" },
	};
	for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++) {
		const char *key = volatile_keys[i].key;
		if (!rule_set_excluded_kind(rs, volatile_keys[i].kind, key, strlen(key)))
			fail_msg("'%s' is not excluded", key);
		assert_null(rule_set_match_kind(rs, volatile_keys[i].kind, key, strlen(key)));
	}

	/* The packages section: the defaults, spelled out. */
	assert_true(rule_set_packages(rs)->attribution);
	assert_int_equal(rule_set_packages(rs)->conffile_severity, SEVERITY_LOW);
	assert_int_equal(rule_set_packages(rs)->unowned_severity, SEVERITY_MEDIUM);
	assert_true(rule_set_unowned_scope(rs, "/usr/bin/x", 10));
	assert_false(rule_set_unowned_scope(rs, "/usr/local/bin/x", 16));
	rule_set_free(rs);
	rule_set_free(fromfile);
}

static void count_problem(const struct diag *d, void *userdata)
{
	print_message("# %s\n", d->msg);
	(*(unsigned *)userdata)++;
}

/*
 * The examples load without a problem, lint without a warning (as `drift
 * policy check` says "ok"), scan the roots they say, and cover the accounts.
 */
static void test_load_file_accepts_shipped_examples(void **state)
{
	(void)state;
	static const struct {
		const char *file, *roots, *covered;
	} examples[] = {
		{ "webserver.yaml", "/etc /usr /srv/www /var/log/nginx", "/etc/passwd" },
		{ "etc-only.yaml", "/etc", "/etc/passwd" },
		{ "container.yaml", "/mnt/image", "/mnt/image/etc/passwd" },
	};
	char path[512];

	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		struct rule_set *rs = NULL;
		const struct rule_scan *scan;
		struct strbuf roots = STRBUF_INIT;
		unsigned problems = 0, warnings = 0;
		struct diag d;

		snprintf(path, sizeof(path), "%s/%s", DRIFT_POLICY_DIR, examples[i].file);
		if (rule_set_load_file(path, count_problem, &problems, &rs, &d) != 0)
			fail_msg("%s: %s", path, d.msg);
		assert_int_equal(problems, 0);
		assert_int_equal(rule_set_lint(rs, count_problem, &warnings), 0);
		assert_int_equal(warnings, 0);
		scan = rule_set_scan(rs);
		for (size_t k = 0; k < scan->nroots; k++)
			assert_int_equal(strbuf_addf(&roots, "%s%s", k ? " " : "", scan->roots[k]),
					 0);
		assert_string_equal(roots.buf, examples[i].roots);
		assert_non_null(
			rule_set_match(rs, examples[i].covered, strlen(examples[i].covered)));
		strbuf_release(&roots);
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
	static const struct {
		enum entry_kind kind;
		const char *key;
	} keys[] = {
		{ ENTRY_FILE, "/" },
		{ ENTRY_FILE, "/etc" },
		{ ENTRY_FILE, "/etc/passwd" },
		{ ENTRY_FILE, "/etc/resolv.conf" },
		{ ENTRY_FILE, "/usr/bin/ls" },
		{ ENTRY_FILE, "/var/log/x" },
		{ ENTRY_FILE, "/var/cache/a" },
		{ ENTRY_FILE, "/home/a/b.swp" },
		{ ENTRY_FILE, "/srv/www/x.php" },
		{ ENTRY_FILE, "/etc/lvm/a/b" },
		{ ENTRY_PACKAGE, "bash:amd64" },
		{ ENTRY_PACKAGE, "libc6:i386" },
		{ ENTRY_USER, "root" },
		{ ENTRY_USER, "ann" },
		{ ENTRY_GROUP, "sudo" },
		{ ENTRY_SERVICE, "ssh.service" },
		{ ENTRY_SERVICE, "cron.service" },
		{ ENTRY_SYSCTL, "net.ipv4.ip_forward" },
		{ ENTRY_SYSCTL, "kernel.random.uuid" },
		{ ENTRY_MODULE, "ext4" },
		{ ENTRY_PORT, "tcp/0.0.0.0:22" },
		{ ENTRY_PORT, "udp6/[::]:53" },
		{ ENTRY_MOUNT, "/" },
		{ ENTRY_MOUNT, "/boot" },
		{ ENTRY_MOUNT, "/run/user/1000" },
		{ ENTRY_MOUNT, "/proc/sys/fs/binfmt_misc" },
	};
	static const char *const unowned[] = { "/usr/bin/x", "/usr/local/bin/x", "/etc/x",
					       "/usr/lib/__pycache__/a", "/opt/a" };
	struct rule_set *again = NULL;
	struct diag d;
	size_t len1, len2;
	char *text1 = show(rs, &len1), *text2;
	const struct rule_scan *s1, *s2;
	const struct rule_packages *p1, *p2;

	if (rule_set_load_buffer("shown", text1, len1, NULL, NULL, &again, &d) != 0)
		fail_msg("shown policy does not load: %s\n%s", d.msg, text1);
	text2 = show(again, &len2);
	assert_string_equal(text1, text2);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *k = keys[i].key;
		const struct rule *a = rule_set_match_kind(rs, keys[i].kind, k, strlen(k));
		const struct rule *b = rule_set_match_kind(again, keys[i].kind, k, strlen(k));
		assert_int_equal(!a, !b);
		assert_int_equal(rule_set_excluded_kind(rs, keys[i].kind, k, strlen(k)),
				 rule_set_excluded_kind(again, keys[i].kind, k, strlen(k)));
		if (!a)
			continue;
		assert_string_equal(rule_id(a), rule_id(b));
		assert_int_equal(rule_kind(a), rule_kind(b));
		assert_int_equal(rule_attrs(a), rule_attrs(b));
		assert_int_equal(rule_severity(a), rule_severity(b));
	}
	s1 = rule_set_scan(rs);
	s2 = rule_set_scan(again);
	assert_int_equal(s1->nprobes, s2->nprobes);
	for (size_t i = 0; i < s1->nprobes; i++)
		assert_string_equal(s1->probes[i], s2->probes[i]);
	p1 = rule_set_packages(rs);
	p2 = rule_set_packages(again);
	assert_int_equal(p1->attribution, p2->attribution);
	assert_int_equal(p1->conffile_severity, p2->conffile_severity);
	assert_int_equal(p1->unowned_severity, p2->unowned_severity);
	for (size_t i = 0; i < sizeof(unowned) / sizeof(unowned[0]); i++)
		assert_int_equal(rule_set_unowned_scope(rs, unowned[i], strlen(unowned[i])),
				 rule_set_unowned_scope(again, unowned[i], strlen(unowned[i])));
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

	/* Kinds, keys that need quoting or escaping, probes and packages. */
	rs = load_ok("scan:\n  probes: [port, user]\n"
		     "packages:\n  attribution: false\n  conffile_severity: info\n"
		     "  unowned_severity: high\n  unowned: [/opt, \"*.so\"]\n"
		     "  unowned_exclude: []\n"
		     "rules:\n"
		     "  - {id: pk, kind: package, key: \"lib*:i386\", when_added: low}\n"
		     "  - {id: root, kind: user, key: \"=root\", severity: critical}\n"
		     "  - {id: fwd, kind: sysctl, path: \"net.ipv4.*\", expect: [props]}\n"
		     "  - {id: rnd, kind: sysctl, key: kernel.random, exclude: true}\n"
		     "  - {id: dns, kind: port, key: 'udp6/\\[::]:53', ignore: all}\n"
		     "  - {id: tcp, kind: port, key: \"tcp/\", severity: high}\n"
		     "  - {id: boot, kind: mount, path: /boot/, severity: low}\n"
		     "  - {id: vol, kind: mount, key: \"/run/user/**\", exclude: true}\n"
		     "  - {id: etc, path: /etc, title: \"k: v\"}\n");
	check_show_round_trip(rs);
	assert_string_equal(rule_id(rule_set_match_kind(rs, ENTRY_PORT, "udp6/[::]:53", 12)),
			    "dns");
	rule_set_free(rs);

	rs = load_ok("scan:\n  probes: none\npackages:\n  unowned: []\n");
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
		cmocka_unit_test(test_load_buffer_reports_every_duplicate_id_of_a_big_policy),
		cmocka_unit_test(test_load_buffer_reports_an_aliased_problem_once),
		cmocka_unit_test(test_load_buffer_handles_many_groups),
		cmocka_unit_test(test_load_buffer_reports_bad_severity),
		cmocka_unit_test(test_load_buffer_reports_group_cycles_and_bad_groups),
		cmocka_unit_test(test_load_buffer_reports_missing_path),
		cmocka_unit_test(test_load_buffer_reports_bad_scan_section),
		cmocka_unit_test(test_load_buffer_reports_exclude_rule_with_checks),
		cmocka_unit_test(test_load_buffer_refuses_second_document),
		cmocka_unit_test(test_load_buffer_reports_every_problem_in_file_order),
		cmocka_unit_test(test_load_buffer_reports_kind_problems_with_position),
		cmocka_unit_test(test_load_buffer_reports_bad_key_patterns),
		cmocka_unit_test(test_load_buffer_reports_bad_probes),
		cmocka_unit_test(test_load_buffer_reports_bad_packages_section),
		cmocka_unit_test(test_load_buffer_reads_kinds_and_defaults_their_checks),
		cmocka_unit_test(test_load_buffer_reads_probes),
		cmocka_unit_test(test_load_buffer_reads_packages_section),
		cmocka_unit_test(test_load_buffer_fills_defaults),
		cmocka_unit_test(test_load_buffer_reads_scan_section_and_groups),
		cmocka_unit_test(test_load_buffer_accepts_empty_policy),
		cmocka_unit_test(test_set_digest_is_sha256_of_text),
		cmocka_unit_test(test_load_file_reads_and_fails_cleanly),
		cmocka_unit_test(test_load_file_refuses_fifo_without_blocking),
		cmocka_unit_test(test_load_default_is_the_shipped_file),
		cmocka_unit_test(test_load_file_accepts_shipped_examples),
		cmocka_unit_test(test_set_show_output_reloads_and_is_stable),
	};
	return cmocka_run_group_tests_name("rules/load", tests, NULL, NULL);
}
