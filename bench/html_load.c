/*
 * html_load: write an HTML report of N synthetic findings (default 100,000)
 * for bench/html_load.py to time in Chromium, and for the e2e test to load.
 *
 *     html_load [N] > report.html
 *
 * The findings are what a large check looks like: files in directories of
 * 100, of every change and severity, a fifth expected, a third owned by a
 * package, modified ones with two changed attributes, every 1000th with a
 * hostile name, and one unreadable entry per 1000. Times are fixed, so the
 * output is the same on every run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/report.h"
#include "compare/compare.h"
#include "common/diag.h"
#include "common/banned.h"

#define SEC INT64_C(1000000000)

static char s_base[] = "baseline", s_check[] = "nightly", s_host[] = "bench.example.org";

int main(int argc, char **argv)
{
	static const char *const reasons[] = { "content changed", "new file", "removed",
					       "mode changed", "owner changed" };
	static const char *const pkgs[] = { "coreutils:amd64", "openssh-server:amd64",
					    "nginx:amd64", "libc6:amd64" };
	const struct snap_info before = { .id = 1,
					  .label = s_base,
					  .complete = true,
					  .host = s_host,
					  .hash = HASH_XXH3_128,
					  .started_ns = 1795619402 * SEC,
					  .entries = 250000 };
	const struct snap_info after = { .id = 2,
					 .label = s_check,
					 .complete = true,
					 .host = s_host,
					 .hash = HASH_XXH3_128,
					 .started_ns = 1795662900 * SEC,
					 .entries = 250000 };
	struct report_meta meta = { .command = "check",
				    .database = "/var/lib/drift/drift.db",
				    .before = &before,
				    .after = &after,
				    .generated_ns = 1795662943 * SEC,
				    .tool_version = "bench" };
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	struct diag diag = { 0 };
	struct report *rep;
	char key[256];
	int r;

	r = report_new(REPORT_HTML, stdout, &meta, &rep, &diag);
	if (r < 0) {
		fprintf(stderr, "html_load: %s\n", diag.msg);
		return 1;
	}
	for (unsigned long i = 0; i < n && r == 0; i++) {
		struct entry o = { .kind = ENTRY_FILE,
				   .mode = S_IFREG | 0644,
				   .size = 4096,
				   .mtime_ns = 1795000000 * SEC,
				   .ctime_ns = 1795000000 * SEC,
				   .nlink = 1,
				   .hash_algo = HASH_XXH3_128,
				   .hash_len = 16 };
		struct entry nw;
		enum change change = (enum change)(i % 3);
		struct finding f = { .change = change, .judged = true, .counts = true };

		if (i % 1000 == 999)
			snprintf(key, sizeof(key),
				 "/srv/d%04lu/</script><img src=x onerror=alert(%lu)>", i / 100, i);
		else
			snprintf(key, sizeof(key), "/srv/d%04lu/file-%06lu.conf", i / 100, i);
		o.key = key;
		o.key_len = strlen(key);
		o.hash[0] = (uint8_t)i;
		nw = o;
		nw.mode = S_IFREG | 0600;
		nw.hash[1] = 0xff;
		nw.size = 8192;
		f.before = change == CHANGE_ADDED ? NULL : &o;
		f.after = change == CHANGE_REMOVED ? NULL : &nw;
		f.changed = f.attrs = change == CHANGE_MODIFIED ? ATTR_MODE | ATTR_HASH : 0;
		f.class = i % 5 == 4 ? CLASS_EXPECTED : CLASS_DRIFT;
		f.counts = f.class == CLASS_DRIFT;
		f.severity = (enum severity)(i % 7 % 5);
		f.rule_id = "srv";
		f.rule_file = "/etc/drift/policy.yaml";
		f.rule_line = 3;
		f.reason = reasons[i % 5];
		if (i % 3 == 1) {
			f.package.name = pkgs[i % 4];
			f.package.before_version = "1.0-1";
			f.package.after_version = i % 2 ? "1.0-2" : "1.0-1";
		}
		f.novelty = i % 4 == 0 ? NOVELTY_NEW : NOVELTY_PERSISTING;
		r = report_add_finding(rep, &f);
		if (r == 0 && i % 1000 == 500) {
			o.err = EACCES;
			r = report_add_error(rep, &o);
		}
	}
	if (r == 0)
		r = report_finish(rep, &diag);
	report_free(rep);
	if (r < 0) {
		fprintf(stderr, "html_load: %s (%d)\n", diag.msg[0] ? diag.msg : "failed", r);
		return 1;
	}
	return 0;
}
