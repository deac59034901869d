/*
 * drift snapshots: list what the database holds; with --delete or --prune,
 * delete snapshots (store/prune.c does it, in one transaction each) and say
 * in one line what went and how the file's size changed.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "scanner/probe.h"
#include "common/banned.h"

/* Whether @name is among the @n names of @v. */
static bool names_have(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

static int add_list(struct strbuf *sb, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strbuf_addf(sb, "%s%s", i ? "," : "", v[i]) < 0)
			return -ENOMEM;
	return 0;
}

int cli_probes_format(struct strbuf *sb, const struct snap_info *info)
{
	size_t asked = info->nprobes + info->nprobes_unavailable, known = 0;
	int r;

	/* "all": every probe this drift has was asked for (run, or found unavailable). */
	for (size_t i = 0; i < probe_count; i++)
		known += names_have(info->probes, info->nprobes, probe_list[i]->name) ||
			 names_have(info->probes_unavailable, info->nprobes_unavailable,
				    probe_list[i]->name);
	if (asked && known == probe_count && asked == probe_count)
		r = strbuf_adds(sb, "all");
	else if (info->nprobes)
		r = add_list(sb, info->probes, info->nprobes);
	else
		r = strbuf_adds(sb, "none");
	if (r == 0 && info->nprobes_unavailable)
		r = strbuf_adds(sb, " (unavailable: ") < 0 ||
				    add_list(sb, info->probes_unavailable,
					     info->nprobes_unavailable) < 0 ||
				    strbuf_addch(sb, ')') < 0
			    ? -ENOMEM
			    : 0;
	return r < 0 ? -ENOMEM : 0;
}

struct list_ctx {
	FILE *fp;
	struct snap_store *st;
	enum report_format format;
	size_t count;
	struct strbuf sb;
	int64_t id; /* the snapshot being listed, for root_note() */
};

/* The roots that are wider than a line shows are counted: " ... (+N)". */
#define LIST_WIDTH  80
#define LIST_INDENT "       "

/*
 * "no entries": the snapshot holds nothing at or below @root. It did not
 * exist when the snapshot was taken (recorded so that checks look at it),
 * or the policy covers nothing there. One index seek per root.
 */
static const char *root_note(const char *root, void *userdata)
{
	struct list_ctx *ctx = userdata;
	const char *const roots[] = { root };
	const struct entry *e;
	struct snap_iter *it = NULL;
	int r;

	r = snap_iter_new(ctx->st, ctx->id, ENTRY_FILE, roots, 1, 0, &it, NULL);
	if (r == 0)
		r = snap_iter_next(it, &e, NULL);
	snap_iter_free(it);
	return r == 0 ? "no entries" : NULL;
}

static int list_one(const struct snap_info *info, void *userdata)
{
	struct list_ctx *ctx = userdata;
	char started[32] = "-";
	time_t t = (time_t)(info->started_ns / 1000000000);
	const char *label;
	struct tm tm;
	int r;

	strbuf_reset(&ctx->sb);
	if (ctx->format == REPORT_JSON) {
		r = report_format_snapshot_json(&ctx->sb, info);
		if (r < 0)
			return r;
		fprintf(ctx->fp, "%s\n    %s", ctx->count ? "," : "", ctx->sb.buf);
		ctx->count++;
		return 0;
	}
	/*
	 * Two lines a snapshot, so that each fits in 80 columns: what it is,
	 * then what it holds (probes, and roots as many as fit).
	 */
	if (ctx->count++ == 0)
		fprintf(ctx->fp, "%5s  %-25s %-8s  %-19s %9s %6s\n", "ID", "LABEL", "PURPOSE",
			"STARTED (UTC)", "ENTRIES", "ERRORS");
	if (gmtime_r(&t, &tm))
		strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm);
	/* An incomplete snapshot has no label: its label is chosen when it completes. */
	if (info->label)
		label = cli_path(info->label, strlen(info->label), 1);
	else
		label = info->complete ? "-" : "(incomplete)";
	fprintf(ctx->fp, "%c%4lld  %-25s %-8s  %-19s %9llu %6llu\n", info->is_baseline ? '*' : ' ',
		(long long)info->id, label, report_purpose_name(info->purpose), started,
		(unsigned long long)info->entries, (unsigned long long)info->errors);
	ctx->id = info->id;
	/* A delta snapshot says what it is stored against (deleting that re-bases it). */
	if (info->parent &&
	    strbuf_addf(&ctx->sb, LIST_INDENT "changes to #%lld;", (long long)info->parent) < 0)
		return -ENOMEM;
	if (strbuf_adds(&ctx->sb, info->parent ? " probes " : LIST_INDENT "probes ") < 0 ||
	    cli_probes_format(&ctx->sb, info) < 0 || strbuf_adds(&ctx->sb, "; roots ") < 0)
		return -ENOMEM;
	if (info->nroots == 0 && strbuf_adds(&ctx->sb, "none") < 0)
		return -ENOMEM;
	r = cli_roots_format(&ctx->sb, (const char *const *)info->roots, info->nroots,
			     ctx->sb.len < LIST_WIDTH ? LIST_WIDTH - ctx->sb.len : 1,
			     info->complete ? root_note : NULL, ctx);
	if (r < 0)
		return r;
	fprintf(ctx->fp, "%s\n", ctx->sb.buf);
	return 0;
}

