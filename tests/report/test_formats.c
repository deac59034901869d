/*
 * Unit tests of the ndjson, JUnit and Prometheus reports (report/ndjson.c,
 * junit.c, prometheus.c): golden files of the shared fixtures and of a
 * hostile one (names and rules with newlines, control bytes, invalid
 * UTF-8, markup, terminal escapes) in tests/golden/ (DRIFT_UPDATE_GOLDEN=1
 * rewrites them); each output through its checker
 * (tests/report/validate_{ndjson,junit,prometheus}.py) against the JSON
 * report of the same run; grouping by rule with many findings, memory that
 * stays flat, and the failure contract (write and spool failures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "report/report.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/diag.h"
#include "tests/report/fixture.h"

#if !defined(VALIDATE_NDJSON) || !defined(VALIDATE_JUNIT) || !defined(VALIDATE_PROMETHEUS) || \
	!defined(PYTHON_FULL)
#error "the validators and their python are set in tests/report/meson.build"
#endif

static char *render(enum report_format format, const struct report_meta *meta, fx_add_fn *add,
		    size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(fx_render(format, meta, add, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
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

/* No byte of @buf is a control character but the newline (nor DEL). */
static void assert_no_raw_controls(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\n') || buf[i] == 0x7f) {
			print_error("raw control byte 0x%02x at %zu\n", (unsigned char)buf[i], i);
			fail();
		}
}

/*
 * Run validator @script on @buf with the JSON report @json of the same run
 * (NULL: none). Returns its exit status; 77 (a module is missing) prints
 * why and counts as passing.
 */
static int validate(const char *script, const char *buf, size_t len, const char *json,
		    size_t json_len)
{
	char *path = fx_write_temp(buf, len), *jpath = json ? fx_write_temp(json, json_len) : NULL;
	char cmd[2048];
	int status, code;

	if (system("command -v '" PYTHON_FULL "' >/dev/null 2>&1") != 0) {
		print_message("%s missing: not validated\n", PYTHON_FULL);
		code = 0;
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "'%s' '%s' %s%s%s '%s'", PYTHON_FULL, script,
		 jpath ? "--json '" : "", jpath ? jpath : "", jpath ? "'" : "", path);
	status = system(cmd);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == 77) {
		print_message("%s skipped (a python module is missing)\n", script);
		code = 0;
	}
out:
	unlink(path);
	free(path);
	if (jpath) {
		unlink(jpath);
		free(jpath);
	}
	return code;
}

/* Render @format and JSON of the same run; golden-check and validate the first. */
static char *check_format(enum report_format format, const char *script,
			  const struct report_meta *meta, fx_add_fn *add, const char *golden,
			  size_t *ret_len)
{
	size_t len, jlen;
	char *buf = render(format, meta, add, &len);
	char *json = render(REPORT_JSON, meta, add, &jlen);

	if (golden)
		fx_golden_check(golden, buf, len);
	assert_int_equal(validate(script, buf, len, json, jlen), 0);
	free(json);
	*ret_len = len;
	return buf;
}

/* ---- a hostile fixture ---- */

static char h_label[] = "base\"line\\\n<b>\x1b[31m", h_check_label[] = "]]></testcase>",
	    h_host[] = "<img src=x onerror=alert(1)>";
static struct snap_info h_baseline, h_check;

static void meta_hostile(struct report_meta *ret_meta)
{
	fx_meta_check(ret_meta);
	h_baseline = fx_baseline;
	h_baseline.label = h_label;
	h_check = fx_check;
	h_check.label = h_check_label;
	h_check.host = h_host;
	ret_meta->before = &h_baseline;
	ret_meta->after = &h_check;
	ret_meta->database = "/var/lib/drift/<db>&\"x\".db";
}

static struct entry hfile(const char *key, size_t len)
{
	return (struct entry){ .kind = ENTRY_FILE,
			       .key = key,
			       .key_len = len,
			       .mode = S_IFREG | 0644,
			       .size = 7,
			       .nlink = 1 };
}

