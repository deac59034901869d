/*
 * The JUnit report: JUnit XML as CI dashboards read it (Jenkins, GitLab,
 * the xunit family; the parts of the Jenkins xunit plugin's junit-10.xsd
 * they all share, tests/report/junit.xsd):
 *
 *     <testsuites name="drift check" tests="3" failures="1" errors="1" time="42.749">
 *       <testsuite name="drift check" tests="3" failures="1" errors="1" skipped="0" ...>
 *         <properties>...</properties>
 *         <testcase name="etc" classname="drift.check.rule">
 *           <failure message="1 finding: 1 high" type="high">[high] added /etc/x: new file
 *     </failure>
 *         </testcase>
 *         <testcase name="logs" classname="drift.check.rule">
 *           <system-out>[info] modified /var/log/syslog (size): grew (expected)
 *     </system-out>
 *         </testcase>
 *         <testcase name="unreadable" classname="drift.check">
 *           <error message="1 entry could not be read" type="unreadable">...</error>
 *         </testcase>
 *       </testsuite>
 *     </testsuites>
 *
 * One test case per rule that decided a finding (classname "drift.CMD.rule",
 * ordered by id), then one per class for the findings no rule decided
 * ("unclassified": compared without a policy; "drift", "expected":
 * judged without a rule; classname "drift.CMD"), then "unreadable", always
 * there (a clean run still has a test that passed). A case fails when it
 * holds a finding that counts in the exit code (report_finding_counts());
 * the failure's text lists those, one a line, and <system-out> the others
 * (expected ones, or drift below --fail-on). Findings --min-severity
 * leaves out are in no case (the property drift.findings_not_shown counts
 * them); those --since-last found resolved neither.
 *
 * Grouping by rule while findings stream in by key: each case keeps two
 * streams (failure text, system-out), each a list of chunks of one shared
 * spool file plus a small buffer (JUNIT_CHUNK) that goes to the spool when
 * full. Memory is the cases (few: one per rule) and a chunk list of 16
 * bytes per JUNIT_CHUNK bytes of findings; the findings are on disk.
 *
 * Escaping: every host string (paths, keys, rule ids, reasons, labels,
 * notes) is first put in its display form (common/escape.h: valid UTF-8, no
 * control byte, which XML 1.0 could not carry even as a character
 * reference; \x1b, \xff, \n show as such), then XML-escaped (& < > " ' and
 * the two non-characters U+FFFE, U+FFFF that XML excludes, as \ufffe).
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config.h"
#include "report/internal.h"
#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* Bytes of a stream kept in memory before they go to the spool. */
#define JUNIT_CHUNK 8192

struct junit_chunk {
	uint64_t off;
	size_t len;
};

/* Rendered lines of one case: on the spool (chunks, in order), then @pending. */
struct junit_stream {
	struct strbuf pending;
	struct junit_chunk *chunks;
	size_t nchunks, cap;
};

struct junit_case {
	bool rule;                             /**< a rule's (@name is its id); else a class's */
	char *name;                            /**< raw bytes as the finding gave them */
	uint64_t failing;                      /**< findings that count */
	uint64_t passing;                      /**< the others */
	uint64_t by_severity[SEVERITY__COUNT]; /**< failing ones with a verdict */
	struct junit_stream failure, out;
};

struct junit_state {
	FILE *spool;
	uint64_t spool_len;
	struct junit_case *cases; /**< in output order (case_compare()) */
	size_t ncases, cap;
	struct strbuf line; /**< the line being rendered, display form */
};