/* ---- --delete, --prune, --vacuum ---- */

enum maint_action {
	MAINT_DELETE,
	MAINT_PRUNE,
	MAINT_VACUUM,
};

/* ", N thing(s)" into @sb; @always: also when N is 0. */
static int add_count(struct strbuf *sb, uint64_t n, const char *one, const char *many, bool always)
{
	if (!n && !always)
		return 0;
	return strbuf_addf(sb, "%s%llu %s", sb->len ? ", " : "", (unsigned long long)n,
			   cli_plural(n, one, many));
}

/* The one line of text: what went, and the size. */
static int maint_text(struct strbuf *sb, enum maint_action action, bool dry_run,
		      const struct snap_prune_stats *s)
{
	struct strbuf what = STRBUF_INIT;
	char before[32], after[32], freed[32];
	bool prune = action == MAINT_PRUNE;
	int r = 0;

	if (action != MAINT_VACUUM) {
		r = add_count(&what, s->checks, "check", "checks", prune);
		if (r >= 0)
			r = add_count(&what, s->incomplete, "incomplete", "incomplete", prune);
		if (r >= 0)
			r = add_count(&what, s->upgrades, "upgrade snapshot", "upgrade snapshots",
				      prune);
		if (r >= 0 && s->upgrades && prune)
			r = strbuf_addf(&what, " (%llu %s)", (unsigned long long)s->upgrade_pairs,
					cli_plural(s->upgrade_pairs, "pair", "pairs"));
		if (r >= 0)
			r = add_count(&what, s->scans, "scan snapshot", "scan snapshots", false);
		if (r >= 0)
			r = add_count(&what, s->baselines, "baseline", "baselines", false);
		if (r >= 0)
			r = add_count(&what, s->runs, "run", "runs", true);
		if (r >= 0)
			r = add_count(&what, s->packages, "package version", "package versions",
				      true);
	}
	cli_format_bytes(before, sizeof(before), s->bytes_before);
	cli_format_bytes(after, sizeof(after), s->bytes_after);
	cli_format_bytes(freed, sizeof(freed),
			 s->bytes_before > s->bytes_after ? s->bytes_before - s->bytes_after : 0);
	if (r >= 0)
		r = strbuf_addf(sb, "drift snapshots: %s%s; database ",
				action == MAINT_VACUUM ? "vacuumed"
				: dry_run              ? "would prune "
				: prune                ? "pruned "
						       : "deleted ",
				what.len ? what.buf : "");
	if (r < 0) {
		/* nothing more */
	} else if (dry_run && s->auto_vacuum) {
		r = strbuf_addf(sb, "%s -> about %s (%s would be freed)", before, after, freed);
	} else if (dry_run) {
		cli_format_bytes(freed, sizeof(freed), s->bytes_free);
		r = strbuf_addf(sb,
				"%s (%s would be free inside it; it cannot shrink until "
				"'drift snapshots --vacuum')",
				before, freed);
	} else if (!s->auto_vacuum && !s->vacuumed) {
		cli_format_bytes(freed, sizeof(freed), s->bytes_free);
		r = strbuf_addf(sb,
				"%s (%s free inside it, reused by later snapshots; "
				"'drift snapshots --vacuum' shrinks the file once)",
				before, freed);
	} else {
		r = strbuf_addf(sb, "%s -> %s (%s freed)", before, after, freed);
	}
	strbuf_release(&what);
	return r < 0 ? -ENOMEM : 0;
}