static struct fx_verdict hverdict(const char *cls, unsigned rank, const char *rule,
				  const char *reason, uint32_t attrs)
{
	return (struct fx_verdict){ .class_name = cls,
				    .counts = strcmp(cls, "expected") != 0,
				    .severity_rank = rank,
				    .rule_id = rule,
				    .rule_title = rule ? "t<\"'&>\x1b[1m" : NULL,
				    .reason = reason,
				    .attrs = attrs };
}

#define HKEY(s) (s), sizeof(s) - 1

/*
 * In key (byte) order:
 *   /srv/\x1b[31mred              modified  high      [etc] reason with invalid UTF-8
 *   /srv/<img src=x ...>          added     critical  [r]]></testcase>...] reason with newline
 *   /srv/]]>cdata                 added     expected  [etc]
 *   /srv/nl\nname                 removed   no verdict
 *   /srv/nonchar\xef\xbf\xbe      added     low       no rule (U+FFFE)
 *   /srv/\xff\xfe-latin1          modified  medium    [etc] package with markup
 *   unreadable: /srv/</testcase>\x01; a note with escapes and markup
 */
static int add_hostile(struct report *rep)
{
	struct fx_owner owner = { .package = "pkg<&>:amd64",
				  .old_version = "1.0\x1b[0m",
				  .new_version = "2.0" };
	struct entry o, n;
	struct fx_verdict v;
	int r;

	o = hfile(HKEY("/srv/\x1b[31mred"));
	n = o;
	n.mode = S_IFREG | 0600;
	v = hverdict("drift", 3, "etc", "\xff\xfe bad utf8 \x1b[0m", ATTR_MODE);
	r = fx_add_verdict(rep, &(struct deviation){ CHANGE_MODIFIED, &o, &n, ATTR_MODE }, &v);
	if (r < 0)
		return r;
	n = hfile(HKEY("/srv/<img src=x onerror=alert(1)>"));
	v = hverdict("drift", 4, "r]]></testcase>\x1b[31m<x>", "line1\nline2 </failure> & ' \"", 0);
	r = fx_add_verdict(rep, &(struct deviation){ CHANGE_ADDED, NULL, &n, 0 }, &v);
	if (r < 0)
		return r;
	n = hfile(HKEY("/srv/]]>cdata"));
	v = hverdict("expected", 0, "etc", "expected ]]> <![CDATA[x]]>", 0);
	r = fx_add_verdict(rep, &(struct deviation){ CHANGE_ADDED, NULL, &n, 0 }, &v);
	if (r < 0)
		return r;
	o = hfile(HKEY("/srv/nl\nname"));
	r = fx_add(rep, &(struct deviation){ CHANGE_REMOVED, &o, NULL, 0 });
	if (r < 0)
		return r;
	n = hfile(HKEY("/srv/nonchar\xef\xbf\xbe"));
	v = hverdict("drift", 1, NULL, "U+FFFE", 0);
	r = fx_add_verdict(rep, &(struct deviation){ CHANGE_ADDED, NULL, &n, 0 }, &v);
	if (r < 0)
		return r;
	o = hfile(HKEY("/srv/\xff\xfe-latin1"));
	n = o;
	n.size = 8;
	v = hverdict("drift", 2, "etc", "content", ATTR_SIZE);
	r = fx_add_attributed(rep, &(struct deviation){ CHANGE_MODIFIED, &o, &n, ATTR_SIZE }, &v,
			      &owner);
	if (r < 0)
		return r;
	n = hfile(HKEY("/srv/</testcase>\x01"));
	n.err = EACCES;
	r = report_add_error(rep, &n);
	if (r < 0)
		return r;
	return report_add_note(rep, "note \x1b[2J <script>alert(1)</script> &amp; \xff");
}

/* ---- ndjson ---- */

