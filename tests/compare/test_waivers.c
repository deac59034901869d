/*
 * Tests of the waivers (compare/waiver.c): the loader and its problems with
 * their line and column, lint, and the judgment of a finding: waived,
 * lapsed when the pinned values changed (a hash, a package's version),
 * expired past its date.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "compare/compare.h"
#include "compare/waive.h"

#define NOW 1796515200LL /* 2026-12-06 00:00:00 UTC */

struct problems {
	unsigned n;
	struct diag d[8];
};

static void on_problem(const struct diag *d, void *userdata)
{
	struct problems *p = userdata;

	if (p->n < 8)
		p->d[p->n] = *d;
	p->n++;
}

static struct waiver_set *load(const char *text, struct problems *p, int want)
{
	struct waiver_set *ws = NULL;
	struct diag d = { 0 };
	int r;

	memset(p, 0, sizeof(*p));
	r = waiver_set_load_buffer("w.yaml", text, strlen(text), on_problem, p, &ws, &d);
	assert_int_equal(r, want);
	if (ws)
		ws->now = NOW;
	return ws;
}

static const char good[] = "# our waivers\n"
			   "waivers:\n"
			   "  - kind: file\n"
			   "    path: /etc/foo.conf\n"
			   "    change: modified\n"
			   "    pin:\n"
			   "      hash: \"00ff\"\n"
			   "      mode: \"0644\"\n"
			   "    reason: \"vendor hotfix, ticket 123\"\n"
			   "    expires: 2027-01-31\n"
			   "    by: alice\n"
			   "    created: 2026-12-05T23:44:45Z\n"
			   "  - kind: package\n"
			   "    key: openssl\n"
			   "    pin: {version: \"3.0.14-1\"}\n"
			   "    reason: pinned on purpose\n"
			   "    expires: 2026-12-01\n"
			   "  - pattern: /var/cache/**\n"
			   "    reason: caches\n"
			   "    expires: 2027-06-30\n";

static void test_load_good(void **state)
{
	struct problems p;
	struct waiver_set *ws = load(good, &p, 0);

	(void)state;
	assert_int_equal(p.n, 0);
	assert_int_equal(ws->n, 3);
	assert_int_equal(ws->v[0].kind, ENTRY_FILE);
	assert_string_equal(ws->v[0].key, "/etc/foo.conf");
	assert_true(ws->v[0].have_change);
	assert_int_equal(ws->v[0].change, CHANGE_MODIFIED);
	assert_int_equal(ws->v[0].npins, 2);
	assert_string_equal(ws->v[0].pins[1].name, "mode");
	assert_string_equal(ws->v[0].pins[1].value, "0644");
	assert_string_equal(ws->v[0].by, "alice");
	assert_int_equal(ws->v[0].line, 3);
	assert_int_equal(ws->v[1].kind, ENTRY_PACKAGE);
	assert_null(ws->v[2].key);
	assert_string_equal(ws->v[2].pattern, "/var/cache/**");
	/* Valid through the last day. */
	assert_int_equal(ws->v[0].expires_at, 1801353600LL + 86400);
	waiver_set_free(ws);
}

static void test_load_empty(void **state)
{
	struct problems p;
	struct waiver_set *ws;

	(void)state;
	ws = load("", &p, 0);
	assert_int_equal(ws->n, 0);
	waiver_set_free(ws);
	ws = load("# nothing yet\nwaivers:\n", &p, 0);
	assert_int_equal(ws->n, 0);
	waiver_set_free(ws);
}

static void test_malformed_yaml_line_column(void **state)
{
	struct problems p;

	(void)state;
	assert_null(load("waivers:\n  - path: /a\n    reason: [unclosed\n", &p, -EBADMSG));
	assert_int_equal(p.n, 1);
	assert_string_equal(p.d[0].file, "w.yaml");
	assert_int_equal(p.d[0].line, 4);
	assert_non_null(strstr(p.d[0].msg, "invalid YAML"));
	assert_null(load("waivers:\n\t- path: /a\n", &p, -EBADMSG));
	assert_int_equal(p.d[0].line, 2);
	assert_int_equal(p.d[0].col, 1);
}

