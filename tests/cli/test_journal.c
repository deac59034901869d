/*
 * cli/journal.c without a journal: the fields of each record (checked byte
 * for byte), their size limit, escaping and priorities; and the journal
 * object through its seam (cli/journal_sys.c), linked with
 * -Wl,--wrap=journal_sys_available,--wrap=journal_sys_sendv.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/escape.h"
#include "compare/compare.h"
#include "report/report.h"

/* ---- the seam ---- */

bool __wrap_journal_sys_available(void);
bool __wrap_journal_sys_available(void)
{
	return mock_type(bool);
}

/* Each call checks the record's MESSAGE against what the test expects. */
int __wrap_journal_sys_sendv(const struct iovec *iov, int n);
int __wrap_journal_sys_sendv(const struct iovec *iov, int n)
{
	assert_true(n > 0);
	check_expected_ptr(iov[0].iov_base);
	return mock_type(int);
}

/* ---- helpers ---- */

/* The value of field @name in @jf, or NULL; the fields are NUL-terminated. */
static const char *field(const struct journal_fields *jf, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < jf->n; i++) {
		const char *f = jf->iov[i].iov_base;

		assert_int_equal(strlen(f), jf->iov[i].iov_len);
		if (!strncmp(f, name, len) && f[len] == '=')
			return f + len + 1;
	}
	return NULL;
}

/* Every field: below 1 KB, NAME=value, valid UTF-8 with no control byte. */
static void assert_fields_sane(const struct journal_fields *jf)
{
	assert_true(jf->n > 0 && jf->n <= JOURNAL_FIELDS_MAX);
	for (size_t i = 0; i < jf->n; i++) {
		const char *f = jf->iov[i].iov_base, *eq = strchr(f, '=');

		assert_true(jf->iov[i].iov_len < JOURNAL_FIELD_MAX);
		assert_non_null(eq);
		for (const char *p = f; p < eq; p++)
			assert_true((*p >= 'A' && *p <= 'Z') || *p == '_');
		assert_true(escape_is_clean(eq + 1, jf->iov[i].iov_len - (size_t)(eq + 1 - f)));
	}
	assert_string_equal(jf->iov[0].iov_base, jf->iov[0].iov_base); /* slot 0 is MESSAGE */
	assert_memory_equal(jf->iov[0].iov_base, "MESSAGE=", 8);
}

static struct entry file_entry(const char *path, size_t len)
{
	return (struct entry){ .kind = ENTRY_FILE, .key = path, .key_len = len, .mode = 0100755 };
}

/* A judged drift finding: high, modified mode and hash, rule setuid-binaries. */
static struct finding judged(const struct entry *before, const struct entry *after)
{
	return (struct finding){ .change = CHANGE_MODIFIED,
				 .before = before,
				 .after = after,
				 .changed = ATTR_MODE | ATTR_HASH | ATTR_MTIME,
				 .judged = true,
				 .class = CLASS_DRIFT,
				 .severity = SEVERITY_HIGH,
				 .attrs = ATTR_MODE | ATTR_HASH,
				 .reason = "setuid bit added",
				 .counts = true,
				 .rule_id = "setuid-binaries" };
}

/* ---- the fields ---- */

static void test_journal_priority_maps_severities_to_syslog(void **state)
{
	(void)state;
	assert_int_equal(journal_priority(SEVERITY_CRITICAL), 2);
	assert_int_equal(journal_priority(SEVERITY_HIGH), 3);
	assert_int_equal(journal_priority(SEVERITY_MEDIUM), 4);
	assert_int_equal(journal_priority(SEVERITY_LOW), 5);
	assert_int_equal(journal_priority(SEVERITY_INFO), 6);
}