static void test_ndjson_goldens_are_the_json_reports_a_record_a_line(void **state)
{
	static const struct {
		void (*meta)(struct report_meta *);
		fx_add_fn *add;
		const char *golden;
	} cases[] = {
		{ fx_meta_check, fx_add_nothing, "check-clean.ndjson" },
		{ fx_meta_check, fx_add_mixed, "check-mixed.ndjson" },
		{ fx_meta_check_policy, fx_add_classified, "check-classified.ndjson" },
		{ fx_meta_check, fx_add_system, "check-system.ndjson" },
		{ fx_meta_diff, fx_add_weird, "diff-weird-names.ndjson" },
		{ fx_meta_verify, fx_add_verify, "verify.ndjson" },
		{ meta_hostile, add_hostile, "check-hostile.ndjson" },
	};
	struct report_meta meta;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len, lines = 0;
		char *buf;

		cases[i].meta(&meta);
		buf = check_format(REPORT_NDJSON, VALIDATE_NDJSON, &meta, cases[i].add,
				   cases[i].golden, &len);
		assert_no_raw_controls(buf, len);
		for (size_t k = 0; k < len; k++)
			lines += buf[k] == '\n';
		assert_true(lines >= 1);
		assert_true(!strncmp(buf, "{\"type\": \"report\", \"drift_report\": 1, ", 38));
		free(buf);
	}
}

static void test_ndjson_records_are_the_json_objects(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(REPORT_NDJSON, &meta, fx_add_mixed, &len);
	/* The head: one line, counts first known; then the records in order. */
	assert_contains(buf, "\"summary\": {\"added\": 4, \"removed\": 2, \"modified\": 9, "
			     "\"total\": 15, ");
	assert_contains(buf, "\"entries_checked\": 1234}}\n{\"type\": \"finding\", \"kind\": "
			     "\"file\", \"path\": \"/etc/cron.d/backup\", \"change\": \"added\", ");
	assert_contains(buf,
			"\n{\"type\": \"unreadable\", \"kind\": \"file\", \"path\": "
			"\"/etc/shadow\", \"error\": \"Permission denied\", \"errno\": 13}\n"
			"{\"type\": \"unreadable\", \"kind\": \"file\", \"path\": "
			"\"/etc/vanished\", \"error\": \"Input/output error\", \"errno\": 5}\n");
	assert_int_equal(buf[len - 1], '\n');
	free(buf);
}

/* A finding the previous run had and this one has not (--since-last). */
static int add_with_resolved(struct report *rep)
{
	struct entry e = hfile(HKEY("/etc/gone"));
	struct entry a = hfile(HKEY("/etc/new"));
	struct finding f = { .change = CHANGE_ADDED, .after = &a, .counts = true };
	int r;

	r = report_add_finding(rep, &f);
	if (r < 0)
		return r;
	f = (struct finding){
		.change = CHANGE_REMOVED, .before = &e, .counts = true, .novelty = NOVELTY_RESOLVED
	};
	return report_add_finding(rep, &f);
}

static void test_formats_resolved_findings_are_ndjson_records_only(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	meta.since_last = true;
	meta.since_run = 3;
	buf = check_format(REPORT_NDJSON, VALIDATE_NDJSON, &meta, add_with_resolved, NULL, &len);
	assert_contains(buf, "\"total\": 1, ");
	assert_contains(buf, "\n{\"type\": \"resolved\", \"kind\": \"file\", \"path\": "
			     "\"/etc/gone\", \"change\": \"removed\", ");
	free(buf);

	/* Not this run's: not a JUnit failure, not counted in the metrics. */
	buf = check_format(REPORT_JUNIT, VALIDATE_JUNIT, &meta, add_with_resolved, NULL, &len);
	assert_null(strstr(buf, "/etc/gone"));
	free(buf);
	buf = check_format(REPORT_PROMETHEUS, VALIDATE_PROMETHEUS, &meta, add_with_resolved, NULL,
			   &len);
	assert_contains(buf, "drift_findings_changes{command=\"check\",change=\"removed\"} 0\n");
	free(buf);
}

/* ---- junit ---- */

