/*
 * The Prometheus report: node_exporter's textfile-collector format (the
 * text exposition format 0.0.4), counts only, for dashboards and alerts:
 *
 *     # HELP drift_findings Findings of the last run, by class and severity ...
 *     # TYPE drift_findings gauge
 *     drift_findings{command="check",class="drift",severity="critical"} 2
 *     ...
 *
 * Every series is always written, zeros included, so that a series does not
 * vanish when its count drops to nothing (an alert on it would silently
 * resolve). Every series carries the command, so that the files of `drift
 * check` and `drift verify` can sit side by side in the collector's
 * directory without clashing. Findings need no rendering: the item is
 * empty and the counts come from the report object, which counts the
 * findings --min-severity leaves out too. Label values are display forms
 * (common/escape.h: valid UTF-8, no control byte), escaped as the format
 * wants (backslash, double quote, newline).
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "report/internal.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* A label value: the display form of @s, escaped for the exposition format. */
static int prom_add_label_value(struct strbuf *out, struct strbuf *tmp, const char *s)
{
	size_t start = 0;

	strbuf_reset(tmp);
	if (escape_display(tmp, s, strlen(s)) < 0 || strbuf_addch(out, '"') < 0)
		return -ENOMEM;
	for (size_t i = 0; i < tmp->len; i++) {
		const char *esc = tmp->buf[i] == '\\'   ? "\\\\"
				  : tmp->buf[i] == '"'  ? "\\\""
				  : tmp->buf[i] == '\n' ? "\\n"
							: NULL;

		if (!esc)
			continue;
		if (strbuf_add(out, tmp->buf + start, i - start) < 0 || strbuf_adds(out, esc) < 0)
			return -ENOMEM;
		start = i + 1;
	}
	if (strbuf_add(out, tmp->buf + start, tmp->len - start) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '"');
}

/* Nanoseconds as decimal seconds, exactly: "1795662943.123456789", "-0.000000001". */
static int prom_add_seconds(struct strbuf *out, int64_t ns)
{
	uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	return strbuf_addf(out, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", u / 1000000000,
			   u % 1000000000);
}

