/*
 * Comparing two snapshots into a report.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "scanner/probe.h"
#include "common/banned.h"

/* ---- comparing into a report ---- */

struct compare_ctx {
	struct report *rep;
	const struct cli_args *args; /* --root, for reading the live files */
	const struct rule_set *rules;
	struct cli_attrib *attrib; /* NULL: no package attribution */
	int attrib_err;
	bool dpkg_run; /* the two snapshots bracket one dpkg run (the apt hook's pair) */
	bool live;     /* the new side is the live host: libmagic may read its files */
	bool count_expected;
	int report_err; /* report_add() failed (a temporary file could not be written) */
};

/*
 * libmagic's type of the new content, for a rule with magic: true: from the
 * snapshot when the scan collected it, else (a live check) from the file.
 */
static char *deviation_mime(const struct compare_ctx *ctx, const struct rule *rule,
			    const struct deviation *d)
{
	struct diag dg = { 0 };
	char *mime = NULL, *path;

	if (!rule || !rule_magic(rule) || !d->after || !S_ISREG(d->after->mode) ||
	    d->change == CHANGE_REMOVED)
		return NULL;
	if ((d->after->collected & ATTR_MIME) && d->after->mime)
		return strdup(d->after->mime);
	if (!ctx->live)
		return NULL;
	path = strndup(d->after->key, d->after->key_len);
	if (path && scan_mime_file(ctx->args->root_fd, path, &mime, &dg) < 0)
		mime = NULL; /* vanished or unreadable since the scan: no escalation from content */
	free(path);
	return mime;
}

static int compare_visit(const struct deviation *d, void *userdata)
{
	struct compare_ctx *ctx = userdata;
	struct rule_verdict v;
	struct report_verdict rv = { 0 };
	struct report_owner ro = { 0 };
	struct cli_attrib_note note;
	enum change change;
	const struct entry *e = d->after ? d->after : d->before;
	const struct rule *rule;
	char *mime;
	int r;

	if (cli_interrupted())
		return -ECANCELED;
	if (!ctx->rules) {
		r = report_add(ctx->rep, d);
		goto out;
	}
	change = d->change == CHANGE_ADDED     ? CHANGE_ADDED
		 : d->change == CHANGE_REMOVED ? CHANGE_REMOVED
					       : CHANGE_MODIFIED;
	rule = rule_set_match_kind(ctx->rules, e->kind, e->key, e->key_len);
	mime = e->kind == ENTRY_FILE ? deviation_mime(ctx, rule, d) : NULL;
	if (!rule_set_classify(ctx->rules, change, d->before, d->after, d->attrs, mime, &v)) {
		free(mime);
		return 0; /* does not matter under the policy */
	}
	free(mime);
	if (ctx->attrib) {
		r = cli_attrib_apply(ctx->attrib, d, &v, &ro, &note);
		if (r < 0) {
			ctx->attrib_err = r;
			return r;
		}
	}
	if (ctx->dpkg_run && e->kind == ENTRY_PACKAGE) {
		/* Between the hook's pre and post snapshots, only dpkg changes packages. */
		v.class = CLASS_EXPECTED;
		snprintf(v.reason, sizeof(v.reason), "%s by the dpkg run",
			 change == CHANGE_ADDED     ? "installed"
			 : change == CHANGE_REMOVED ? "removed"
						    : "changed");
	}
	cli_verdict_report(&rv, &v, ctx->count_expected);
	if (ro.package || ro.unowned)
		r = report_add_attributed(ctx->rep, d, &rv, &ro);
	else
		r = report_add_verdict(ctx->rep, d, &rv);
out:
	if (r < 0)
		ctx->report_err = r;
	return r;
}