static void test_junit_goldens_validate(void **state)
{
	static const struct {
		void (*meta)(struct report_meta *);
		fx_add_fn *add;
		const char *golden;
	} cases[] = {
		{ fx_meta_check, fx_add_nothing, "check-clean.junit.xml" },
		{ fx_meta_check_policy, fx_add_classified, "check-classified.junit.xml" },
		{ fx_meta_check, fx_add_system, "check-system.junit.xml" },
		{ fx_meta_diff, fx_add_weird, "diff-weird-names.junit.xml" },
		{ fx_meta_verify, fx_add_verify, "verify.junit.xml" },
		{ meta_hostile, add_hostile, "check-hostile.junit.xml" },
	};
	struct report_meta meta;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf;

		cases[i].meta(&meta);
		buf = check_format(REPORT_JUNIT, VALIDATE_JUNIT, &meta, cases[i].add,
				   cases[i].golden, &len);
		assert_no_raw_controls(buf, len);
		free(buf);
	}
}

static void test_junit_groups_by_rule_and_fails_what_counts(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check_policy(&meta);
	buf = render(REPORT_JUNIT, &meta, fx_add_classified, &len);
	/* Rules by id, then the classes' cases, then unreadable. */
	assert_contains(buf,
			"<testsuites name=\"drift check\" tests=\"8\" failures=\"5\" "
			"errors=\"1\" time=\"42.749\">\n  <testsuite name=\"drift check\" "
			"tests=\"8\" failures=\"5\" errors=\"1\" skipped=\"0\" time=\"42.749\" "
			"timestamp=\"2026-11-26T03:15:43\" hostname=\"web1.example.org\">\n");
	assert_contains(buf,
			"    <testcase name=\"bin\" classname=\"drift.check.rule\">\n"
			"      <failure message=\"2 findings: 2 critical\" type=\"critical\">"
			"[critical] modified /usr/bin/ping (xattrs, acl, caps, selinux, mime): "
			"capabilities changed\n[critical] modified /usr/bin/su (mode): setuid "
			"bit set\n</failure>\n    </testcase>\n");
	/* Expected findings pass, listed in system-out. */
	assert_contains(buf,
			"    <testcase name=\"logs\" classname=\"drift.check.rule\">\n"
			"      <system-out>[info] modified /var/log/syslog (size, mtime): grew "
			"(expected)\n</system-out>\n    </testcase>\n");
	assert_contains(buf, "    <testcase name=\"drift\" classname=\"drift.check\">\n"
			     "      <failure message=\"1 finding: 1 low\" type=\"low\">");
	assert_contains(buf, "    <testcase name=\"unclassified\" classname=\"drift.check\">\n"
			     "      <failure message=\"1 finding: 1 unclassified\" type=\"drift\">"
			     "modified /etc/motd (size)\n</failure>\n");
	assert_contains(buf,
			"    <testcase name=\"unreadable\" classname=\"drift.check\">\n"
			"      <error message=\"1 entry could not be read\" type=\"unreadable\">"
			"/var/log/secret: Permission denied\n</error>\n    </testcase>\n"
			"  </testsuite>\n</testsuites>\n");
	free(buf);

	/* --min-severity high: fewer cases, and a property says how many were left out. */
	meta.have_min_severity = true;
	meta.min_severity = SEVERITY_HIGH;
	buf = render(REPORT_JUNIT, &meta, fx_add_classified, &len);
	assert_contains(buf, "tests=\"5\" failures=\"3\" errors=\"1\"");
	assert_contains(buf, "<property name=\"drift.findings_not_shown\" value=\"4\"/>\n"
			     "    </properties>\n");
	free(buf);
	meta.have_min_severity = false;

	/* --fail-on high: the medium and lower drift passes, listed as output. */
	meta.have_fail_on = true;
	meta.fail_on = SEVERITY_HIGH;
	buf = render(REPORT_JUNIT, &meta, fx_add_classified, &len);
	assert_contains(buf, "    <testcase name=\"tmp\" classname=\"drift.check.rule\">\n"
			     "      <system-out>[info] added /var/tmp/f\n</system-out>\n");
	free(buf);
}