static void maint_json(FILE *fp, enum maint_action action, bool dry_run,
		       const struct snap_prune_stats *s)
{
	static const char *const names[] = { "delete", "prune", "vacuum" };

	fprintf(fp,
		"{\n  \"action\": \"%s\",\n  \"dry_run\": %s,\n  \"deleted\": {\n"
		"    \"checks\": %llu,\n    \"incomplete\": %llu,\n    \"upgrades\": %llu,\n"
		"    \"upgrade_pairs\": %llu,\n    \"scans\": %llu,\n    \"baselines\": %llu,\n"
		"    \"runs\": %llu,\n    \"package_versions\": %llu\n  },\n",
		names[action], dry_run ? "true" : "false", (unsigned long long)s->checks,
		(unsigned long long)s->incomplete, (unsigned long long)s->upgrades,
		(unsigned long long)s->upgrade_pairs, (unsigned long long)s->scans,
		(unsigned long long)s->baselines, (unsigned long long)s->runs,
		(unsigned long long)s->packages);
	fprintf(fp,
		"  \"database\": {\n    \"bytes_before\": %llu,\n    \"bytes_after\": %llu,\n"
		"    \"bytes_freed\": %llu,\n    \"bytes_free\": %llu,\n"
		"    \"auto_vacuum\": %s,\n    \"vacuumed\": %s\n  },\n"
		"  \"baseline_cleared\": %s\n}\n",
		(unsigned long long)s->bytes_before, (unsigned long long)s->bytes_after,
		(unsigned long long)(s->bytes_before > s->bytes_after
					     ? s->bytes_before - s->bytes_after
					     : 0),
		(unsigned long long)s->bytes_free, s->auto_vacuum ? "true" : "false",
		s->vacuumed ? "true" : "false", s->baseline_cleared ? "true" : "false");
}

/* The command line of a maintenance action is consistent; returns 0 or DRIFT_EXIT_USAGE. */
static int maint_check_args(const struct cli_args *args)
{
	const char *bad = NULL;

	if (args->delete_ && args->prune)
		bad = "--delete and --prune do not go together";
	else if (args->delete_ && !args->noperands)
		bad = "--delete needs the snapshots to delete (ids or labels)";
	else if (!args->delete_ && args->noperands)
		bad = "takes no arguments (except with --delete)";
	else if (!args->prune && args->have_keep)
		bad = "--keep goes with --prune";
	else if (!args->prune && args->have_keep_upgrades)
		bad = "--keep-upgrades goes with --prune";
	else if (!args->prune && args->dry_run)
		bad = "--dry-run goes with --prune";
	else if (args->dry_run && args->vacuum)
		bad = "--dry-run deletes nothing, so there is nothing to --vacuum";
	if (!bad)
		return 0;
	fprintf(stderr, "drift snapshots: %s\nsee 'drift snapshots --help'\n", bad);
	return DRIFT_EXIT_USAGE;
}

/* Resolve every name of --delete before anything is deleted: *ret_ids, each once. */
static int maint_resolve(struct snap_store *st, const struct cli_args *args, int64_t **ret_ids,
			 size_t *ret_n)
{
	int64_t *ids = calloc(args->noperands, sizeof(*ids));
	size_t n = 0;

	if (!ids) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < args->noperands; i++) {
		struct snap_info info = { 0 };
		struct diag d = { 0 };
		bool seen = false;
		int r = snap_find(st, args->operands[i], &info, &d);

		if (r < 0) {
			cli_error("%s%s", d.msg[0] ? d.msg : strerror(-r),
				  r == -ENOENT ? "; nothing was deleted" : "");
			free(ids);
			return r == -ENOENT ? DRIFT_EXIT_USAGE
					    : exit_code_for_error(CLI_STAGE_STORE, r);
		}
		for (size_t j = 0; j < n; j++)
			seen = seen || ids[j] == info.id;
		if (!seen)
			ids[n++] = info.id;
		snap_info_release(&info);
	}
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