/* XML text or attribute value of a display form @s (valid UTF-8, no control byte). */
static int xml_add(struct strbuf *out, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *esc = NULL;
		size_t skip = 1;

		switch (s[i]) {
		case '&':
			esc = "&amp;";
			break;
		case '<':
			esc = "&lt;";
			break;
		case '>':
			esc = "&gt;";
			break;
		case '"':
			esc = "&quot;";
			break;
		case '\'':
			esc = "&apos;";
			break;
		case '\xef':
			/* U+FFFE and U+FFFF: valid UTF-8, not XML characters. */
			if (i + 2 < len && s[i + 1] == '\xbf' &&
			    (s[i + 2] == '\xbe' || s[i + 2] == '\xbf')) {
				esc = s[i + 2] == '\xbe' ? "\\ufffe" : "\\uffff";
				skip = 3;
			}
			break;
		default:
			break;
		}
		if (!esc)
			continue;
		if (strbuf_add(out, s + start, i - start) < 0 || strbuf_adds(out, esc) < 0)
			return -ENOMEM;
		start = i + skip;
		i += skip - 1;
	}
	return strbuf_add(out, s + start, len - start);
}

/* Any bytes as XML: their display form, escaped. */
static int xml_add_bytes(struct junit_state *st, struct strbuf *out, const char *s, size_t len)
{
	strbuf_reset(&st->line);
	if (escape_display(&st->line, s, len) < 0)
		return -ENOMEM;
	return xml_add(out, st->line.buf, st->line.len);
}

static int xml_add_cstring(struct junit_state *st, struct strbuf *out, const char *s)
{
	return xml_add_bytes(st, out, s, strlen(s));
}

static void stream_release(struct junit_stream *s)
{
	strbuf_release(&s->pending);
	free(s->chunks);
}

static void junit_free(struct report *rep)
{
	struct junit_state *st = rep->state;

	if (!st)
		return;
	for (size_t i = 0; i < st->ncases; i++) {
		free(st->cases[i].name);
		stream_release(&st->cases[i].failure);
		stream_release(&st->cases[i].out);
	}
	free(st->cases);
	if (st->spool)
		fclose(st->spool);
	strbuf_release(&st->line);
	free(st);
	rep->state = NULL;
}

static int junit_begin(struct report *rep)
{
	struct junit_state *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	strbuf_init(&st->line);
	rep->state = st;
	err = report_tmpfile(&st->spool);
	if (err > 0) {
		junit_free(rep);
		return -err;
	}
	return 0;
}

/* Move @s's pending bytes to the spool as one chunk. */
static int stream_flush(struct report *rep, struct junit_stream *s)
{
	struct junit_state *st = rep->state;
	struct junit_chunk *c;

	if (!s->pending.len)
		return 0;
	if (s->nchunks == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;

		c = realloc(s->chunks, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		s->chunks = c;
		s->cap = cap;
	}
	errno = 0;
	if (fwrite(s->pending.buf, 1, s->pending.len, st->spool) != s->pending.len) {
		rep->spool_err = errno ? errno : EIO;
		return -EIO;
	}
	s->chunks[s->nchunks++] = (struct junit_chunk){ st->spool_len, s->pending.len };
	st->spool_len += s->pending.len;
	strbuf_reset(&s->pending);
	return 0;
}

/* Write @s to the output: its chunks read back from the spool, then its pending bytes. */
static int stream_write(struct report *rep, const struct junit_stream *s, struct diag *reterr)
{
	struct junit_state *st = rep->state;
	char buf[65536], ebuf[32];
	int r, err;

	for (size_t i = 0; i < s->nchunks; i++) {
		uint64_t left = s->chunks[i].len;

		if (fseeko(st->spool, (off_t)s->chunks[i].off, SEEK_SET) != 0)
			goto fail_read;
		while (left > 0) {
			size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);

			if (fread(buf, 1, want, st->spool) != want)
				goto fail_read;
			r = report_out_write(rep, buf, want);
			if (r < 0)
				return r;
			left -= want;
		}
	}
	return report_out_write(rep, s->pending.buf, s->pending.len);

fail_read:
	err = ferror(st->spool) && errno ? errno : EIO;
	return diag_set(reterr, -EIO, "cannot read back the temporary file of the report: %s",
			report_errno_text(err, ebuf, sizeof(ebuf)));
}