static void test_junit_hostile_strings_are_escaped(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	meta_hostile(&meta);
	buf = render(REPORT_JUNIT, &meta, add_hostile, &len);
	assert_no_raw_controls(buf, len);
	assert_null(strstr(buf, "<img"));
	assert_null(strstr(buf, "]]>"));
	assert_null(strstr(buf, "<script"));
	assert_null(strstr(buf, "\xef\xbf\xbe"));
	assert_contains(buf, "hostname=\"&lt;img src=x onerror=alert(1)&gt;\"");
	assert_contains(buf, "<testcase name=\"r]]&gt;&lt;/testcase&gt;\\x1b[31m&lt;x&gt;\" "
			     "classname=\"drift.check.rule\">");
	assert_contains(buf, "[critical] added /srv/&lt;img src=x onerror=alert(1)&gt;: "
			     "line1\\nline2 &lt;/failure&gt; &amp; &apos; &quot;\n");
	assert_contains(buf, "[high] modified /srv/\\x1b[31mred (mode): \\xff\\xfe bad utf8 "
			     "\\x1b[0m\n");
	assert_contains(buf, "/srv/nonchar\\ufffe");
	assert_contains(buf, "removed /srv/nl\\nname\n");
	assert_contains(buf, "(package pkg&lt;&amp;&gt;:amd64)");
	assert_contains(buf, "/srv/&lt;/testcase&gt;\\x01: Permission denied\n");
	assert_contains(buf, "<property name=\"drift.old\" value=\"base&quot;line\\\\\\n&lt;b&gt;"
			     "\\x1b[31m (#1)\"/>");
	assert_contains(buf, "note: note \\x1b[2J &lt;script&gt;alert(1)&lt;/script&gt; "
			     "&amp;amp; \\xff\n");
	free(buf);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * 90,000 findings of three rules, interleaved as keys come: each rule's
 * case lists its 30,000 in key order, the lines through the spool's chunks
 * intact; the heap (outside ASan) grows by the chunk lists only.
 */
static void test_junit_many_findings_group_on_disk(void **state)
{
	enum { N = 90000 };
	static const char *const rules[] = { "r0", "r1", "r2" };
	struct report_meta meta;
	struct report *rep = NULL;
	struct entry e = hfile("", 0);
	struct fx_verdict v = hverdict("drift", 3, NULL, "new", 0);
	size_t heap_early = 0, len = 0;
	char key[64], *buf = NULL;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_JUNIT, f, &meta, &rep, NULL), 0);
	for (unsigned i = 0; i < N; i++) {
		e.key = key;
		e.key_len = (size_t)snprintf(key, sizeof(key), "/data/file%08u", i);
		v.rule_id = rules[i % 3];
		assert_int_equal(
			fx_add_verdict(rep, &(struct deviation){ CHANGE_ADDED, NULL, &e, 0 }, &v),
			0);
		if (i == 2999)
			heap_early = heap_in_use();
	}
	if (!fx_under_asan())
		assert_true(heap_in_use() < heap_early + 256 * 1024);
	assert_int_equal(report_finish(rep, NULL), 0);
	report_free(rep);
	assert_int_equal(fclose(f), 0);

	for (unsigned k = 0; k < 3; k++) {
		char head[128], want[64];
		const char *p, *end;
		unsigned i = k;

		snprintf(head, sizeof(head),
			 "<testcase name=\"%s\" classname=\"drift.check.rule\">\n"
			 "      <failure message=\"%u findings: %u high\" type=\"high\">",
			 rules[k], N / 3, N / 3);
		p = strstr(buf, head);
		assert_non_null(p);
		p += strlen(head);
		end = strstr(p, "</failure>");
		assert_non_null(end);
		for (; p < end; i += 3) {
			int n = snprintf(want, sizeof(want), "[high] added /data/file%08u: new\n",
					 i);

			assert_true(p + n <= end);
			assert_memory_equal(p, want, (size_t)n);
			p += n;
		}
		assert_int_equal(i, N + k);
	}
	free(buf);
}