static void test_journal_fields_finding_names_every_field(void **state)
{
	(void)state;
	static struct journal_fields jf;
	struct entry a = file_entry("/usr/bin/foo", 12), b = a;
	struct finding f = judged(&a, &b);

	f.package.name = "foo:amd64";
	f.novelty = NOVELTY_NEW;
	assert_int_equal(journal_fields_finding(&jf, "check", &f), 0);
	assert_fields_sane(&jf);
	assert_string_equal(field(&jf, "MESSAGE"),
			    "drift: high: /usr/bin/foo modified (mode, hash): "
			    "rule setuid-binaries: setuid bit added");
	assert_string_equal(field(&jf, "PRIORITY"), "3");
	assert_string_equal(field(&jf, "SYSLOG_IDENTIFIER"), "drift");
	assert_string_equal(field(&jf, "MESSAGE_ID"), JOURNAL_MESSAGE_ID_FINDING);
	assert_string_equal(field(&jf, "DRIFT_COMMAND"), "check");
	assert_string_equal(field(&jf, "DRIFT_PATH"), "/usr/bin/foo");
	assert_null(field(&jf, "DRIFT_KEY"));
	assert_string_equal(field(&jf, "DRIFT_KIND"), "file");
	assert_string_equal(field(&jf, "DRIFT_CHANGE"), "modified");
	assert_string_equal(field(&jf, "DRIFT_SEVERITY"), "high");
	assert_string_equal(field(&jf, "DRIFT_CLASS"), "drift");
	assert_string_equal(field(&jf, "DRIFT_RULE"), "setuid-binaries");
	assert_string_equal(field(&jf, "DRIFT_REASON"), "setuid bit added");
	assert_string_equal(field(&jf, "DRIFT_PACKAGE"), "foo:amd64");
	assert_null(field(&jf, "DRIFT_UNOWNED"));
	/* The rule's attributes (as reports show them), not every one that changed. */
	assert_string_equal(field(&jf, "DRIFT_ATTRS"), "mode,hash");
	assert_string_equal(field(&jf, "DRIFT_NOVELTY"), "new");
	/* The two MESSAGE_IDs are distinct 128-bit ids in systemd's form. */
	assert_int_equal(strlen(JOURNAL_MESSAGE_ID_FINDING), 32);
	assert_int_equal(strlen(JOURNAL_MESSAGE_ID_SUMMARY), 32);
	assert_string_not_equal(JOURNAL_MESSAGE_ID_FINDING, JOURNAL_MESSAGE_ID_SUMMARY);
}

static void test_journal_fields_finding_added_and_other_kinds(void **state)
{
	(void)state;
	static struct journal_fields jf;
	struct entry e = file_entry("/usr/local/sbin/x", 17);
	struct entry u = { .kind = ENTRY_USER, .key = "www-data", .key_len = 8 };
	struct finding f = { .change = CHANGE_ADDED,
			     .after = &e,
			     .judged = true,
			     .class = CLASS_DRIFT,
			     .severity = SEVERITY_CRITICAL,
			     .rule_id = "sbin",
			     .package = { .unowned = true } };

	assert_int_equal(journal_fields_finding(&jf, "check", &f), 0);
	assert_fields_sane(&jf);
	assert_string_equal(field(&jf, "MESSAGE"),
			    "drift: critical: /usr/local/sbin/x added: rule sbin");
	assert_string_equal(field(&jf, "PRIORITY"), "2");
	assert_string_equal(field(&jf, "DRIFT_UNOWNED"), "1");
	assert_null(field(&jf, "DRIFT_PACKAGE"));
	assert_null(field(&jf, "DRIFT_ATTRS")); /* added: no attribute changed */
	assert_null(field(&jf, "DRIFT_REASON"));
	assert_null(field(&jf, "DRIFT_NOVELTY"));

	/* A user: its kind in the message, its name as DRIFT_KEY, not DRIFT_PATH. */
	f = (struct finding){ .change = CHANGE_MODIFIED,
			      .before = &u,
			      .after = &u,
			      .changed = ATTR_PROPS,
			      .judged = true,
			      .class = CLASS_VIOLATION,
			      .severity = SEVERITY_LOW,
			      .attrs = ATTR_PROPS,
			      .rule_id = "users" };
	assert_int_equal(journal_fields_finding(&jf, "diff", &f), 0);
	assert_fields_sane(&jf);
	assert_string_equal(field(&jf, "MESSAGE"),
			    "drift: low: user www-data modified (props): rule users");
	assert_string_equal(field(&jf, "PRIORITY"), "5");
	assert_string_equal(field(&jf, "DRIFT_KEY"), "www-data");
	assert_null(field(&jf, "DRIFT_PATH"));
	assert_string_equal(field(&jf, "DRIFT_KIND"), "user");
	assert_string_equal(field(&jf, "DRIFT_CLASS"), "violation");
	assert_string_equal(field(&jf, "DRIFT_COMMAND"), "diff");

	/* A change needs its entry. */
	f = (struct finding){ .change = CHANGE_REMOVED, .after = &e };
	assert_int_equal(journal_fields_finding(&jf, "check", &f), -EINVAL);
}