/* Rules first, by id; then the classes' cases, by name (bytes). */
static int case_compare(bool a_rule, const char *a, bool b_rule, const char *b)
{
	if (a_rule != b_rule)
		return a_rule ? -1 : 1;
	return strcmp(a, b);
}

/* The case named @name, made when it is new. Returns it, or NULL (-ENOMEM). */
static struct junit_case *case_get(struct junit_state *st, bool rule, const char *name)
{
	size_t lo = 0, hi = st->ncases;
	struct junit_case *c;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = case_compare(st->cases[mid].rule, st->cases[mid].name, rule, name);

		if (cmp == 0)
			return &st->cases[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (st->ncases == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;

		c = realloc(st->cases, cap * sizeof(*c));
		if (!c)
			return NULL;
		st->cases = c;
		st->cap = cap;
	}
	c = &st->cases[lo];
	memmove(c + 1, c, (st->ncases - lo) * sizeof(*c));
	*c = (struct junit_case){ .rule = rule, .name = strdup(name) };
	if (!c->name) {
		memmove(c, c + 1, (st->ncases - lo) * sizeof(*c));
		return NULL;
	}
	strbuf_init(&c->failure.pending);
	strbuf_init(&c->out.pending);
	st->ncases++;
	return c;
}

/* A file's path, any other entry's kind and key, display form, into st->line. */
static int line_add_name(struct junit_state *st, const struct entry *e)
{
	if (e->kind != ENTRY_FILE && (strbuf_adds(&st->line, report_kind_name(e->kind)) < 0 ||
				      strbuf_addch(&st->line, ' ') < 0))
		return -ENOMEM;
	return escape_display(&st->line, e->key, e->key_len);
}

/*
 * One finding's line, display form, in st->line:
 * `[SEVERITY] CHANGE NAME (ATTR, ...): REASON (package P) (expected)`.
 */
static int line_render(struct report *rep, struct junit_state *st, const struct finding *f)
{
	const struct entry *e = f->after ? f->after : f->before;
	const struct finding_package *owner = report_finding_owner(f);
	uint32_t attrs = f->judged ? f->attrs : f->changed;
	struct strbuf *l = &st->line;
	bool first = true;

	(void)rep;
	strbuf_reset(l);
	if (f->judged && strbuf_addf(l, "[%s] ", severity_name(f->severity)) < 0)
		return -ENOMEM;
	if (strbuf_addf(l, "%s ", change_name(f->change)) < 0 || line_add_name(st, e) < 0)
		return -ENOMEM;
	if (f->change == CHANGE_MODIFIED) {
		for (unsigned i = 0; i < ATTR__COUNT; i++) {
			enum entry_attr attr = (enum entry_attr)(1u << i);

			if (!(attrs & attr))
				continue;
			if (strbuf_addf(l, "%s%s", first ? " (" : ", ", entry_attr_name(attr)) < 0)
				return -ENOMEM;
			first = false;
		}
		if (!first && strbuf_addch(l, ')') < 0)
			return -ENOMEM;
	}
	if (f->judged && f->reason &&
	    (strbuf_adds(l, ": ") < 0 || escape_display(l, f->reason, strlen(f->reason)) < 0))
		return -ENOMEM;
	if (owner && owner->unowned && strbuf_adds(l, " (unowned)") < 0)
		return -ENOMEM;
	if (owner && owner->name &&
	    (strbuf_adds(l, " (package ") < 0 ||
	     escape_display(l, owner->name, strlen(owner->name)) < 0 || strbuf_addch(l, ')') < 0))
		return -ENOMEM;
	if (f->judged && f->class != CLASS_DRIFT &&
	    strbuf_addf(l, " (%s)", class_name(f->class)) < 0)
		return -ENOMEM;
	return 0;
}

static int junit_deviation(struct report *rep, const struct finding *f, struct strbuf *out)
{
	struct junit_state *st = rep->state;
	struct junit_stream *s;
	struct junit_case *c;
	bool counts;
	int r;

	/* The item spooled by report.c stays empty: the case's streams hold the line. */
	if (f->novelty == NOVELTY_RESOLVED)
		return 0;
	if (!f->judged)
		c = case_get(st, false, "unclassified");
	else if (f->rule_id)
		c = case_get(st, true, f->rule_id);
	else
		c = case_get(st, false, class_name(f->class));
	if (!c)
		return -ENOMEM;
	r = line_render(rep, st, f);
	if (r < 0)
		return r;
	counts = report_finding_counts(rep, f);
	s = counts ? &c->failure : &c->out;
	/* Through @out (reset after): rep->item is a reused buffer. */
	strbuf_reset(out);
	if (xml_add(out, st->line.buf, st->line.len) < 0 || strbuf_addch(out, '\n') < 0 ||
	    strbuf_add(&s->pending, out->buf, out->len) < 0)
		return -ENOMEM;
	strbuf_reset(out);
	if (s->pending.len >= JUNIT_CHUNK) {
		r = stream_flush(rep, s);
		if (r < 0)
			return r;
	}
	if (counts) {
		c->failing++;
		if (f->judged)
			c->by_severity[f->severity]++;
	} else {
		c->passing++;
	}
	return 0;
}

static int junit_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	struct junit_state *st = rep->state;
	char buf[32];