/* A junit spool that cannot be written fails the finding with -EIO, and every later one. */
static void test_junit_spool_failure_is_eio_and_sticky(void **state)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct diag diag = { 0 };
	struct entry e = hfile(HKEY("/a/rather/long/path/to/fill/the/junit/spool/quickly"));
	struct fx_verdict v = hverdict("drift", 3, "etc", "new", 0);
	const struct deviation d = { CHANGE_ADDED, NULL, &e, 0 };
	struct rlimit old, small;
	void (*old_handler)(int);
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int r = 0;

	(void)state;
	assert_non_null(f);
	fx_meta_check(&meta);
	assert_int_equal(report_new(REPORT_JUNIT, f, &meta, &rep, NULL), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	small = old;
	small.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (i = 0; i < 100000 && r == 0; i++)
		r = fx_add_verdict(rep, &d, &v);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(r, -EIO);
	assert_true(i < 100000);
	assert_int_equal(fx_add_verdict(rep, &d, &v), -EIO);
	assert_int_equal(report_finish(rep, &diag), -EIO);
	assert_string_equal(diag.msg,
			    "cannot write the temporary file of the report: File too large");
	report_free(rep);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

/* ---- prometheus ---- */

static void test_prometheus_goldens_agree_with_the_json_reports(void **state)
{
	static const struct {
		void (*meta)(struct report_meta *);
		fx_add_fn *add;
		const char *golden;
	} cases[] = {
		{ fx_meta_check, fx_add_nothing, "check-clean.prom" },
		{ fx_meta_check, fx_add_mixed, "check-mixed.prom" },
		{ fx_meta_check_policy, fx_add_classified, "check-classified.prom" },
		{ fx_meta_check, fx_add_system, "check-system.prom" },
		{ fx_meta_diff, fx_add_weird, "diff-weird-names.prom" },
		{ fx_meta_verify, fx_add_verify, "verify.prom" },
		{ meta_hostile, add_hostile, "check-hostile.prom" },
	};
	struct report_meta meta;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf;

		cases[i].meta(&meta);
		buf = check_format(REPORT_PROMETHEUS, VALIDATE_PROMETHEUS, &meta, cases[i].add,
				   cases[i].golden, &len);
		assert_no_raw_controls(buf, len);
		free(buf);
	}
}

static void test_prometheus_series_and_labels(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check_policy(&meta);
	buf = render(REPORT_PROMETHEUS, &meta, fx_add_classified, &len);
	assert_contains(buf, "# HELP drift_findings ");
	assert_contains(buf, "# TYPE drift_findings gauge\n"
			     "drift_findings{command=\"check\",class=\"expected\",severity="
			     "\"critical\"} 0\n");
	assert_contains(buf, "drift_findings{command=\"check\",class=\"expected\",severity="
			     "\"high\"} 1\n");
	assert_contains(buf, "drift_findings{command=\"check\",class=\"drift\",severity="
			     "\"critical\"} 2\n");
	assert_contains(buf, "drift_findings{command=\"check\",class=\"violation\",severity="
			     "\"info\"} 0\n");
	assert_contains(buf, "drift_findings{command=\"check\",class=\"drift\",severity=\"none\"} "
			     "1\n");
	assert_contains(buf, "drift_findings_counted{command=\"check\"} 7\n");
	assert_contains(buf, "drift_scan_duration_seconds{command=\"check\"} 42.749999999\n");
	assert_contains(buf, "drift_last_run_timestamp_seconds{command=\"check\"} "
			     "1795662943.123456789\n");
	assert_contains(buf, "drift_report_info{command=\"check\",baseline=\"baseline\",host="
			     "\"web1.example.org\",version=\"0.1.0-test\"} 1\n");
	free(buf);

	/* --min-severity hides findings, not their counts. */
	meta.have_min_severity = true;
	meta.min_severity = SEVERITY_CRITICAL;
	buf = render(REPORT_PROMETHEUS, &meta, fx_add_classified, &len);
	assert_contains(buf, "drift_findings{command=\"check\",class=\"drift\",severity="
			     "\"info\"} 1\n");
	free(buf);

	/* Before 1970, and a diff whose second snapshot is incomplete: no duration. */
	fx_meta_diff(&meta);
	buf = render(REPORT_PROMETHEUS, &meta, fx_add_nothing, &len);
	assert_contains(buf, "drift_last_run_timestamp_seconds{command=\"diff\"} -0.000000001\n");
	assert_null(strstr(buf, "drift_scan_duration_seconds"));
	assert_contains(buf, "baseline=\"pre\",host=\"db\\\"1\\\"\",");
	free(buf);
}