static void test_journal_fields_finding_unjudged_has_no_verdict(void **state)
{
	(void)state;
	static struct journal_fields jf;
	struct entry a = file_entry("/etc/motd", 9), b = a;
	struct finding f = { .change = CHANGE_MODIFIED,
			     .before = &a,
			     .after = &b,
			     .changed = ATTR_SIZE | ATTR_HASH,
			     .counts = true };

	assert_int_equal(journal_fields_finding(&jf, "diff", &f), 0);
	assert_fields_sane(&jf);
	assert_string_equal(field(&jf, "MESSAGE"), "drift: /etc/motd modified (size, hash)");
	assert_string_equal(field(&jf, "PRIORITY"), "6");
	assert_null(field(&jf, "DRIFT_SEVERITY"));
	assert_null(field(&jf, "DRIFT_CLASS"));
	assert_null(field(&jf, "DRIFT_RULE"));
	assert_string_equal(field(&jf, "DRIFT_ATTRS"), "size,hash");
}

static void test_journal_fields_escape_control_bytes_and_invalid_utf8(void **state)
{
	(void)state;
	static struct journal_fields jf;
	static const char path[] = "/etc/a\nb\x01\xff\xe2\x80\xaetxt.exe";
	struct entry e = file_entry(path, sizeof(path) - 1);
	struct finding f = { .change = CHANGE_ADDED,
			     .after = &e,
			     .judged = true,
			     .class = CLASS_DRIFT,
			     .severity = SEVERITY_MEDIUM,
			     .rule_id = "etc\tx",
			     .reason = "new \x1b[31mfile" };

	assert_int_equal(journal_fields_finding(&jf, "check", &f), 0);
	assert_fields_sane(&jf);
	assert_string_equal(field(&jf, "DRIFT_PATH"), "/etc/a\\nb\\x01\\xff\\u202etxt.exe");
	assert_string_equal(field(&jf, "DRIFT_RULE"), "etc\\tx");
	assert_string_equal(field(&jf, "DRIFT_REASON"), "new \\x1b[31mfile");
	assert_string_equal(
		field(&jf, "MESSAGE"),
		"drift: medium: /etc/a\\nb\\x01\\xff\\u202etxt.exe added: rule etc\\tx: "
		"new \\x1b[31mfile");
	assert_string_equal(field(&jf, "PRIORITY"), "4");
}

/*
 * A path of @n bytes: "/", @shift letters, then "é" (2 bytes) repeated, so
 * that one of shift 0 and 1 puts a fixed cut inside a character.
 */
static char *long_path(size_t n, size_t shift)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	p[0] = '/';
	for (size_t i = 1; i < n; i++)
		p[i] = i <= shift ? 'a' : ((i - shift) % 2) ? '\xc3' : '\xa9';
	p[n] = '\0';
	return p;
}

static void test_journal_fields_cut_long_values_at_a_character(void **state)
{
	(void)state;
	static struct journal_fields jf;

	/* Both parities, so that the plain cut lands inside a character once. */
	for (size_t shift = 0; shift <= 1; shift++) {
		size_t n = 4001 + shift; /* whole characters: the escaped form is the bytes */
		char *path = long_path(n, shift);
		char *reason = long_path(n, shift);
		struct entry e = file_entry(path, n);
		struct finding f = { .change = CHANGE_REMOVED,
				     .before = &e,
				     .judged = true,
				     .class = CLASS_DRIFT,
				     .severity = SEVERITY_INFO,
				     .rule_id = reason,
				     .reason = reason };
		const char *v;
		size_t len;

		assert_int_equal(journal_fields_finding(&jf, "check", &f), 0);
		/* < 1 KB each, valid UTF-8: the cut never splits a character. */
		assert_fields_sane(&jf);
		for (size_t i = 0; i < jf.n; i++)
			assert_true(jf.iov[i].iov_len <= JOURNAL_FIELD_MAX - 1);
		v = field(&jf, "DRIFT_PATH");
		len = strlen(v);
		assert_true(len > 900);
		assert_string_equal(v + len - 3, "...");
		assert_memory_equal(v, path, len - 3);
		/* The message keeps the change and the rule after a long key. */
		v = field(&jf, "MESSAGE");
		assert_non_null(strstr(v, "... removed: rule /"));
		assert_string_equal(v + strlen(v) - 3, "...");
		v = field(&jf, "DRIFT_RULE");
		assert_string_equal(v + strlen(v) - 3, "...");
		free(path);
		free(reason);
	}
}