static int cmd_snapshots_maint(struct cli_args *args)
{
	enum maint_action action = args->delete_ ? MAINT_DELETE
				   : args->prune ? MAINT_PRUNE
						 : MAINT_VACUUM;
	struct snap_prune_stats stats = { 0 };
	struct snap_store *st = NULL;
	struct cli_output out;
	struct strbuf sb = STRBUF_INIT;
	struct diag d = { 0 };
	const char *db = cli_db_path(args);
	int64_t *ids = NULL;
	size_t nids = 0;
	struct stat sbuf;
	int r = 0, code;

	code = maint_check_args(args);
	if (code)
		return code;
	/* Never creates a database: without one there is nothing to delete. */
	if (stat(db, &sbuf) < 0 && errno == ENOENT) {
		cli_error("no database at '%s'", db);
		return DRIFT_EXIT_NO_BASELINE;
	}
	code = cli_store_open(args, SNAP_OPEN_WRITE, &st);
	if (code)
		return code;
	if (action == MAINT_DELETE) {
		code = maint_resolve(st, args, &ids, &nids);
		if (code)
			goto out;
	}
	/* Before deleting: a report that cannot be written stops everything. */
	code = cli_output_open(&out, args);
	if (code)
		goto out;

	if (action == MAINT_DELETE) {
		/* Named: a baseline among them may go (and only those named). */
		for (size_t i = 0; i < nids && r >= 0; i++)
			r = snap_delete(st, ids[i], SNAP_DELETE_BASELINE, &stats, &d);
	} else if (action == MAINT_PRUNE) {
		struct snap_prune_opts opts = {
			.keep_checks = args->keep,
			.keep_upgrades = args->keep_upgrades,
			.keep_verify = CLI_VERIFY_RUNS_KEPT,
			.dry_run = args->dry_run,
		};

		r = snap_prune(st, &opts, &stats, &d);
	}
	if (r >= 0 && (args->vacuum || action == MAINT_VACUUM))
		r = snap_store_vacuum(st, &stats, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
	} else if (args->format == REPORT_JSON) {
		maint_json(out.fp, action, args->dry_run, &stats);
	} else if (!args->quiet) {
		if (maint_text(&sb, action, args->dry_run, &stats) < 0) {
			cli_error("out of memory");
			code = DRIFT_EXIT_INTERNAL;
		} else {
			fprintf(out.fp, "%s\n", sb.buf);
		}
	}
	/* Said even when quiet, and even after a later failure: the host has no baseline. */
	if (stats.baseline_cleared)
		fprintf(stderr, "drift snapshots: the baseline was deleted; there is no baseline "
				"now: make one with 'drift init' or 'drift baseline SNAPSHOT'\n");
	r = cli_output_close(&out, code == 0);
	if (r && !code)
		code = r;
out:
	strbuf_release(&sb);
	free(ids);
	snap_store_free(st);
	return code;
}

/* ---- seals: --new-key, --head, --verify ---- */

static int seals_check_args(const struct cli_args *args)
{
	const char *bad = NULL;
	int n = !!args->new_key + (args->head && !args->verify_seals) + !!args->verify_seals;

	if (n > 1)
		bad = "--new-key, --head and --verify go alone (--verify takes --head=SEQ:HEX)";
	else if (args->delete_ || args->prune || args->vacuum)
		bad = "--new-key, --head and --verify do not go with --delete, --prune or --vacuum";
	else if (args->noperands)
		bad = "takes no arguments with --new-key, --head or --verify";
	else if (args->head && args->head_arg && !args->verify_seals)
		bad = "--head=SEQ:HEX goes with --verify (--head alone prints the newest seal)";
	else if (args->head && !args->head_arg && args->verify_seals)
		bad = "with --verify, --head needs the seal recorded off the host: --head=SEQ:HEX";
	if (!bad)
		return 0;
	fprintf(stderr, "drift snapshots: %s\nsee 'drift snapshots --help'\n", bad);
	return DRIFT_EXIT_USAGE;
}