static bool listed(char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/*
 * The entries of the probes: kind by kind, for the probes that ran in both
 * snapshots. A probe on one side only, or unavailable on one, is a note:
 * its kinds are not compared (everything would look added or removed).
 */
static int compare_probes(struct snap_store *st, const struct snap_info *before,
			  const struct snap_info *after, unsigned flags, struct compare_ctx *ctx,
			  struct diag *d)
{
	char note[256];
	int r = 0;

	for (size_t i = 0; i < probe_count && r >= 0; i++) {
		const struct probe *p = probe_list[i];
		bool in_old = listed(before->probes, before->nprobes, p->name);
		bool in_new = listed(after->probes, after->nprobes, p->name);
		bool un_old =
			listed(before->probes_unavailable, before->nprobes_unavailable, p->name);
		bool un_new =
			listed(after->probes_unavailable, after->nprobes_unavailable, p->name);

		if (!in_old || !in_new) {
			/*
			 * A snapshot of files only (paths named) takes no state, and a
			 * source missing on both sides (no /proc/modules) is nothing new:
			 * nothing to say.
			 */
			if ((!after->nprobes && !after->nprobes_unavailable) ||
			    (!in_old && !in_new))
				continue;
			if (un_old || un_new)
				snprintf(
					note, sizeof(note),
					"probe %s was unavailable in the %s snapshot: not compared",
					p->name, un_new ? "new" : "old");
			else if (in_old || in_new)
				snprintf(note, sizeof(note),
					 "probe %s ran only in the %s snapshot: not compared",
					 p->name, in_new ? "new" : "old");
			else
				continue;
			if (report_add_note(ctx->rep, note) < 0)
				return -ENOMEM;
			continue;
		}
		for (const enum entry_kind *k = p->kinds; *k && r >= 0; k++) {
			struct snap_iter *a = NULL, *b = NULL;

			r = snap_iter_new(st, before->id, *k, NULL, 0, 0, &a, d);
			if (r >= 0)
				r = snap_iter_new(st, after->id, *k, NULL, 0, 0, &b, d);
			if (r >= 0)
				r = snap_compare(a, b, flags, compare_visit, ctx, d);
			snap_iter_free(a);
			snap_iter_free(b);
		}
	}
	return r;
}

void cli_verdict_report(struct report_verdict *rv, const struct rule_verdict *v,
			bool count_expected)
{
	rv->class_name = class_name(v->class);
	rv->counts = v->class != CLASS_EXPECTED || count_expected;
	rv->severity_name = severity_name(v->severity);
	rv->severity_rank = (unsigned)v->severity;
	rv->rule_id = v->rule ? rule_id(v->rule) : NULL;
	rv->rule_title = v->rule ? rule_title(v->rule) : NULL;
	rv->rule_file = v->rule ? rule_file(v->rule) : NULL;
	rv->rule_line = v->rule ? rule_line(v->rule) : 0;
	rv->reason = v->reason;
	rv->attrs = v->attrs;
}

int cli_report_finish(struct report *rep)
{
	struct report_counts counts;
	struct diag d = { 0 };
	int r = report_finish(rep, &d);

	if (r < 0) {
		cli_error("%s", d.msg);
		return exit_code_for_error(CLI_STAGE_OUTPUT, r);
	}
	report_get_counts(rep, &counts);
	return exit_code_for_counts(&counts);
}

int cli_output_finish(struct cli_output *out, int code)
{
	int r = cli_output_close(out, code < DRIFT_EXIT_USAGE);

	return r && code < DRIFT_EXIT_USAGE ? r : code;
}

int cli_compare_report(struct snap_store *st, const char *command, const struct snap_info *before,
		       const struct snap_info *after, const char *const *roots, size_t nroots,
		       const struct rule_set *rules, bool live, const struct cli_args *args)
{
	struct cli_output out;
	int code = cli_output_open(&out, args);

	if (code)
		return code;
	code = cli_compare_report_to(&out, st, command, before, after, roots, nroots, rules, live,
				     args);
	return cli_output_finish(&out, code);
}

int cli_compare_report_to(struct cli_output *outp, struct snap_store *st, const char *command,
			  const struct snap_info *before, const struct snap_info *after,
			  const char *const *roots, size_t nroots, const struct rule_set *rules,
			  bool live, const struct cli_args *args)
{
	struct snap_iter *it_old = NULL, *it_new = NULL;
	struct cli_output out = *outp;
	struct report *rep = NULL;
	struct report_meta meta = { 0 };
	struct compare_ctx ctx = { 0 };
	struct diag d = { 0 };
	const struct entry *e;
	unsigned flags = args->all_changes ? SNAP_COMPARE_ALL : 0;
	int r, code;

	meta.command = command;
	meta.database = args->db ? args->db : args->db_default;
	meta.before = before;
	meta.after = after;
	meta.compare_flags = flags;
	meta.color = out.color;

	r = report_new(args->format, out.fp, &meta, &rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}

	r = snap_iter_new(st, before->id, ENTRY_FILE, roots, nroots, 0, &it_old, &d);
	if (r >= 0)
		r = snap_iter_new(st, after->id, ENTRY_FILE, roots, nroots, 0, &it_new, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	ctx.rep = rep;
	ctx.args = args;
	ctx.rules = rules;
	ctx.live = live;
	ctx.count_expected = args->count_expected;
	ctx.report_err = 0;
	ctx.attrib = NULL;
	ctx.attrib_err = 0;
	ctx.dpkg_run = before->purpose == SNAP_PURPOSE_UPGRADE &&
		       after->purpose == SNAP_PURPOSE_UPGRADE && before->label && after->label &&
		       strstr(before->label, "-pre") && strstr(after->label, "-post") &&
		       before->id < after->id;
	r = cli_attrib_open(st, before, after, rules, args, &ctx.attrib, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (cli_attrib_old_missing(ctx.attrib) &&
	    report_add_note(rep, "the old snapshot has no package data: file changes are not "
				 "attributed to package upgrades") < 0) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	r = snap_compare(it_old, it_new, flags, compare_visit, &ctx, &d);
	if (r >= 0)
		r = compare_probes(st, before, after, flags, &ctx, &d);
	if (r < 0 && ctx.report_err) {
		/* The report knows why it failed; finishing it says so. */
		if (report_finish(rep, &d) < 0)
			cli_error("%s", d.msg);
		else
			cli_error("cannot write the report: %s", strerror(-r));
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	if (r < 0) {
		if (r == -ECANCELED)
			cli_error("interrupted");
		else if (ctx.attrib_err)
			cli_error("cannot attribute changes to packages: %s", strerror(-r));
		else if (r == -ENOMEM || d.msg[0] == '\0')
			cli_error("cannot compare snapshots: %s", strerror(-r));
		else
			cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}

	/* The entries of the new side that could not be read are blind spots: list them. */
	snap_iter_free(it_new);
	it_new = NULL;
	r = snap_iter_new(st, after->id, ENTRY_FILE, roots, nroots, SNAP_ITER_ERRORS_ONLY, &it_new,
			  &d);
	while (r >= 0 && (r = snap_iter_next(it_new, &e, &d)) > 0)
		r = report_add_error(rep, e);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}

	code = cli_report_finish(rep);
out:
	cli_attrib_free(ctx.attrib);
	snap_iter_free(it_old);
	snap_iter_free(it_new);
	report_free(rep);
	return code;
}