static void test_journal_fields_exact_fit_is_not_cut(void **state)
{
	(void)state;
	static struct journal_fields jf;
	/* "DRIFT_PATH=" is 11 bytes: a value of 1012 fills the field to 1023 bytes. */
	char *path = long_path(1012, 1); /* "/a" and 505 "é" */
	struct entry e = file_entry(path, 1012);
	struct finding f = { .change = CHANGE_ADDED, .after = &e };

	assert_int_equal(journal_fields_finding(&jf, "check", &f), 0);
	assert_int_equal(strlen(field(&jf, "DRIFT_PATH")), 1012);
	assert_memory_equal(field(&jf, "DRIFT_PATH"), path, 1012);
	free(path);
}

static void test_journal_fields_summary(void **state)
{
	(void)state;
	static struct journal_fields jf;
	struct report_counts c = { .added = 1,
				   .modified = 2,
				   .errors = 4,
				   .counted_added = 1,
				   .counted_modified = 1,
				   .expected = 1 };
	const char *line =
		"drift check: 3 deviations from baseline 'baseline' (#1): 1 high, 2 low; "
		"12345 entries checked";

	assert_int_equal(journal_fields_summary(&jf, "check", line, &c, 5), 0);
	assert_fields_sane(&jf);
	assert_string_equal(field(&jf, "MESSAGE"), line);
	assert_string_equal(field(&jf, "MESSAGE_ID"), JOURNAL_MESSAGE_ID_SUMMARY);
	assert_string_equal(field(&jf, "PRIORITY"), "4");
	assert_string_equal(field(&jf, "SYSLOG_IDENTIFIER"), "drift");
	assert_string_equal(field(&jf, "DRIFT_EXIT_STATUS"), "5");
	assert_string_equal(field(&jf, "DRIFT_ADDED"), "1");
	assert_string_equal(field(&jf, "DRIFT_REMOVED"), "0");
	assert_string_equal(field(&jf, "DRIFT_MODIFIED"), "2");
	assert_string_equal(field(&jf, "DRIFT_COUNTED"), "2");
	assert_string_equal(field(&jf, "DRIFT_EXPECTED"), "1");
	assert_string_equal(field(&jf, "DRIFT_UNREADABLE"), "4");

	c = (struct report_counts){ 0 };
	assert_int_equal(journal_fields_summary(&jf, "check", "drift check: no deviations", &c, 0),
			 0);
	assert_string_equal(field(&jf, "PRIORITY"), "6");
	assert_int_equal(journal_fields_summary(&jf, "check", "a line\n\x01", &c, 22), 0);
	assert_string_equal(field(&jf, "PRIORITY"), "3");
	assert_string_equal(field(&jf, "MESSAGE"), "a line\\x0a\\x01");
	assert_fields_sane(&jf);
}

static void test_journal_wants_drift_at_or_above_min(void **state)
{
	(void)state;
	struct entry a = file_entry("/x", 2), b = a;
	struct finding f = judged(&a, &b);

	assert_true(journal_wants(&f, SEVERITY_HIGH));
	assert_true(journal_wants(&f, SEVERITY_INFO));
	assert_false(journal_wants(&f, SEVERITY_CRITICAL));
	f.class = CLASS_EXPECTED;
	assert_false(journal_wants(&f, SEVERITY_INFO));
	f.class = CLASS_DRIFT;
	f.novelty = NOVELTY_RESOLVED;
	assert_false(journal_wants(&f, SEVERITY_INFO));
	f.novelty = NOVELTY_PERSISTING;
	assert_true(journal_wants(&f, SEVERITY_INFO));
	/* Unjudged: no severity, taken as info. */
	f.judged = false;
	assert_true(journal_wants(&f, SEVERITY_INFO));
	assert_false(journal_wants(&f, SEVERITY_LOW));
}

/* ---- the journal object, through the seam ---- */

static void test_journal_without_socket_opens_and_sends_nothing(void **state)
{
	(void)state;
	struct entry a = file_entry("/x", 2), b = a;
	struct finding f = judged(&a, &b);
	struct report_counts c = { 0 };
	struct journal *j = NULL;

	will_return(__wrap_journal_sys_available, false);
	assert_int_equal(journal_open(&j, SEVERITY_INFO, "check"), 0);
	assert_non_null(j);
	assert_false(journal_connected(j));
	/* __wrap_journal_sys_sendv() has no expectations queued: a call would fail the test. */
	assert_int_equal(journal_finding(j, &f), 0);
	assert_int_equal(journal_summary(j, "drift check: x", &c, 4), 0);
	journal_close(j);
	journal_close(NULL);
}