	strbuf_reset(&st->line);
	if (line_add_name(st, e) < 0 || strbuf_adds(&st->line, ": ") < 0 ||
	    strbuf_adds(&st->line, report_entry_error_text(e, buf, sizeof(buf))) < 0)
		return -ENOMEM;
	if (xml_add(out, st->line.buf, st->line.len) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '\n');
}

/* `NAME="VALUE"` with a host string @value (NULL: nothing at all). */
static int add_attr(struct junit_state *st, struct strbuf *out, const char *name, const char *value)
{
	if (!value)
		return 0;
	if (strbuf_addf(out, " %s=\"", name) < 0 || xml_add_cstring(st, out, value) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '"');
}

/* `<property name="NAME" value="VALUE"/>` (nothing for a NULL @value). */
static int add_property(struct junit_state *st, struct strbuf *out, const char *name,
			const char *value)
{
	if (!value)
		return 0;
	if (strbuf_addf(out, "      <property name=\"%s\"", name) < 0 ||
	    add_attr(st, out, "value", value) < 0)
		return -ENOMEM;
	return strbuf_adds(out, "/>\n");
}

/* "baseline (#1)" or "#3" of a snapshot; NULL when there is none. */
static const char *snapshot_name(const struct snap_info *info, char *buf, size_t size)
{
	if (!info)
		return NULL;
	if (info->label)
		snprintf(buf, size, "%s (#%" PRId64 ")", info->label, info->id);
	else
		snprintf(buf, size, "#%" PRId64, info->id);
	return buf;
}

/* Seconds with milliseconds, "42.749"; "0" when the scan's duration is not known. */
static int add_duration(struct strbuf *out, const struct snap_info *scan)
{
	int64_t ns;

	if (!scan || !scan->complete || scan->finished_ns < scan->started_ns)
		return strbuf_adds(out, "0");
	ns = scan->finished_ns - scan->started_ns;
	return strbuf_addf(out, "%" PRId64 ".%03" PRId64, ns / 1000000000,
			   ns % 1000000000 / 1000000);
}