static int prom_add_family(struct strbuf *out, const char *name, const char *help)
{
	return strbuf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* `NAME{command="C"` (the caller adds more labels, then "} VALUE\n"). */
static int prom_add_series(struct report *rep, struct strbuf *out, struct strbuf *tmp,
			   const char *name)
{
	if (strbuf_addf(out, "%s{command=", name) < 0)
		return -ENOMEM;
	return prom_add_label_value(out, tmp, rep->meta.command);
}

/* A whole family with one series of only the command label. */
static int prom_add_simple(struct report *rep, struct strbuf *out, struct strbuf *tmp,
			   const char *name, const char *help, uint64_t value)
{
	if (prom_add_family(out, name, help) < 0 || prom_add_series(rep, out, tmp, name) < 0)
		return -ENOMEM;
	return strbuf_addf(out, "} %" PRIu64 "\n", value);
}

/* The name a snapshot goes by: its label, else "#ID"; "" when there is none (verify). */
static int prom_add_snapshot_label(struct strbuf *out, struct strbuf *tmp,
				   const struct snap_info *info)
{
	char id[32];

	if (!info)
		return prom_add_label_value(out, tmp, "");
	if (info->label)
		return prom_add_label_value(out, tmp, info->label);
	snprintf(id, sizeof(id), "#%" PRId64, info->id);
	return prom_add_label_value(out, tmp, id);
}

static int prom_add_findings(struct report *rep, struct strbuf *out, struct strbuf *tmp)
{
	const uint64_t *ch = rep->changes;
	uint64_t total = ch[CHANGE_ADDED] + ch[CHANGE_REMOVED] + ch[CHANGE_MODIFIED], judged = 0;

	if (prom_add_family(out, "drift_findings",
			    "Findings of the last run by class and severity; severity \"none\": "
			    "compared without a policy (no verdict).") < 0)
		return -ENOMEM;
	for (unsigned c = 0; c < CLASS__COUNT; c++)
		for (unsigned s = SEVERITY__COUNT; s-- > 0;) {
			judged += rep->verdicts[c][s];
			if (prom_add_series(rep, out, tmp, "drift_findings") < 0 ||
			    strbuf_addf(out, ",class=\"%s\",severity=\"%s\"} %" PRIu64 "\n",
					class_name((enum verdict_class)c),
					severity_name((enum severity)s), rep->verdicts[c][s]) < 0)
				return -ENOMEM;
		}
	if (prom_add_series(rep, out, tmp, "drift_findings") < 0 ||
	    strbuf_addf(out, ",class=\"drift\",severity=\"none\"} %" PRIu64 "\n", total - judged) <
		    0)
		return -ENOMEM;

	if (prom_add_family(out, "drift_findings_changes",
			    "Findings of the last run by change, every class.") < 0)
		return -ENOMEM;
	for (unsigned c = 0; c < CHANGE__COUNT; c++)
		if (prom_add_series(rep, out, tmp, "drift_findings_changes") < 0 ||
		    strbuf_addf(out, ",change=\"%s\"} %" PRIu64 "\n", change_name((enum change)c),
				ch[c]) < 0)
			return -ENOMEM;
	return prom_add_simple(rep, out, tmp, "drift_findings_counted",
			       "Findings of the last run that count in its exit code (drift; "
			       "expected ones too under --count-expected).",
			       rep->counted[CHANGE_ADDED] + rep->counted[CHANGE_REMOVED] +
				       rep->counted[CHANGE_MODIFIED]);
}

static int prom_add_times(struct report *rep, struct strbuf *out, struct strbuf *tmp)
{
	const struct snap_info *scan = rep->meta.after;

	/* The new side's own walk (a check: the live scan just now); not known
	 * for verify, nor for a snapshot that was never completed. */
	if (scan && scan->complete && scan->finished_ns >= scan->started_ns &&
	    (prom_add_family(out, "drift_scan_duration_seconds",
			     "How long the scan of the new side took.") < 0 ||
	     prom_add_series(rep, out, tmp, "drift_scan_duration_seconds") < 0 ||
	     strbuf_adds(out, "} ") < 0 ||
	     prom_add_seconds(out, scan->finished_ns - scan->started_ns) < 0 ||
	     strbuf_addch(out, '\n') < 0))
		return -ENOMEM;
	if (prom_add_family(out, "drift_last_run_timestamp_seconds",
			    "When the last run wrote its report (Unix time).") < 0 ||
	    prom_add_series(rep, out, tmp, "drift_last_run_timestamp_seconds") < 0 ||
	    strbuf_adds(out, "} ") < 0 || prom_add_seconds(out, rep->generated_ns) < 0 ||
	    strbuf_addch(out, '\n') < 0)
		return -ENOMEM;
	/* A report is written only by a run that completed its comparison: the
	 * same time. A failed run writes no file, and this one stays behind. */
	if (prom_add_family(out, "drift_last_success_timestamp_seconds",
			    "When the last run that completed wrote its report (Unix time).") < 0 ||
	    prom_add_series(rep, out, tmp, "drift_last_success_timestamp_seconds") < 0 ||
	    strbuf_adds(out, "} ") < 0 || prom_add_seconds(out, rep->generated_ns) < 0 ||
	    strbuf_addch(out, '\n') < 0)
		return -ENOMEM;
	return 0;
}

static int prom_add_info(struct report *rep, struct strbuf *out, struct strbuf *tmp)
{
	const struct report_meta *m = &rep->meta;
	const struct snap_info *host = m->after ? m->after : m->before;

	if (prom_add_family(out, "drift_report_info",
			    "The last run: its baseline (a diff: its first snapshot), host and "
			    "drift version; always 1.") < 0 ||
	    prom_add_series(rep, out, tmp, "drift_report_info") < 0 ||
	    strbuf_adds(out, ",baseline=") < 0 ||
	    prom_add_snapshot_label(out, tmp, m->before) < 0 || strbuf_adds(out, ",host=") < 0 ||
	    prom_add_label_value(out, tmp, host && host->host ? host->host : "") < 0 ||
	    strbuf_adds(out, ",version=") < 0 ||
	    prom_add_label_value(out, tmp, m->tool_version ? m->tool_version : DRIFT_VERSION) < 0 ||
	    strbuf_adds(out, "} 1\n") < 0)
		return -ENOMEM;
	return 0;
}

static int prom_deviation(struct report *rep, const struct finding *f, struct strbuf *out)
{
	(void)rep;
	(void)f;
	(void)out;
	return 0; /* counted by report.c */
}

static int prom_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	(void)rep;
	(void)e;
	(void)out;
	return 0;
}

static int prom_write(struct report *rep, struct diag *reterr)
{
	struct strbuf *sb = &rep->item, tmp = STRBUF_INIT;
	int r;

	(void)reterr;
	strbuf_reset(sb);
	r = prom_add_findings(rep, sb, &tmp);
	if (r == 0)
		r = prom_add_simple(rep, sb, &tmp, "drift_entries_scanned",
				    "Entries the last run checked (verify: files checked against "
				    "their packages).",
				    report_entries_checked(rep));
	if (r == 0)
		r = prom_add_simple(rep, sb, &tmp, "drift_unreadable_entries",
				    "Entries the last run could not read (blind spots).",
				    rep->count[SECTION_ERRORS]);
	if (r == 0)
		r = prom_add_times(rep, sb, &tmp);
	if (r == 0)
		r = prom_add_info(rep, sb, &tmp);
	strbuf_release(&tmp);
	if (r < 0)
		return r;
	return report_out_write(rep, sb->buf, sb->len);
}

const struct report_renderer report_prometheus_renderer = {
	.deviation = prom_deviation,
	.error = prom_error,
	.write = prom_write,
};