static int seals_new_key(struct cli_args *args)
{
	struct diag d = { 0 };
	int r = snap_seal_key_create(args->new_key, 0, &d);

	if (r < 0) {
		cli_error("%s", d.msg);
		return r == -EEXIST ? DRIFT_EXIT_USAGE : DRIFT_EXIT_OUTPUT;
	}
	if (!args->quiet)
		printf("drift snapshots: a new sealing key is in '%s' (epoch 0; a new epoch every"
		       " day).\n"
		       "Copy it off this host now: that copy verifies every seal (drift snapshots"
		       " --verify --key COPY).\n"
		       "Seal with it: --key '%s', or DRIFT_SEAL_KEY='%s'. drift rewrites the file to"
		       " the current\n"
		       "epoch as it seals and forgets older keys, so that whoever takes the host"
		       " later cannot forge older seals.\n",
		       args->new_key, args->new_key, args->new_key);
	return 0;
}

static void seal_head_text(char *out, size_t size, const struct snap_seal_head *h)
{
	char chain[65];

	snap_seal_hex(h->chain, 32, chain);
	snprintf(out, size, "%lld:%s", (long long)h->seq, chain);
}

static int seals_head(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct snap_seal_head h;
	struct cli_output out;
	struct diag d = { 0 };
	char head[96], when[64];
	int r, code;

	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	r = snap_seal_head(st, &h, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_NO_BASELINE
				    : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	seal_head_text(head, sizeof(head), &h);
	cli_format_utc(when, sizeof(when), h.at_ns);
	if (args->format == REPORT_JSON)
		fprintf(out.fp,
			"{\"seal\": %lld, \"head\": \"%s\", \"at\": \"%s\", \"epoch\": %lld,"
			" \"authenticated\": %s}\n",
			(long long)h.seq, head, when, (long long)h.epoch,
			h.has_mac ? "true" : "false");
	else
		fprintf(out.fp, "%s  %s  epoch %lld  %s\n", head, when, (long long)h.epoch,
			h.has_mac ? "hmac" : "no key");
	code = cli_output_close(&out, true);
out:
	snap_store_free(st);
	return code;
}

struct seal_problems {
	FILE *fp;
	bool json;
	uint64_t n;
};

static int seal_problem(void *userdata, int64_t seq, const char *msg)
{
	struct seal_problems *p = userdata;

	if (p->json) {
		fprintf(p->fp, "%s\n    {\"seal\": %lld, \"problem\": ", p->n ? "," : "",
			(long long)seq);
		/* drift's own words and numbers: quotes, backslashes and controls escaped. */
		fputc('"', p->fp);
		for (const char *c = msg; *c; c++) {
			if (*c == '"' || *c == '\\')
				fprintf(p->fp, "\\%c", *c);
			else if ((unsigned char)*c < 0x20)
				fprintf(p->fp, "\\u%04x", (unsigned)*c);
			else
				fputc(*c, p->fp);
		}
		fputc('"', p->fp);
		fputc('}', p->fp);
	} else {
		fprintf(p->fp, "tampered: %s\n", msg);
	}
	p->n++;
	return 0;
}

static int parse_head(const char *arg, struct snap_seal_verify_opts *o)
{
	char *end = NULL;
	long long seq;

	errno = 0;
	seq = strtoll(arg, &end, 10);
	if (errno || end == arg || *end != ':' || seq < 1 || strlen(end + 1) != 64)
		return -EINVAL;
	for (size_t i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(end + 1 + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		o->head_chain[i] = (uint8_t)v;
	}
	o->have_head = true;
	o->head_seq = seq;
	return 0;
}

static int seals_verify(struct cli_args *args)
{
	struct snap_seal_verify_opts o = { 0 };
	struct snap_seal_verify_stats stats;
	struct snap_seal_key *key = NULL;
	struct snap_store *st = NULL;
	struct seal_problems p = { 0 };
	struct cli_output out;
	struct diag d = { 0 };
	const char *kp = args->seal_key;
	char head[65];
	int r, code;

	if (args->head_arg && parse_head(args->head_arg, &o) < 0) {
		fprintf(stderr,
			"drift snapshots: --head takes SEQ:HEX (64 hex digits), as --head prints,"
			" not '%s'\n",
			args->head_arg);
		return DRIFT_EXIT_USAGE;
	}
	if (!kp || !*kp)
		kp = getenv("DRIFT_SEAL_KEY");
	if (kp && *kp) {
		r = snap_seal_key_load(kp, &key, &d);
		if (r < 0) {
			cli_error("%s", d.msg);
			return DRIFT_EXIT_USAGE;
		}
		o.key = key;
	}
	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		goto out;
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	p.fp = out.fp;
	p.json = args->format == REPORT_JSON;
	if (p.json)
		fputs("{\n  \"problems\": [", out.fp);
	cli_signals_install();
	r = snap_seal_verify(st, &o, seal_problem, &p, &stats, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		cli_output_close(&out, false);
		goto out;
	}
	snap_seal_hex(stats.head_chain, 32, head);
	if (p.json) {
		fprintf(out.fp,
			"%s],\n  \"ok\": %s,\n  \"seals\": %llu,\n  \"authenticated\": %llu,\n"
			"  \"before_key\": %llu,\n  \"parts\": %llu,\n  \"head\": \"%lld:%s\"\n}\n",
			p.n ? "\n  " : "", stats.problems ? "false" : "true",
			(unsigned long long)stats.seals, (unsigned long long)stats.authenticated,
			(unsigned long long)stats.before_key, (unsigned long long)stats.objects,
			(long long)stats.head_seq, head);
	} else if (stats.problems) {
		fprintf(out.fp,
			"drift snapshots: %llu problem%s: the database was altered after it"
			" was sealed\n",
			(unsigned long long)stats.problems, stats.problems == 1 ? "" : "s");
	} else if (!args->quiet) {
		fprintf(out.fp, "drift snapshots: %llu seals hold over %llu parts",
			(unsigned long long)stats.seals, (unsigned long long)stats.objects);
		if (key)
			fprintf(out.fp, ", %llu authenticated",
				(unsigned long long)stats.authenticated);
		if (stats.before_key)
			fprintf(out.fp, " (%llu older than the key: not authenticated)",
				(unsigned long long)stats.before_key);
		if (!key && stats.unauthenticated)
			fprintf(out.fp, " (%llu carry a MAC: --key to check them)",
				(unsigned long long)stats.unauthenticated);
		fprintf(out.fp, "; head %lld:%s\n", (long long)stats.head_seq, head);
	}
	code = cli_output_close(&out, true);
	if (!code && stats.problems)
		code = DRIFT_EXIT_TAMPERED;
out:
	snap_seal_key_free(key);
	snap_store_free(st);
	return code;
}

static int cmd_snapshots_seals(struct cli_args *args)
{
	int code = seals_check_args(args);

	if (code)
		return code;
	if (args->new_key)
		return seals_new_key(args);
	if (args->verify_seals)
		return seals_verify(args);
	return seals_head(args);
}

static int cmd_snapshots(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct cli_output out;
	struct list_ctx ctx = { 0 };
	const char *db = cli_db_path(args);
	int r, code;

	if (args->new_key || args->head || args->verify_seals)
		return cmd_snapshots_seals(args);
	if (args->delete_ || args->prune || args->vacuum)
		return cmd_snapshots_maint(args);
	code = maint_check_args(args);
	if (code)
		return code;
	/* As every command: as root, a database others could read or write is refused. */
	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	cli_signals_install(); /* Ctrl-C ends the listing cleanly: no temporary left */
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	ctx.fp = out.fp;
	ctx.st = st;
	ctx.format = args->format;
	strbuf_init(&ctx.sb);
	if (ctx.format == REPORT_JSON)
		fputs("{\n  \"snapshots\": [", ctx.fp);
	r = snap_list(st, list_one, &ctx, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
	} else if (ctx.format == REPORT_JSON) {
		fputs(ctx.count ? "\n  ]\n}\n" : "]\n}\n", ctx.fp);
	} else if (ctx.count == 0 && !args->quiet) {
		fprintf(stderr, "drift snapshots: no snapshots in '%s'\n", db);
	}
	strbuf_release(&ctx.sb);
	r = cli_output_close(&out, code == 0);
	if (r && !code)
		code = r;
out:
	snap_store_free(st);
	return code;
}

const struct cli_command cmd_snapshots_def = {
	.name = "snapshots",
	.summary = "list the stored snapshots",
	.usage =
		"usage: drift snapshots [options]\n"
		"       drift snapshots --delete [options] SNAPSHOT...\n"
		"       drift snapshots --prune [--keep N] [--keep-upgrades N] [--dry-run] [options]\n"
		"       drift snapshots --vacuum [options]\n"
		"       drift snapshots --verify [--key FILE] [--head=SEQ:HEX] [options]\n"
		"       drift snapshots --head | --new-key FILE\n"
		"\n"
		"List the snapshots in the database, oldest first; '*' marks the baseline. An\n"
		"incomplete snapshot is one whose scan was interrupted (or refused). Below each\n"
		"one, the probes it holds ('all', 'none' or a list; those asked for whose source\n"
		"was missing as 'unavailable') and its roots: each once, none below another\n"
		"(its entries are in that one's), as many as fit in 80 columns ('... (+N)'). A\n"
		"root marked '(no entries)' held nothing: it did not exist then (every check\n"
		"looks at it again), or the policy covers nothing there. '--format json' lists\n"
		"every root as recorded.\n"
		"\n"
		"--delete deletes the snapshots named (ids or labels; every name is resolved\n"
		"first: one that names nothing deletes nothing), with their runs and the\n"
		"package versions no other snapshot has; a baseline only when named. --prune\n"
		"deletes interrupted snapshots older than 10 minutes, checks beyond the newest\n"
		"N, upgrade snapshots beyond the newest N (pre/post pairs whole), runs of\n"
		"deleted snapshots, verify runs beyond the newest 30, and package versions no\n"
		"snapshot has; never a baseline or a 'drift scan --label' snapshot. Both print\n"
		"one line: what went, and the database's size before and after.\n"
		"\n"
		"Seals: every snapshot, run, acceptance, remediation and baseline change is\n"
		"sealed, a SHA-256 digest chained to the seal before it (and, with a key,\n"
		"HMAC-SHA256 under the key of its epoch). --verify recomputes them all and\n"
		"reports anything altered, inserted, removed or reordered since (exit 26).\n"
		"--head prints the newest seal as SEQ:HEX: recorded off the host, it lets\n"
		"--verify --head=SEQ:HEX find a chain cut or rewritten after it. --new-key\n"
		"makes a key file; keep a copy off the host.\n"
		"\n"
		"options:\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --format FORMAT    text (default) or json\n"
		"  --output FILE      write the list (or the summary) to FILE\n"
		"  --allow-insecure   as root, read a database others could have written\n"
		"  --delete           delete the SNAPSHOTs named\n"
		"  --prune            delete what the keep rules leave\n"
		"  --keep N           with --prune: keep the newest N checks (default 30; 0: all)\n"
		"  --keep-upgrades N  with --prune: keep the newest N upgrade snapshots\n"
		"                     (default 30; 0: all)\n"
		"  --dry-run          with --prune: say what would go, delete nothing\n"
		"  --vacuum           rewrite a database made by an older drift once, so that\n"
		"                     it shrinks from then on (needs its size free on disk)\n"
		"  --verify           recompute every seal; exit 26 when one does not hold\n"
		"  --head[=SEQ:HEX]   print the newest seal; with --verify, the seal recorded\n"
		"                     off the host that must still be there\n"
		"  --key FILE         with --verify, the verification key (default\n"
		"                     $DRIFT_SEAL_KEY); with --delete or --prune, the sealing key\n"
		"  --new-key FILE     write a new key file (mode 0600; FILE must not exist)\n"
		"  -q, --quiet        say nothing when there are no snapshots (or after\n"
		"                     --delete, --prune)\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_ALLOW_INSECURE | OPT_FORMAT | OPT_OUTPUT | OPT_QUIET | OPT_KEEP |
		OPT_PRUNE | OPT_SEALS,
	.run = cmd_snapshots,
};