/*
 * A key given twice in one waiver is a problem, as in the policy (found by
 * fuzz_waivers: the first 'reason', 'by' or 'created' used to leak).
 */
static void test_duplicate_keys(void **state)
{
	static const char *const keys[] = { "reason", "by", "created", "pattern", "expires" };
	char text[256];
	struct problems p;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text),
			 "waivers:\n  - pattern: /a/**\n    reason: r\n    expires: 2027-01-01\n"
			 "    by: b\n    created: c\n    %s: %s\n",
			 keys[i], strcmp(keys[i], "expires") ? "x" : "2027-02-02");
		assert_null(load(text, &p, -EBADMSG));
		assert_int_equal(p.n, 1);
		assert_int_equal(p.d[0].line, 7);
		assert_int_equal(p.d[0].col, 5);
		assert_non_null(strstr(p.d[0].msg, "duplicate key"));
		assert_non_null(strstr(p.d[0].msg, keys[i]));
	}
}

static void test_unknown_keys(void **state)
{
	struct problems p;

	(void)state;
	assert_null(load("waivers:\n  - path: /a\n    reason: r\n    expires: 2027-01-01\n"
			 "    expiry: 2027-01-01\n",
			 &p, -EBADMSG));
	assert_int_equal(p.n, 1);
	assert_int_equal(p.d[0].line, 5);
	assert_int_equal(p.d[0].col, 5);
	assert_non_null(strstr(p.d[0].msg, "unknown key 'expiry'"));
	assert_null(load("waiver:\n  - path: /a\n", &p, -EBADMSG));
	assert_int_equal(p.d[0].line, 1);
	assert_null(load("waivers:\n  - kind: fiel\n    path: /a\n    reason: r\n"
			 "    expires: 2027-01-01\n",
			 &p, -EBADMSG));
	assert_non_null(strstr(p.d[0].msg, "unknown kind 'fiel'"));
	assert_int_equal(p.d[0].line, 2);
	assert_int_equal(p.d[0].col, 11);
}

static void test_bad_dates_and_missing(void **state)
{
	static const char *const bad[] = { "2027-02-30", "2027-13-01", "27-01-01",
					   "tomorrow",   "2027-1-01",  "2026-02-29" };
	struct problems p;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "waivers:\n  - path: /a\n    reason: r\n    expires: %s\n", bad[i]);
		assert_null(load(text, &p, -EBADMSG));
		assert_int_equal(p.n, 1);
		assert_int_equal(p.d[0].line, 4);
		assert_int_equal(p.d[0].col, 14);
		assert_non_null(strstr(p.d[0].msg, "bad date"));
	}
	assert_null(load("waivers:\n  - path: /a\n    expires: 2027-01-01\n", &p, -EBADMSG));
	assert_non_null(strstr(p.d[0].msg, "needs a 'reason'"));
	assert_null(load("waivers:\n  - path: /a\n    reason: r\n", &p, -EBADMSG));
	assert_non_null(strstr(p.d[0].msg, "needs 'expires'"));
	assert_null(load("waivers:\n  - path: a/b\n    reason: r\n    expires: 2027-01-01\n", &p,
			 -EBADMSG));
	assert_non_null(strstr(p.d[0].msg, "absolute"));
	assert_null(load("waivers:\n  - path: /a\n    change: changed\n    reason: r\n"
			 "    expires: 2027-01-01\n",
			 &p, -EBADMSG));
	assert_non_null(strstr(p.d[0].msg, "unknown change"));
}

