/*
 * A policy built on others: `extends:` (the built-in policy or a file) and
 * `include:` (more rule files), with problems reported where they are.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "rules/internal.h"
#include "scanner/probe.h"

#define MAXP 8

/* A temporary directory of policy files, and the problems of the last load. */
struct fixture {
	char dir[64];
	char text[MAXP][400]; /* "FILE:LINE:COL: message", FILE without the directory */
	size_t n;
	unsigned checked;   /* files the check callback saw */
	const char *refuse; /* a file name (without the directory) the callback refuses */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/drift-include-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* The name of @path without the fixture's directory. */
static const char *short_name(const struct fixture *fx, const char *path)
{
	size_t n = strlen(fx->dir);

	return strncmp(path, fx->dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

static void collect(const struct diag *d, void *userdata)
{
	struct fixture *fx = userdata;

	assert_non_null(d->file);
	if (fx->n < MAXP)
		snprintf(fx->text[fx->n], sizeof(fx->text[0]), "%s:%u:%u: %s",
			 short_name(fx, d->file), d->line, d->col, d->msg);
	fx->n++;
}

static int check_file(const char *path, struct diag *reterr, void *userdata)
{
	struct fixture *fx = userdata;

	fx->checked++;
	if (fx->refuse && !strcmp(short_name(fx, path), fx->refuse))
		return diag_set(reterr, -EPERM, "refusing policy '%s': for the test",
				short_name(fx, path));
	return 0;
}

static void put(const struct fixture *fx, const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int load(struct fixture *fx, const char *name, struct rule_set **ret)
{
	struct rule_load_opts opts = { collect, check_file, fx };
	char path[160];
	struct diag d;

	fx->n = 0;
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	return rule_set_load_file_full(path, &opts, ret, &d);
}

static struct rule_set *load_ok(struct fixture *fx, const char *name)
{
	struct rule_set *rs = NULL;
	int r = load(fx, name, &rs);

	for (size_t i = 0; i < fx->n && i < MAXP; i++)
		print_message("unexpected problem: %s\n", fx->text[i]);
	assert_int_equal(r, 0);
	assert_non_null(rs);
	return rs;
}

/* Load @name, which must have exactly one problem, and return its text. */
static const char *one_problem(struct fixture *fx, const char *name)
{
	struct rule_set *rs = (struct rule_set *)0x1;

	assert_int_equal(load(fx, name, &rs), -EBADMSG);
	assert_ptr_equal(rs, (struct rule_set *)0x1);
	if (fx->n != 1)
		for (size_t i = 0; i < fx->n && i < MAXP; i++)
			print_message("problem: %s\n", fx->text[i]);
	assert_int_equal(fx->n, 1);
	return fx->text[0];
}

static const char *which(const struct rule_set *rs, const char *path)
{
	const struct rule *r = rule_set_match(rs, path, strlen(path));

	return r ? rule_id(r) : "-";
}

static void test_extends_builtin_puts_its_rules_first(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs, *builtin;
	struct diag d;
	const struct rule *r;

	put(fx, "p.yaml",
	    "extends: builtin\n"
	    "rules:\n"
	    "  - id: ssh-keys\n"
	    "    path: /etc/ssh/*_key\n"
	    "    severity: critical\n"
	    "    check: perms\n");
	rs = load_ok(fx, "p.yaml");
	assert_int_equal(rule_set_load_default(&builtin, &d), 0);

	/* The local rule is last, so it wins where it matches; the built-in decides elsewhere. */
	assert_int_equal(rs->nrules, builtin->nrules + 1);
	assert_string_equal(which(rs, "/etc/ssh/ssh_host_ed25519_key"), "ssh-keys");
	assert_string_equal(which(rs, "/etc/ssh/sshd_config"), "etc-ssh");
	assert_string_equal(which(rs, "/usr/bin/ls"), "usr-bin");
	assert_null(rule_set_match(rs, "/proc/1", 7));
	assert_non_null(rule_set_match_kind(rs, ENTRY_USER, "root", 4));

	/* Every rule keeps its own file and line. */
	r = rule_set_match(rs, "/usr/bin/ls", 11);
	assert_string_equal(rule_file(r), "(built-in)");
	assert_int_equal(rule_line(r), rule_line(rule_set_match(builtin, "/usr/bin/ls", 11)));
	r = rule_set_match(rs, "/etc/ssh/a_key", 14);
	assert_string_equal(short_name(fx, rule_file(r)), "p.yaml");
	assert_int_equal(rule_line(r), 3);
	assert_string_equal(short_name(fx, rule_set_source(rs)), "p.yaml");

	/* The built-in scan and packages sections are the defaults. */
	assert_int_equal(rule_set_scan(rs)->nroots, rule_set_scan(builtin)->nroots);
	assert_int_equal(rule_set_scan(rs)->nprobes, probe_count);
	assert_true(rule_set_unowned_scope(rs, "/usr/bin/x", 10));
	rule_set_free(builtin);
	rule_set_free(rs);
}

static void test_extends_file_overrides_scan_and_packages_key_by_key(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs;
	const struct rule_scan *scan;

	char base[96];

	snprintf(base, sizeof(base), "%s/base", fx->dir);
	assert_int_equal(mkdir(base, 0755), 0);
	put(fx, "base/site.yaml",
	    "scan:\n"
	    "  roots: [/etc, /srv]\n"
	    "  hash: sha256\n"
	    "  probes: [user]\n"
	    "packages:\n"
	    "  conffile_severity: high\n"
	    "  unowned_severity: low\n"
	    "rules:\n"
	    "  - {id: all, path: /}\n"
	    "  - {id: srv, path: /srv, severity: high}\n");
	put(fx, "p.yaml",
	    "extends: base/site.yaml\n"
	    "scan:\n"
	    "  roots: [/srv]\n"
	    "packages:\n"
	    "  unowned_severity: critical\n"
	    "rules:\n"
	    "  - {id: srv-www, path: /srv/www, severity: low}\n");
	rs = load_ok(fx, "p.yaml");
	scan = rule_set_scan(rs);
	/* roots from the file, the rest from the base. */
	assert_int_equal(scan->nroots, 1);
	assert_string_equal(scan->roots[0], "/srv");
	assert_int_equal(scan->hash, HASH_SHA256);
	assert_int_equal(scan->nprobes, 1);
	assert_string_equal(scan->probes[0], "user");
	assert_int_equal(rule_set_packages(rs)->conffile_severity, SEVERITY_HIGH);
	assert_int_equal(rule_set_packages(rs)->unowned_severity, SEVERITY_CRITICAL);

	assert_string_equal(which(rs, "/srv/www/index.html"), "srv-www");
	assert_string_equal(which(rs, "/srv/db"), "srv");
	assert_string_equal(which(rs, "/etc/x"), "all");
	assert_string_equal(short_name(fx, rule_file(rule_set_match(rs, "/srv/db", 7))),
			    "base/site.yaml");
	assert_true(rs->rules[0].inherited);
	assert_false(rs->rules[2].inherited);
	rule_set_free(rs);
}

static void test_include_appends_rules_in_order_and_shares_groups(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs;

	put(fx, "p.yaml",
	    "include: [a.yaml, b.yaml]\n"
	    "groups:\n"
	    "  owner: [uid, gid]\n"
	    "rules:\n"
	    "  - {id: etc, path: /etc}\n"
	    "  - {id: ssh, path: /etc/ssh}\n");
	put(fx, "a.yaml",
	    "rules:\n"
	    "  - {id: ssh-local, path: /etc/ssh, check: owner}\n"
	    "  - {path: /etc/hosts}\n");
	put(fx, "b.yaml",
	    "rules:\n"
	    "  - {path: /etc/hosts}\n");
	rs = load_ok(fx, "p.yaml");
	assert_int_equal(rs->nrules, 5);
	/* The included rules come after the file's own, in the order of the list. */
	assert_string_equal(which(rs, "/etc/ssh/x"), "ssh-local");
	assert_int_equal(rule_attrs(rule_set_match(rs, "/etc/ssh/x", 10)),
			 ATTR_UID | ATTR_GID | ATTR_ERROR);
	/* Default ids name their file, so two files' rules do not collide. */
	assert_string_equal(which(rs, "/etc/hosts"), "b.rule-1");
	assert_string_equal(rs->rules[3].id, "a.rule-2");
	assert_false(rs->rules[4].inherited);
	rule_set_free(rs);
}

static void test_problems_in_other_files_have_their_file_and_line(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs = NULL;
	char want[300];

	put(fx, "p.yaml",
	    "include: [inc.yaml]\n"
	    "rules:\n"
	    "  - {id: etc, path: /etc, sevrity: high}\n");
	put(fx, "inc.yaml",
	    "rules:\n"
	    "  - id: x\n"
	    "    path: /x\n"
	    "    check: [mtim]\n"
	    "  - {id: etc, path: /etc/ssh}\n");
	assert_int_equal(load(fx, "p.yaml", &rs), -EBADMSG);
	assert_int_equal(fx->n, 3);
	assert_string_equal(fx->text[0], "p.yaml:3:27: unknown key 'sevrity' in a rule (did you "
					 "mean 'severity'?) (allowed: id, title, kind, path, key, "
					 "check, ignore, expect, severity, when_added, magic, "
					 "keep_content, secret, exclude, remediate)");
	assert_string_equal(
		fx->text[1],
		"inc.yaml:4:13: unknown attribute or group 'mtim' (did you mean 'mtime'?)");
	snprintf(want, sizeof(want),
		 "inc.yaml:5:10: duplicate rule id 'etc' (first at '%s/p.yaml' line 3)", fx->dir);
	assert_string_equal(fx->text[2], want);
}

static void test_missing_and_unreadable_files_are_problems_where_named(void **state)
{
	struct fixture *fx = *state;
	char want[300];

	put(fx, "p.yaml",
	    "rules: []\n"
	    "include:\n"
	    "  - here.yaml\n"
	    "  - nowhere.yaml\n");
	put(fx, "here.yaml", "rules: []\n");
	snprintf(want, sizeof(want),
		 "p.yaml:4:5: cannot open policy '%s/nowhere.yaml': No such file or directory",
		 fx->dir);
	assert_string_equal(one_problem(fx, "p.yaml"), want);

	put(fx, "p.yaml", "extends: .\n");
	snprintf(want, sizeof(want), "p.yaml:1:10: cannot read policy '%s/.': Is a directory",
		 fx->dir);
	assert_string_equal(one_problem(fx, "p.yaml"), want);

	put(fx, "p.yaml", "extends: ''\n");
	assert_string_equal(one_problem(fx, "p.yaml"),
			    "p.yaml:1:10: 'extends' names a policy file, or 'builtin' for the "
			    "built-in policy");
}

static void test_cycles_and_files_read_twice_are_refused(void **state)
{
	struct fixture *fx = *state;
	char want[400];

	put(fx, "a.yaml", "include: [b.yaml]\n");
	put(fx, "b.yaml", "rules: []\ninclude: [a.yaml]\n");
	snprintf(want, sizeof(want),
		 "b.yaml:2:11: cannot include '%s/a.yaml': the policy files form a cycle "
		 "(%s/a.yaml -> %s/b.yaml -> %s/a.yaml)",
		 fx->dir, fx->dir, fx->dir, fx->dir);
	assert_string_equal(one_problem(fx, "a.yaml"), want);

	/* A policy that extends itself. */
	put(fx, "a.yaml", "extends: ./a.yaml\n");
	snprintf(want, sizeof(want),
		 "a.yaml:1:10: cannot extend '%s/./a.yaml': the policy files form a cycle "
		 "(%s/a.yaml -> %s/./a.yaml)",
		 fx->dir, fx->dir, fx->dir);
	assert_string_equal(one_problem(fx, "a.yaml"), want);

	/* The same file twice, by two ways: it would bring its rules twice. */
	put(fx, "a.yaml", "include: [b.yaml, c.yaml]\n");
	put(fx, "b.yaml", "include: [common.yaml]\n");
	put(fx, "c.yaml", "include: [./common.yaml]\n");
	put(fx, "common.yaml", "rules: [{id: c, path: /c}]\n");
	snprintf(want, sizeof(want),
		 "c.yaml:1:11: cannot include '%s/./common.yaml': it is in the policy already "
		 "(as '%s/common.yaml'): a file goes in once",
		 fx->dir, fx->dir);
	assert_string_equal(one_problem(fx, "a.yaml"), want);
}

static void test_nesting_is_limited(void **state)
{
	struct fixture *fx = *state;
	char name[32], text[64], want[200];

	/* f0 includes f1 ... includes f16: 17 files, one too many. */
	for (unsigned i = 0; i <= 16; i++) {
		snprintf(name, sizeof(name), "f%u.yaml", i);
		snprintf(text, sizeof(text), i < 16 ? "include: f%u.yaml\n" : "rules: []\n", i + 1);
		put(fx, name, text);
	}
	snprintf(want, sizeof(want),
		 "f15.yaml:1:10: cannot include '%s/f16.yaml': policy files nest too deeply "
		 "(more than 16 levels)",
		 fx->dir);
	assert_string_equal(one_problem(fx, "f0.yaml"), want);
	/* 16 are fine. */
	put(fx, "f15.yaml", "rules: []\n");
	rule_set_free(load_ok(fx, "f0.yaml"));
}

static void test_included_file_has_rules_and_groups_only(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs = NULL;

	put(fx, "p.yaml", "include: [inc.yaml]\n");
	put(fx, "inc.yaml", "scan:\n  roots: [/srv]\nextends: builtin\nrules: []\n");
	assert_int_equal(load(fx, "p.yaml", &rs), -EBADMSG);
	assert_int_equal(fx->n, 2);
	assert_string_equal(fx->text[0],
			    "inc.yaml:1:1: 'scan' belongs in the policy, not in a file it includes "
			    "(which has 'groups', 'rules' and 'include')");
	assert_string_equal(fx->text[1],
			    "inc.yaml:3:1: 'extends' belongs in the policy, not in a file it "
			    "includes (which has 'groups', 'rules' and 'include')");
}

static void test_groups_are_seen_downwards_and_not_redefined(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs;
	char want[300];

	/* The base's groups serve the file that extends it, and its includes. */
	put(fx, "base.yaml", "groups:\n  owner: [uid, gid]\n");
	put(fx, "p.yaml",
	    "extends: base.yaml\n"
	    "groups:\n  mine: [owner, mode]\n"
	    "include: [inc.yaml]\n");
	put(fx, "inc.yaml", "rules: [{id: x, path: /x, check: [mine, owner]}]\n");
	rs = load_ok(fx, "p.yaml");
	assert_int_equal(rule_attrs(rule_set_match(rs, "/x", 2)),
			 ATTR_UID | ATTR_GID | ATTR_MODE | ATTR_ERROR);
	rule_set_free(rs);

	/* A name means one thing in every file. */
	put(fx, "inc.yaml", "groups:\n  owner: [uid]\n");
	snprintf(want, sizeof(want),
		 "inc.yaml:2:3: group 'owner' is defined already, in '%s/base.yaml' at line 2 "
		 "(choose another name)",
		 fx->dir);
	assert_string_equal(one_problem(fx, "p.yaml"), want);

	/* An included file's groups are its own: the includer does not see them. */
	put(fx, "inc.yaml", "groups:\n  theirs: [uid]\n");
	put(fx, "p.yaml", "include: [inc.yaml]\nrules: [{path: /x, check: theirs}]\n");
	assert_string_equal(one_problem(fx, "p.yaml"),
			    "p.yaml:2:27: unknown attribute or group 'theirs'");
}

static void test_digest_covers_every_file(void **state)
{
	struct fixture *fx = *state;
	struct rule_set *rs, *one;
	char before[65], builtin[65];
	struct diag d;

	/* A policy of one file: the SHA-256 of its bytes, as it always was. */
	put(fx, "one.yaml", "version: 1\n");
	one = load_ok(fx, "one.yaml");
	assert_string_equal(rule_set_digest(one),
			    "09bfcc6a14b83e2192b8673677725c84883ee9cd0c70e45c9ec09daa8f2b2847");
	rule_set_free(one);

	put(fx, "p.yaml", "include: [inc.yaml]\n");
	put(fx, "inc.yaml", "rules: [{path: /x}]\n");
	rs = load_ok(fx, "p.yaml");
	assert_int_equal(strlen(rule_set_digest(rs)), 64);
	snprintf(before, sizeof(before), "%s", rule_set_digest(rs));
	rule_set_free(rs);

	/* Loading again: the same. Changing the included file (a comment): another. */
	rs = load_ok(fx, "p.yaml");
	assert_string_equal(rule_set_digest(rs), before);
	rule_set_free(rs);
	put(fx, "inc.yaml", "rules: [{path: /x}]\n# a comment\n");
	rs = load_ok(fx, "p.yaml");
	assert_string_not_equal(rule_set_digest(rs), before);
	rule_set_free(rs);

	/* The built-in text counts too: extending it is not the same as the file alone. */
	put(fx, "p.yaml", "extends: builtin\n");
	rs = load_ok(fx, "p.yaml");
	assert_int_equal(rule_set_load_default(&one, &d), 0);
	snprintf(builtin, sizeof(builtin), "%s", rule_set_digest(one));
	assert_string_not_equal(rule_set_digest(rs), builtin);
	rule_set_free(one);
	rule_set_free(rs);
}

static void test_check_callback_sees_every_file_and_may_refuse(void **state)
{
	struct fixture *fx = *state;

	put(fx, "p.yaml", "extends: builtin\ninclude: [a.yaml, b.yaml]\n");
	put(fx, "a.yaml", "rules: []\n");
	put(fx, "b.yaml", "rules: []\n");
	fx->checked = 0;
	rule_set_free(load_ok(fx, "p.yaml"));
	/* The included files; not the policy itself (the caller's), nor the built-in one. */
	assert_int_equal(fx->checked, 2);

	fx->refuse = "b.yaml";
	assert_string_equal(one_problem(fx, "p.yaml"),
			    "p.yaml:2:19: refusing policy 'b.yaml': for the test");
	fx->refuse = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_extends_builtin_puts_its_rules_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_extends_file_overrides_scan_and_packages_key_by_key, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_include_appends_rules_in_order_and_shares_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_problems_in_other_files_have_their_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_missing_and_unreadable_files_are_problems_where_named, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_cycles_and_files_read_twice_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nesting_is_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_included_file_has_rules_and_groups_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_groups_are_seen_downwards_and_not_redefined,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_covers_every_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_callback_sees_every_file_and_may_refuse,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
