/*
 * The report object: the part common to every format.
 *
 * Components:
 * - report_new() / report_free(): the object and its spools, one anonymous
 *   temporary file ($TMPDIR, else /tmp) per section (enum report_section:
 *   each severity, added, removed, modified, expected, unreadable).
 * - report_add_finding() (and report_add_error()): check the finding,
 *   pick its section (by verdict, else by change), have the format's
 *   renderer turn it into bytes in a reused buffer, append those to the
 *   section's spool and count it. Nothing of the item is kept in memory, so
 *   a million deviations cost disk, not RAM.
 * - report_add_note(): the caller's notes on the whole report, kept in
 *   memory (a handful of lines) until the document is written.
 * - report_finish(): every spool is flushed first, so that a late write
 *   error fails the report before anything is written; then the renderer
 *   writes the header and summary (it knows every count by now) and copies
 *   the spools in order (report_spool_copy()); then the output is flushed
 *   and any write error becomes -EIO.
 */
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/internal.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

const struct report_renderer report_text_renderer = {
	.begin = report_text_begin,
	.free = report_text_free,
	.deviation = report_text_deviation,
	.error = report_text_error,
	.write = report_text_write,
};
const struct report_renderer report_json_renderer = {
	.deviation = report_json_deviation,
	.error = report_json_error,
	.write = report_json_write,
};

/* Every format's renderer; NULL: not built. */
static const struct report_renderer *const renderers[REPORT_FORMAT__COUNT] = {
	[REPORT_TEXT] = &report_text_renderer,
	[REPORT_JSON] = &report_json_renderer,
	[REPORT_NDJSON] = &report_ndjson_renderer,
	[REPORT_JUNIT] = &report_junit_renderer,
	[REPORT_PROMETHEUS] = &report_prometheus_renderer,
	[REPORT_HTML] = &report_html_renderer,
};

static const char *const format_names[REPORT_FORMAT__COUNT] = {
	[REPORT_TEXT] = "text", [REPORT_JSON] = "json",   [REPORT_NDJSON] = "ndjson",
	[REPORT_HTML] = "html", [REPORT_JUNIT] = "junit", [REPORT_PROMETHEUS] = "prometheus",
};

const char *report_format_name(enum report_format format)
{
	return (unsigned)format < REPORT_FORMAT__COUNT ? format_names[format] : "unknown";
}

int report_format_from_name(const char *name, enum report_format *ret)
{
	for (unsigned i = 0; i < REPORT_FORMAT__COUNT; i++)
		if (!strcmp(name, format_names[i])) {
			*ret = (enum report_format)i;
			return 0;
		}
	return -EINVAL;
}