static int add_head(struct report *rep, struct junit_state *st, struct strbuf *sb, uint64_t tests,
		    uint64_t failures, uint64_t errors)
{
	const struct report_meta *m = &rep->meta;
	const struct snap_info *host = m->after ? m->after : m->before;
	char old[300], new[300];
	uint64_t hidden = 0;
	size_t dot;
	int r;

	if (strbuf_addf(sb,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<testsuites name=\"drift %s\" tests=\"%" PRIu64 "\" failures=\"%" PRIu64
			"\" errors=\"%" PRIu64 "\" time=\"",
			m->command, tests, failures, errors) < 0 ||
	    add_duration(sb, m->after) < 0 ||
	    strbuf_addf(sb,
			"\">\n  <testsuite name=\"drift %s\" tests=\"%" PRIu64
			"\" failures=\"%" PRIu64 "\" errors=\"%" PRIu64 "\" skipped=\"0\" time=\"",
			m->command, tests, failures, errors) < 0 ||
	    add_duration(sb, m->after) < 0 || strbuf_adds(sb, "\" timestamp=\"") < 0)
		return -ENOMEM;
	/* xs:dateTime without a zone, as the JUnit schemas want it: UTC, whole seconds. */
	dot = sb->len;
	r = report_format_time(sb, rep->generated_ns);
	if (r < 0)
		return r;
	while (dot < sb->len && sb->buf[dot] != '.')
		dot++;
	strbuf_setlen(sb, dot);
	if (strbuf_addch(sb, '"') < 0 ||
	    add_attr(st, sb, "hostname", host && host->host ? host->host : NULL) < 0 ||
	    strbuf_adds(sb, ">\n    <properties>\n") < 0 ||
	    add_property(st, sb, "drift.command", m->command) < 0 ||
	    add_property(st, sb, "drift.database", m->database) < 0 ||
	    add_property(st, sb, "drift.old", snapshot_name(m->before, old, sizeof(old))) < 0 ||
	    add_property(st, sb, "drift.new", snapshot_name(m->after, new, sizeof(new))) < 0 ||
	    add_property(st, sb, "drift.version",
			 m->tool_version ? m->tool_version : DRIFT_VERSION) < 0 ||
	    strbuf_addf(sb,
			"      <property name=\"drift.entries_checked\" value=\"%" PRIu64 "\"/>\n",
			report_entries_checked(rep)) < 0)
		return -ENOMEM;
	/* What --min-severity left out is in no case: say how much, so that a
	 * passing suite beside a failing exit code can be explained. */
	for (unsigned s = 0; s < SECTION__COUNT; s++)
		hidden += rep->hidden[s];
	if (hidden &&
	    strbuf_addf(sb,
			"      <property name=\"drift.findings_not_shown\" value=\"%" PRIu64
			"\"/>\n",
			hidden) < 0)
		return -ENOMEM;
	return strbuf_adds(sb, "    </properties>\n");
}

/* The failure's message and type: "3 findings: 2 critical, 1 high", the worst severity. */
static int add_failure_open(struct strbuf *sb, const struct junit_case *c)
{
	uint64_t judged = 0;
	const char *type = "drift"; /* without a verdict */
	bool first = true;

	if (strbuf_addf(sb, "      <failure message=\"%" PRIu64 " finding%s:", c->failing,
			c->failing == 1 ? "" : "s") < 0)
		return -ENOMEM;
	for (unsigned s = SEVERITY__COUNT; s-- > 0;) {
		if (!c->by_severity[s])
			continue;
		if (first)
			type = severity_name((enum severity)s);
		if (strbuf_addf(sb, "%s %" PRIu64 " %s", first ? "" : ",", c->by_severity[s],
				severity_name((enum severity)s)) < 0)
			return -ENOMEM;
		judged += c->by_severity[s];
		first = false;
	}
	if (judged < c->failing && strbuf_addf(sb, "%s %" PRIu64 " unclassified", first ? "" : ",",
					       c->failing - judged) < 0)
		return -ENOMEM;
	return strbuf_addf(sb, "\" type=\"%s\">", type);
}

