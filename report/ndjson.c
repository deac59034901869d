/*
 * The ndjson report: one JSON object a line (docs/json-report.md, "ndjson"),
 * for tools that stream (jq -c, log shippers, line-oriented stores):
 *
 *     {"type": "report", "drift_report": 1, "tool": ..., "summary": ...}
 *     {"type": "finding", "kind": "file", "path": "/etc/a", ...}
 *     {"type": "unreadable", "kind": "file", "path": "/etc/shadow", ...}
 *     {"type": "resolved", "kind": "file", "path": "/etc/b", ...}
 *
 * Every record but the first is the JSON report's own object (json.c
 * renders both), with "type" first: a finding is exactly an element of the
 * JSON document's "deviations", an unreadable entry one of "unreadable". The
 * first record holds the document's members before its arrays; it can come
 * first because the findings are spooled (report.c) and every count is
 * known by the time anything is written. JSON escapes every control byte, so
 * no record holds a raw newline.
 */
#include "report/report.h"

#include <errno.h>

#include "report/internal.h"
#include "common/strbuf.h"
#include "common/banned.h"

static int ndjson_deviation(struct report *rep, const struct finding *f, struct strbuf *out)
{
	const char *type = f->novelty == NOVELTY_RESOLVED ? "resolved" : "finding";
	int r;

	r = report_json_add_finding(rep, f, type, out);
	if (r < 0)
		return r;
	return strbuf_addch(out, '\n');
}

static int ndjson_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	int r;

	(void)rep;
	r = report_json_add_unreadable(e, "unreadable", out);
	if (r < 0)
		return r;
	return strbuf_addch(out, '\n');
}

static int ndjson_write(struct report *rep, struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	int r;

	strbuf_reset(sb);
	r = report_json_add_head(rep, "report", sb);
	if (r < 0)
		return r;
	if (strbuf_adds(sb, "}\n") < 0)
		return -ENOMEM;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;
	/* The JSON document's order: deviations by group, then unreadable entries;
	 * then what --since-last found resolved. */
	for (unsigned s = 0; s < SECTION__COUNT; s++) {
		r = report_spool_copy(rep, (enum report_section)s, 0, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

const struct report_renderer report_ndjson_renderer = {
	.deviation = ndjson_deviation,
	.error = ndjson_error,
	.write = ndjson_write,
};