void report_free(struct report *rep)
{
	if (!rep)
		return;
	if (rep->renderer && rep->renderer->free)
		rep->renderer->free(rep);
	for (size_t i = 0; i < SECTION__COUNT; i++)
		if (rep->spool[i])
			fclose(rep->spool[i]);
	for (size_t i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	strbuf_release(&rep->item);
	free(rep);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * One spool: an anonymous temporary file in $TMPDIR (or /tmp), unlinked at
 * once (tmpfile() ignores $TMPDIR). Returns 0, or an errno (positive).
 */
static int spool_open(FILE **ret_file)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	FILE *f;
	int fd, err;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/drift-report-XXXXXX", dir) >= sizeof(path))
		return ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return errno;
	unlink(path);
	f = fdopen(fd, "w+");
	if (!f) {
		err = errno;
		close(fd);
		return err;
	}
	*ret_file = f;
	return 0;
}

int report_tmpfile(FILE **ret_file)
{
	return spool_open(ret_file);
}

int report_new(enum report_format format, FILE *out, const struct report_meta *meta,
	       struct report **ret_report, struct diag *reterr)
{
	struct report *rep;
	char buf[32];
	bool verify;
	int r;

	if ((unsigned)format >= REPORT_FORMAT__COUNT)
		return diag_set(reterr, -EINVAL, "unknown report format %d", (int)format);
	if (!renderers[format])
		return diag_set(reterr, -EINVAL, "the %s report format is not built yet",
				format_names[format]);
	if (!meta->command || (strcmp(meta->command, "check") && strcmp(meta->command, "diff") &&
			       strcmp(meta->command, "verify")))
		return diag_set(reterr, -EINVAL, "cannot report on command '%s'",
				meta->command ? meta->command : "(null)");
	verify = !strcmp(meta->command, "verify");
	if (!verify && (!meta->before || !meta->after))
		return diag_set(reterr, -EINVAL, "cannot report without both snapshots");

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return diag_set(reterr, -ENOMEM, "out of memory");
	rep->format = format;
	rep->renderer = renderers[format];
	rep->out = out;
	rep->meta = *meta;
	rep->verify = verify;
	rep->generated_ns = meta->generated_ns ? meta->generated_ns : now_ns();
	strbuf_init(&rep->item);

	for (size_t i = 0; i < SECTION__COUNT; i++) {
		r = spool_open(&rep->spool[i]);
		if (r > 0)
			goto fail_tmpfile;
	}

	if (rep->renderer->begin && (r = rep->renderer->begin(rep)) < 0) {
		report_free(rep);
		return diag_set(reterr, r, "cannot start the %s report: %s", format_names[format],
				report_errno_text(-r, buf, sizeof(buf)));
	}
	*ret_report = rep;
	return 0;

fail_tmpfile:
	report_free(rep);
	return diag_set(reterr, -EIO, "cannot create a temporary file for the report: %s",
			report_errno_text(r, buf, sizeof(buf)));
}

/* Append the rendered item to spool @s; the caller has rendered it into rep->item. */
static int spool_item(struct report *rep, enum report_section s)
{
	errno = 0;
	if (fwrite(rep->item.buf, 1, rep->item.len, rep->spool[s]) != rep->item.len) {
		rep->spool_err = errno ? errno : EIO;
		return -EIO;
	}
	rep->count[s]++;
	return 0;
}

/* Common checks before an item is added. */
static int report_accepts(const struct report *rep)
{
	if (rep->finished)
		return -EINVAL;
	if (rep->spool_err)
		return -EIO;
	return 0;
}

/* A verdict the renderers can rely on: a class and a severity that exist. */
static bool verdict_valid(const struct finding *f)
{
	return (unsigned)f->class < CLASS__COUNT && (unsigned)f->severity < SEVERITY__COUNT;
}

/* A package context the renderers can rely on: a package or unowned, not both. */
static bool owner_valid(const struct finding_package *o)
{
	if (o->unowned && o->name)
		return false;
	return o->name || (!o->before_version && !o->after_version);
}

const struct finding_package *report_finding_owner(const struct finding *f)
{
	return f->package.name || f->package.unowned ? &f->package : NULL;
}

bool report_finding_counts(const struct report *rep, const struct finding *f)
{
	if (!f->judged)
		return true;
	if (!f->counts)
		return false;
	return !rep->meta.have_fail_on || f->class == CLASS_EXPECTED ||
	       f->severity >= rep->meta.fail_on;
}

static const char *const section_names[SECTION__COUNT] = {
	[SECTION_CRITICAL] = "critical", [SECTION_HIGH] = "high",
	[SECTION_MEDIUM] = "medium",     [SECTION_LOW] = "low",
	[SECTION_INFO] = "info",         [SECTION_ADDED] = "added",
	[SECTION_REMOVED] = "removed",   [SECTION_MODIFIED] = "modified",
	[SECTION_EXPECTED] = "expected", [SECTION_WAIVED] = "waived",
	[SECTION_ERRORS] = "unreadable", [SECTION_RESOLVED] = "resolved",
};

enum report_section report_class_section(const struct finding *f)
{
	if (f->class == CLASS_EXPECTED)
		return SECTION_EXPECTED;
	if (f->class == CLASS_WAIVED)
		return SECTION_WAIVED;
	return SECTION_OF_RANK(f->severity);
}

const char *report_section_name(enum report_section s)
{
	return section_names[s];
}

uint64_t report_section_total(const struct report *rep, enum report_section s)
{
	return rep->count[s] + rep->hidden[s];
}

bool report_finding_shown(const struct report *rep, const struct finding *f)
{
	return !f->judged || !rep->meta.have_min_severity || f->severity >= rep->meta.min_severity;
}

int report_add_finding(struct report *rep, const struct finding *f)
{
	return report_add_finding_diff(rep, f, NULL);
}

int report_add_finding_diff(struct report *rep, const struct finding *f,
			    const struct report_diff *diff)
{
	enum report_section s;
	bool resolved, shown;
	int r;

	r = report_accepts(rep);
	if (r < 0)
		return r;
	switch (f->change) {
	case CHANGE_ADDED:
		if (!f->after)
			return -EINVAL;
		s = SECTION_ADDED;
		break;
	case CHANGE_REMOVED:
		if (!f->before)
			return -EINVAL;
		s = SECTION_REMOVED;
		break;
	case CHANGE_MODIFIED:
		if (!f->before || !f->after)
			return -EINVAL;
		s = SECTION_MODIFIED;
		break;
	default:
		return -EINVAL;
	}
	if (f->judged && !verdict_valid(f))
		return -EINVAL;
	if (!owner_valid(&f->package))
		return -EINVAL;
	if (f->judged)
		s = report_class_section(f);
	/* The previous run's finding (--since-last): shown, never counted as
	 * this run's. */
	resolved = f->novelty == NOVELTY_RESOLVED;
	if (resolved)
		s = SECTION_RESOLVED;
	shown = resolved || report_finding_shown(rep, f);
	if (shown) {
		strbuf_reset(&rep->item);
		rep->section = s;
		rep->diff = f->change == CHANGE_MODIFIED ? diff : NULL;
		r = rep->renderer->deviation(rep, f, &rep->item);
		rep->diff = NULL;
		if (r < 0)
			return r;
		r = spool_item(rep, s);
		if (r < 0)
			return r;
	} else {
		rep->hidden[s]++;
	}
	if (!resolved) {
		/* Counted once it is in: a failed spool write counts nothing. */
		if ((unsigned)f->novelty < NOVELTY_RESOLVED)
			rep->novelty[f->novelty]++;
		rep->changes[f->change]++;
		if (report_finding_counts(rep, f))
			rep->counted[f->change]++;
		if (f->judged) {
			rep->classified = true;
			rep->verdicts[f->class][f->severity]++;
		}
	}
	return 0;
}

void report_set_checked(struct report *rep, uint64_t checked)
{
	rep->meta.checked = checked;
}

int report_add_note(struct report *rep, const char *text)
{
	char **notes, *copy;

	if (rep->finished || !text || !*text)
		return -EINVAL;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	notes = realloc(rep->notes, (rep->nnotes + 1) * sizeof(*notes));
	if (!notes) {
		free(copy);
		return -ENOMEM;
	}
	notes[rep->nnotes++] = copy;
	rep->notes = notes;
	return 0;
}

int report_add_error(struct report *rep, const struct entry *e)
{
	int r;

	r = report_accepts(rep);
	if (r < 0)
		return r;
	if (e->err == 0)
		return -EINVAL;

	strbuf_reset(&rep->item);
	r = rep->renderer->error(rep, e, &rep->item);
	if (r < 0)
		return r;
	return spool_item(rep, SECTION_ERRORS);
}

void report_get_counts(const struct report *rep, struct report_counts *ret_counts)
{
	ret_counts->added = rep->changes[CHANGE_ADDED];
	ret_counts->removed = rep->changes[CHANGE_REMOVED];
	ret_counts->modified = rep->changes[CHANGE_MODIFIED];
	ret_counts->errors = rep->count[SECTION_ERRORS];
	ret_counts->counted_added = rep->counted[CHANGE_ADDED];
	ret_counts->counted_removed = rep->counted[CHANGE_REMOVED];
	ret_counts->counted_modified = rep->counted[CHANGE_MODIFIED];
	ret_counts->expected = rep->count[SECTION_EXPECTED];
	ret_counts->waived = rep->count[SECTION_WAIVED];
}

int report_out_write(struct report *rep, const void *data, size_t len)
{
	if (rep->out_err)
		return -EIO;
	errno = 0;
	if (len && fwrite(data, 1, len, rep->out) != len) {
		rep->out_err = errno ? errno : EIO;
		return -EIO;
	}
	return 0;
}

int report_spool_copy(struct report *rep, enum report_section s, size_t skip, struct diag *reterr)
{
	char buf[65536], ebuf[32];
	FILE *f = rep->spool[s];
	size_t n;
	int r;

	if (fflush(f) != 0 || fseek(f, (long)skip, SEEK_SET) != 0) {
		r = errno;
		goto fail_read;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		r = report_out_write(rep, buf, n);
		if (r < 0)
			return r;
	}
	if (ferror(f)) {
		r = errno;
		goto fail_read;
	}
	return 0;

fail_read:
	return diag_set(reterr, -EIO, "cannot read back the temporary file of the report: %s",
			report_errno_text(r, ebuf, sizeof(ebuf)));
}

int report_finish(struct report *rep, struct diag *reterr)
{
	char buf[32];
	int r;

	if (rep->finished)
		return diag_set(reterr, -EINVAL, "report already finished");
	rep->finished = true;
	/* What the spools still buffer must reach them before the first byte
	 * goes out: a late ENOSPC must not cut the report after its summary. */
	for (size_t i = 0; i < SECTION__COUNT && !rep->spool_err; i++) {
		errno = 0;
		if (fflush(rep->spool[i]) != 0 || ferror(rep->spool[i]))
			rep->spool_err = errno ? errno : EIO;
	}
	if (rep->spool_err)
		return diag_set(reterr, -EIO, "cannot write the temporary file of the report: %s",
				report_errno_text(rep->spool_err, buf, sizeof(buf)));

	r = rep->renderer->write(rep, reterr);
	if (r == -ENOMEM)
		return diag_set(reterr, r, "cannot write report: %s",
				report_errno_text(ENOMEM, buf, sizeof(buf)));
	if (r < 0 && !rep->out_err)
		return r; /* the spool could not be read back; the message is set */
	errno = 0;
	if (!rep->out_err && (fflush(rep->out) != 0 || ferror(rep->out)))
		rep->out_err = errno ? errno : EIO;
	if (rep->out_err)
		return diag_set(reterr, -EIO, "cannot write report: %s",
				report_errno_text(rep->out_err, buf, sizeof(buf)));
	return 0;
}