static int write_case(struct report *rep, struct junit_state *st, const struct junit_case *c,
		      struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	int r;

	strbuf_reset(sb);
	if (strbuf_adds(sb, "    <testcase") < 0 || add_attr(st, sb, "name", c->name) < 0 ||
	    strbuf_addf(sb, " classname=\"drift.%s%s\">\n", rep->meta.command,
			c->rule ? ".rule" : "") < 0)
		return -ENOMEM;
	if (c->failing && add_failure_open(sb, c) < 0)
		return -ENOMEM;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;
	if (c->failing) {
		r = stream_write(rep, &c->failure, reterr);
		if (r < 0)
			return r;
		r = report_out_write(rep, "</failure>\n", 11);
		if (r < 0)
			return r;
	}
	if (c->passing) {
		r = report_out_write(rep, "      <system-out>", 18);
		if (r == 0)
			r = stream_write(rep, &c->out, reterr);
		if (r == 0)
			r = report_out_write(rep, "</system-out>\n", 14);
		if (r < 0)
			return r;
	}
	return report_out_write(rep, "    </testcase>\n", 16);
}

static int write_unreadable(struct report *rep, struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	uint64_t n = rep->count[SECTION_ERRORS];
	int r;

	strbuf_reset(sb);
	if (strbuf_addf(sb, "    <testcase name=\"unreadable\" classname=\"drift.%s\">\n",
			rep->meta.command) < 0)
		return -ENOMEM;
	if (n && strbuf_addf(sb,
			     "      <error message=\"%" PRIu64 " %s could not be read\" "
			     "type=\"unreadable\">",
			     n, n == 1 ? "entry" : "entries") < 0)
		return -ENOMEM;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r == 0 && n) {
		r = report_spool_copy(rep, SECTION_ERRORS, 0, reterr);
		if (r == 0)
			r = report_out_write(rep, "</error>\n", 9);
	}
	if (r < 0)
		return r;
	return report_out_write(rep, "    </testcase>\n", 16);
}

static int junit_write(struct report *rep, struct diag *reterr)
{
	struct junit_state *st = rep->state;
	struct strbuf *sb = &rep->item;
	uint64_t failures = 0, errors = rep->count[SECTION_ERRORS] ? 1 : 0;
	char ebuf[32];
	int r;

	errno = 0;
	if (fflush(st->spool) != 0 || ferror(st->spool))
		return diag_set(reterr, -EIO, "cannot write the temporary file of the report: %s",
				report_errno_text(errno ? errno : EIO, ebuf, sizeof(ebuf)));
	for (size_t i = 0; i < st->ncases; i++)
		failures += st->cases[i].failing ? 1 : 0;

	strbuf_reset(sb);
	r = add_head(rep, st, sb, st->ncases + 1, failures, errors);
	if (r < 0)
		return r;
	r = report_out_write(rep, sb->buf, sb->len);
	for (size_t i = 0; r == 0 && i < st->ncases; i++)
		r = write_case(rep, st, &st->cases[i], reterr);
	if (r == 0)
		r = write_unreadable(rep, reterr);
	if (r < 0)
		return r;

	/* The caller's notes, as the suite's output. */
	strbuf_reset(sb);
	if (rep->nnotes && strbuf_adds(sb, "    <system-out>") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < rep->nnotes; i++)
		if (strbuf_adds(sb, "note: ") < 0 || xml_add_cstring(st, sb, rep->notes[i]) < 0 ||
		    strbuf_addch(sb, '\n') < 0)
			return -ENOMEM;
	if ((rep->nnotes && strbuf_adds(sb, "</system-out>\n") < 0) ||
	    strbuf_adds(sb, "  </testsuite>\n</testsuites>\n") < 0)
		return -ENOMEM;
	return report_out_write(rep, sb->buf, sb->len);
}

const struct report_renderer report_junit_renderer = {
	.begin = junit_begin,
	.deviation = junit_deviation,
	.error = junit_error,
	.write = junit_write,
	.free = junit_free,
};