static void test_journal_sends_wanted_findings_and_latches_failure(void **state)
{
	(void)state;
	struct entry a = file_entry("/x", 2), b = a;
	struct finding f = judged(&a, &b), low = judged(&a, &b);
	struct report_counts c = { 0 };
	struct journal *j = NULL;

	low.severity = SEVERITY_LOW;
	will_return(__wrap_journal_sys_available, true);
	assert_int_equal(journal_open(&j, SEVERITY_MEDIUM, "check"), 0);
	assert_true(journal_connected(j));

	expect_string(__wrap_journal_sys_sendv, iov[0].iov_base,
		      "MESSAGE=drift: high: /x modified (mode, hash): rule setuid-binaries: "
		      "setuid bit added");
	will_return(__wrap_journal_sys_sendv, 0);
	assert_int_equal(journal_finding(j, &f), 0);
	assert_int_equal(journal_finding(j, &low), 0); /* below medium: no record, no call */

	expect_string(__wrap_journal_sys_sendv, iov[0].iov_base, "MESSAGE=drift check: 1");
	will_return(__wrap_journal_sys_sendv, 0);
	assert_int_equal(journal_summary(j, "drift check: 1", &c, 4), 0);

	/* The first failure is returned once; then nothing more is sent. */
	expect_any(__wrap_journal_sys_sendv, iov[0].iov_base);
	will_return(__wrap_journal_sys_sendv, -ECONNREFUSED);
	assert_int_equal(journal_finding(j, &f), -ECONNREFUSED);
	assert_int_equal(journal_finding(j, &f), 0);
	assert_int_equal(journal_summary(j, "drift check: 1", &c, 4), 0);
	journal_close(j);
}

/* Run cli_journal_open() with stderr into a file; returns what it printed (free()). */
static char *journal_open_stderr(const struct cli_args *args, struct journal **ret, int *ret_code)
{
	char path[] = "/tmp/drift-test-journal-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf = calloc(1, 4096);

	assert_true(fd >= 0 && saved >= 0 && buf);
	unlink(path);
	fflush(stderr);
	assert_true(dup2(fd, 2) == 2);
	*ret_code = cli_journal_open(args, "check", ret);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	assert_true(pread(fd, buf, 4095, 0) >= 0);
	close(fd);
	return buf;
}

static void test_cli_journal_open_warns_once_without_a_journal(void **state)
{
	(void)state;
	struct cli_args args = { .have_journal = true, .journal_severity = SEVERITY_HIGH };
	struct journal *j = (struct journal *)&args; /* must be overwritten */
	char *err;
	int code;

	will_return(__wrap_journal_sys_available, false);
	err = journal_open_stderr(&args, &j, &code);
	assert_int_equal(code, 0);
	assert_true(j != (struct journal *)&args);
	assert_false(journal_connected(j));
	assert_string_equal(err, "drift: warning: --journal: no systemd journal on this host "
				 "('/run/systemd/journal/socket' is not a socket), skipping\n");
	free(err);
	journal_close(j);

	/* Without --journal: no journal, no warning, no look at the socket. */
	args.have_journal = false;
	err = journal_open_stderr(&args, &j, &code);
	assert_int_equal(code, 0);
	assert_null(j);
	assert_string_equal(err, "");
	free(err);

	/* With a journal: quiet. */
	args.have_journal = true;
	will_return(__wrap_journal_sys_available, true);
	err = journal_open_stderr(&args, &j, &code);
	assert_int_equal(code, 0);
	assert_true(journal_connected(j));
	assert_string_equal(err, "");
	free(err);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_priority_maps_severities_to_syslog),
		cmocka_unit_test(test_journal_fields_finding_names_every_field),
		cmocka_unit_test(test_journal_fields_finding_added_and_other_kinds),
		cmocka_unit_test(test_journal_fields_finding_unjudged_has_no_verdict),
		cmocka_unit_test(test_journal_fields_escape_control_bytes_and_invalid_utf8),
		cmocka_unit_test(test_journal_fields_cut_long_values_at_a_character),
		cmocka_unit_test(test_journal_fields_exact_fit_is_not_cut),
		cmocka_unit_test(test_journal_fields_summary),
		cmocka_unit_test(test_journal_wants_drift_at_or_above_min),
		cmocka_unit_test(test_journal_without_socket_opens_and_sends_nothing),
		cmocka_unit_test(test_journal_sends_wanted_findings_and_latches_failure),
		cmocka_unit_test(test_cli_journal_open_warns_once_without_a_journal),
	};
	return cmocka_run_group_tests_name("cli/journal", tests, NULL, NULL);
}