static void test_glob_with_pin(void **state)
{
	struct problems p;

	(void)state;
	assert_null(load("waivers:\n  - pattern: /etc/*.conf\n    pin: {hash: \"00\"}\n"
			 "    reason: r\n    expires: 2027-01-01\n",
			 &p, -EBADMSG));
	assert_int_equal(p.n, 1);
	assert_int_equal(p.d[0].line, 3);
	assert_non_null(strstr(p.d[0].msg, "pattern cannot be pinned"));
	assert_null(load("waivers:\n  - path: /a\n    pattern: /b\n    reason: r\n"
			 "    expires: 2027-01-01\n",
			 &p, -EBADMSG));
}

static void test_lint_expired(void **state)
{
	struct problems p, lp = { 0 };
	struct waiver_set *ws = load(good, &p, 0);

	(void)state;
	assert_int_equal(waiver_set_lint(ws, on_problem, &lp), 1);
	assert_int_equal(lp.d[0].line, 13);
	assert_non_null(strstr(lp.d[0].msg, "expired on 2026-12-01"));
	/* The last day still holds. */
	ws->now = 1801353600LL + 86399;
	memset(&lp, 0, sizeof(lp));
	assert_int_equal(waiver_set_lint(ws, on_problem, &lp), 1);
	ws->now = 1801353600LL + 86400;
	assert_int_equal(waiver_set_lint(ws, NULL, NULL), 2);
	waiver_set_free(ws);
}

/* A file entry with @hash_byte as its one hash byte, mode 0644. */
static struct entry file_entry(const char *path, uint8_t hash_byte, uint32_t mode)
{
	struct entry e = { .kind = ENTRY_FILE, .key = path, .key_len = strlen(path) };

	e.mode = 0100000 | mode;
	e.hash_algo = HASH_XXH3_128;
	e.hash_len = 2;
	e.hash[0] = 0;
	e.hash[1] = hash_byte;
	return e;
}

static struct finding drift_finding(const struct entry *before, const struct entry *after,
				    uint32_t changed)
{
	struct finding f = { .change = CHANGE_MODIFIED, .before = before, .after = after };

	f.changed = changed;
	f.attrs = changed;
	f.judged = true;
	f.class = CLASS_DRIFT;
	f.severity = SEVERITY_HIGH;
	f.counts = true;
	f.reason = "content changed";
	return f;
}

static void test_waived_then_lapsed_on_hash(void **state)
{
	struct problems p;
	struct waiver_set *ws = load(good, &p, 0);
	struct entry before = file_entry("/etc/foo.conf", 0x00, 0644);
	struct entry after = file_entry("/etc/foo.conf", 0xff, 0644);
	struct entry again = file_entry("/etc/foo.conf", 0xee, 0644);
	struct entry chmod = file_entry("/etc/foo.conf", 0xff, 0600);
	struct finding f = drift_finding(&before, &after, ATTR_HASH);
	char buf[512];

	(void)state;
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_ACTIVE);
	assert_int_equal(f.class, CLASS_WAIVED);
	assert_false(f.counts);
	assert_string_equal(f.reason,
			    "waived until 2027-01-31 by alice: vendor hotfix, ticket 123; "
			    "content changed");

	/* Changed again: the hash the waiver accepted is gone. */
	f = drift_finding(&before, &again, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_LAPSED);
	assert_int_equal(f.class, CLASS_DRIFT);
	assert_true(f.counts);
	assert_string_equal(f.reason,
			    "content changed; waiver lapsed: hash changed since it was waived");

	/* The same content, but now its mode changed too (pinned, so: lapsed). */
	f = drift_finding(&before, &chmod, ATTR_HASH | ATTR_MODE);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_LAPSED);
	assert_non_null(strstr(f.reason, "mode changed since it was waived"));

	/* An attribute the pin does not know changed: lapsed. */
	f = drift_finding(&before, &after, ATTR_HASH | ATTR_UID);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_LAPSED);
	assert_non_null(strstr(f.reason, "uid changed since it was waived"));

	/* Another path, another change: not about it. */
	f = drift_finding(&before, &after, ATTR_HASH);
	f.change = CHANGE_ADDED;
	f.before = NULL;
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_NO_MATCH);
	assert_string_equal(f.reason, "content changed");

	/* Expected findings are never touched. */
	f = drift_finding(&before, &after, ATTR_HASH);
	f.class = CLASS_EXPECTED;
	f.counts = false;
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_NO_MATCH);

	/* Past its last day: expired, drift again. */
	ws->now = 1801353600LL + 86400;
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_EXPIRED);
	assert_int_equal(f.class, CLASS_DRIFT);
	assert_string_equal(f.reason, "content changed; waiver expired on 2027-01-31");
	waiver_set_free(ws);
}