static void test_prometheus_hostile_labels_stay_on_their_line(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	meta_hostile(&meta);
	buf = render(REPORT_PROMETHEUS, &meta, add_hostile, &len);
	assert_no_raw_controls(buf, len);
	/* display form base"line\\\n<b>\x1b[31m, then the format's escapes */
	assert_contains(buf,
			"baseline=\"base\\\"line\\\\\\\\\\\\n<b>\\\\x1b[31m\",host=\"<img src=x "
			"onerror=alert(1)>\",");
	free(buf);
}

/* ---- all three ---- */

static void check_dev_full(enum report_format format, unsigned n)
{
	struct report_meta meta;
	struct report *rep = NULL;
	struct diag diag = { 0 };
	struct entry e = hfile(HKEY("/some/rather/long/path/to/fill/buffers"));
	struct fx_verdict v = hverdict("drift", 3, "etc", "new", 0);
	FILE *full = fopen("/dev/full", "w");

	assert_non_null(full);
	fx_meta_check(&meta);
	assert_int_equal(report_new(format, full, &meta, &rep, &diag), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(
			fx_add_verdict(rep, &(struct deviation){ CHANGE_ADDED, NULL, &e, 0 }, &v),
			0);
	assert_int_equal(report_finish(rep, &diag), -EIO);
	assert_string_equal(diag.msg, "cannot write report: No space left on device");
	report_free(rep);
	fclose(full);
}

static void test_formats_finish_to_dev_full_is_eio(void **state)
{
	FILE *full = fopen("/dev/full", "w");

	(void)state;
	if (!full)
		tap_skip("cannot open /dev/full");
	fclose(full);
	check_dev_full(REPORT_NDJSON, 0);
	check_dev_full(REPORT_NDJSON, 20000);
	check_dev_full(REPORT_JUNIT, 0);
	check_dev_full(REPORT_JUNIT, 20000);
	check_dev_full(REPORT_PROMETHEUS, 0);
	check_dev_full(REPORT_PROMETHEUS, 20000);
}

/* The hostile fixture's JSON report, a golden of its own (validate_json.py checks it). */
static void test_formats_hostile_json_golden(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	meta_hostile(&meta);
	buf = render(REPORT_JSON, &meta, add_hostile, &len);
	fx_golden_check("check-hostile.json", buf, len);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_hostile_json_golden),
		cmocka_unit_test(test_ndjson_goldens_are_the_json_reports_a_record_a_line),
		cmocka_unit_test(test_ndjson_records_are_the_json_objects),
		cmocka_unit_test(test_formats_resolved_findings_are_ndjson_records_only),
		cmocka_unit_test(test_junit_goldens_validate),
		cmocka_unit_test(test_junit_groups_by_rule_and_fails_what_counts),
		cmocka_unit_test(test_junit_hostile_strings_are_escaped),
		cmocka_unit_test(test_junit_many_findings_group_on_disk),
		cmocka_unit_test(test_junit_spool_failure_is_eio_and_sticky),
		cmocka_unit_test(test_prometheus_goldens_agree_with_the_json_reports),
		cmocka_unit_test(test_prometheus_series_and_labels),
		cmocka_unit_test(test_prometheus_hostile_labels_stay_on_their_line),
		cmocka_unit_test(test_formats_finish_to_dev_full_is_eio),
	};
	return tap_run_group_tests_name("report/formats", tests, NULL, NULL);
}
