/*
 * A helper for tests/e2e/check_journal.py: writes the records of two
 * findings and a summary through cli/journal.c and the real libsystemd, and
 * says what journal_open() and each call returned:
 *
 *     connected 1
 *     finding 0
 *     finding 0
 *     summary 0
 *
 * The first finding's path has a newline, a control byte and invalid UTF-8,
 * and is 3000 bytes long; the second is below the minimum (low < high) and
 * gets no record.
 */
#include "cli/journal.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "compare/compare.h"
#include "report/report.h"

int main(void)
{
	static char path[3000];
	struct journal *j = NULL;
	struct entry a, b, c;
	struct finding f, low;
	struct report_counts counts = { .added = 1, .modified = 1, .counted_modified = 1 };
	int r;

	memset(path, 'x', sizeof(path));
	memcpy(path, "/usr/bin/a\nb\x01\xff", 14);
	a = (struct entry){
		.kind = ENTRY_FILE, .key = path, .key_len = sizeof(path), .mode = 0100755
	};
	b = a;
	c = (struct entry){ .kind = ENTRY_FILE, .key = "/etc/motd", .key_len = 9 };
	f = (struct finding){ .change = CHANGE_MODIFIED,
			      .before = &a,
			      .after = &b,
			      .changed = ATTR_MODE,
			      .judged = true,
			      .class = CLASS_DRIFT,
			      .severity = SEVERITY_CRITICAL,
			      .attrs = ATTR_MODE,
			      .reason = "setuid bit added",
			      .rule_id = "setuid-binaries" };
	low = (struct finding){ .change = CHANGE_ADDED,
				.after = &c,
				.judged = true,
				.class = CLASS_DRIFT,
				.severity = SEVERITY_LOW };

	r = journal_open(&j, SEVERITY_HIGH, "check");
	if (r < 0)
		return 1;
	printf("connected %d\n", journal_connected(j));
	printf("finding %d\n", journal_finding(j, &f));
	printf("finding %d\n", journal_finding(j, &low));
	printf("summary %d\n", journal_summary(j, "drift check: 2 deviations", &counts, 5));
	journal_close(j);
	return 0;
}