static struct entry package_entry(const char *key, const char *version, struct strbuf *blob)
{
	struct entry_prop props[] = {
		{ "status", "installed", 9 },
		{ "version", version, strlen(version) },
	};
	struct entry e = { .kind = ENTRY_PACKAGE, .key = key, .key_len = strlen(key) };

	assert_int_equal(entry_props_encode(blob, props, 2), 0);
	e.props = (const uint8_t *)blob->buf;
	e.props_len = blob->len;
	return e;
}

static void test_package_upgrade_lapses(void **state)
{
	static const char text[] = "waivers:\n"
				   "  - kind: package\n"
				   "    key: openssl\n"
				   "    pin: {version: \"3.0.14-1\"}\n"
				   "    reason: held back\n"
				   "    expires: 2027-01-31\n";
	struct strbuf b1 = STRBUF_INIT, b2 = STRBUF_INIT, b3 = STRBUF_INIT;
	struct problems p;
	struct waiver_set *ws = load(text, &p, 0);
	struct entry old = package_entry("openssl:amd64", "3.0.13-1", &b1);
	struct entry waived = package_entry("openssl:amd64", "3.0.14-1", &b2);
	struct entry upgraded = package_entry("openssl:amd64", "3.0.15-1", &b3);
	struct finding f = drift_finding(&old, &waived, ATTR_PROPS);
	char buf[512];

	(void)state;
	f.reason = "3.0.13-1 -> 3.0.14-1; no apt or dpkg record of it";
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_ACTIVE);
	assert_int_equal(f.class, CLASS_WAIVED);

	f = drift_finding(&old, &upgraded, ATTR_PROPS);
	f.reason = "3.0.13-1 -> 3.0.15-1";
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_LAPSED);
	assert_int_equal(f.class, CLASS_DRIFT);
	assert_non_null(strstr(f.reason, "waiver lapsed: package upgraded since it was waived "
					 "(3.0.14-1 -> 3.0.15-1)"));
	waiver_set_free(ws);
	strbuf_release(&b1);
	strbuf_release(&b2);
	strbuf_release(&b3);
}

static void test_pattern_waiver(void **state)
{
	struct problems p;
	struct waiver_set *ws = load(good, &p, 0);
	struct entry before = file_entry("/var/cache/apt/pkgcache.bin", 1, 0644);
	struct entry after = file_entry("/var/cache/apt/pkgcache.bin", 2, 0644);
	struct finding f = drift_finding(&before, &after, ATTR_HASH | ATTR_SIZE);
	char buf[512];

	(void)state;
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_ACTIVE);
	assert_non_null(strstr(f.reason, "waived until 2027-06-30: caches"));
	waiver_set_free(ws);
}

/* The index finds the same waiver a walk in file order would, among many. */
static void test_many_waivers_first_in_file_order(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct problems p;
	struct waiver_set *ws;
	struct entry before = file_entry("/etc/f500", 0x00, 0644);
	struct entry after = file_entry("/etc/f500", 0xff, 0644);
	struct finding f;
	char buf[512];

	(void)state;
	assert_int_equal(strbuf_adds(&text, "waivers:\n"), 0);
	/* Another pin of /etc/f500 first: lapsed, unless a later one holds. */
	assert_int_equal(strbuf_adds(&text, "  - {path: /etc/f500, pin: {hash: \"00ee\"}, "
					    "reason: old, expires: 2027-01-01}\n"),
			 0);
	for (int i = 999; i >= 0; i--)
		assert_int_equal(strbuf_addf(&text,
					     "  - {path: /etc/f%d, pin: {hash: \"00ff\"}, "
					     "reason: r%d, expires: 2027-01-01}\n",
					     i, i),
				 0);
	ws = load(text.buf, &p, 0);
	assert_int_equal(ws->n, 1001);
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_ACTIVE);
	assert_non_null(strstr(f.reason, ": r500;"));
	after.hash[1] = 0xee;
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_ACTIVE);
	assert_non_null(strstr(f.reason, ": old;"));
	after.hash[1] = 0x11;
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_LAPSED);
	before.key = after.key = "/etc/f1000";
	before.key_len = after.key_len = strlen(after.key);
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_NO_MATCH);
	waiver_set_free(ws);
	strbuf_release(&text);

	/* A key's lapsed waiver, then a pattern that holds: the pattern waives it. */
	ws = load("waivers:\n"
		  "  - {path: /etc/f1000, pin: {hash: \"0000\"}, reason: a, expires: 2027-01-01}\n"
		  "  - {pattern: /etc/*, reason: b, expires: 2027-01-01}\n",
		  &p, 0);
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_ACTIVE);
	assert_non_null(strstr(f.reason, ": b;"));
	waiver_set_free(ws);
	/* Two that do not hold: the first in the file says why. */
	ws = load("waivers:\n"
		  "  - {pattern: /etc/*, reason: b, expires: 2020-01-01}\n"
		  "  - {path: /etc/f1000, pin: {hash: \"0000\"}, reason: a, expires: 2027-01-01}\n",
		  &p, 0);
	f = drift_finding(&before, &after, ATTR_HASH);
	assert_int_equal(waiver_apply(ws, &f, buf, sizeof(buf)), WAIVER_EXPIRED);
	waiver_set_free(ws);
}

static void test_expiry_parse(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(waive_parse_expiry("2027-01-31", NOW, &t), 0);
	assert_int_equal((long long)t, 1801353600LL);
	assert_int_equal(waive_parse_expiry("+30d", NOW, &t), 0);
	assert_int_equal((long long)t, NOW + 30 * 86400LL);
	assert_int_equal(waive_parse_expiry("+30", NOW, &t), -EINVAL);
	assert_int_equal(waive_parse_expiry("30d", NOW, &t), -EINVAL);
	assert_int_equal(waive_parse_expiry("2027-02-29", NOW, &t), -EINVAL);
}

static void test_values(void **state)
{
	struct entry e = file_entry("/x", 0xab, 04755);
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	e.uid = 1000;
	assert_int_equal(waiver_value(&e, "hash", &sb), 1);
	assert_string_equal(sb.buf, "00ab");
	assert_int_equal(waiver_value(&e, "mode", &sb), 1);
	assert_string_equal(sb.buf, "4755");
	assert_int_equal(waiver_value(&e, "uid", &sb), 1);
	assert_string_equal(sb.buf, "1000");
	assert_int_equal(waiver_value(&e, "type", &sb), 1);
	assert_string_equal(sb.buf, "file");
	assert_int_equal(waiver_value(&e, "target", &sb), 0);
	assert_int_equal(waiver_value(&e, "acl", &sb), 0);
	assert_int_equal(waiver_value(&e, "nonsense", &sb), 0);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_malformed_yaml_line_column),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_bad_dates_and_missing),
		cmocka_unit_test(test_glob_with_pin),
		cmocka_unit_test(test_lint_expired),
		cmocka_unit_test(test_waived_then_lapsed_on_hash),
		cmocka_unit_test(test_package_upgrade_lapses),
		cmocka_unit_test(test_pattern_waiver),
		cmocka_unit_test(test_many_waivers_first_in_file_order),
		cmocka_unit_test(test_expiry_parse),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
