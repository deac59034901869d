/*
 * Probes in a scan: which ones run (--probes, the baseline's, the policy's),
 * running them into the snapshot writer under --root with the policy as a
 * filter, and recording package ownership for attribution.
 *
 * A probe whose source is missing is recorded as unavailable and the scan
 * goes on; a malformed line in a source is a warning on stderr (a finding),
 * never a failure. Only the writer failing, or an interruption, fails the
 * scan.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/suggest.h"
#include "common/strbuf.h"
#include "scanner/dpkg.h"
#include "scanner/probe.h"
#include "common/banned.h"

/* Add probe @p to @list (no duplicates), which has room for probe_count. */
static void list_add(const char **list, size_t *n, const struct probe *p)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i] == p->name)
			return;
	list[(*n)++] = p->name;
}

/* Put @list in probe_list order, so snapshots record them the same way. */
static void list_sort(const char **list, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < probe_count; i++)
		for (size_t j = out; j < n; j++)
			if (list[j] == probe_list[i]->name) {
				const char *t = list[out];
				list[out++] = list[j];
				list[j] = t;
				break;
			}
}

/* The valid name nearest to @tok, if it is near enough to be a typo; else NULL. */
static const char *nearest_name(const char *tok)
{
	static const char *const words[] = { "all", "none" };
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < probe_count + 2; i++) {
		const char *name = i < probe_count ? probe_list[i]->name : words[i - probe_count];
		size_t d = suggest_distance(tok, name);

		/* A third of the name may be wrong: "pakage", "sevrice", "mount" for "mounts". */
		if (d < best_d && d > 0 && d * 3 <= strlen(name)) {
			best = name;
			best_d = d;
		}
	}
	return best;
}

int cli_probes_check(const char *list, struct diag *reterr)
{
	char *copy = strdup(list), *save = NULL;
	int r = 0;

	if (!copy)
		return diag_set(reterr, -ENOMEM, "out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok && r == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		struct strbuf names = STRBUF_INIT;
		const char *near;

		if (!strcmp(tok, "all") || !strcmp(tok, "none") || probe_find(tok))
			continue;
		near = nearest_name(tok);
		if (near) {
			r = diag_set(reterr, -EINVAL, "unknown probe '%s'; did you mean '%s'?", tok,
				     near);
			break;
		}
		for (size_t i = 0; i < probe_count; i++)
			strbuf_addf(&names, "%s%s", i ? ", " : "", probe_list[i]->name);
		r = diag_set(reterr, -EINVAL, "unknown probe '%s' (probes: %s; or all, none)", tok,
			     names.buf);
		strbuf_release(&names);
	}
	free(copy);
	return r;
}

int cli_probes_select(const struct cli_args *args, const struct rule_set *rules,
		      const struct snap_info *base, bool have_paths, const char ***ret_names,
		      size_t *ret_n)
{
	const char **list = calloc(probe_count + 1, sizeof(*list));
	size_t n = 0;

	if (!list) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (args->probes) {
		char *copy = strdup(args->probes), *save = NULL;

		if (!copy) {
			free(list);
			cli_error("out of memory");
			return DRIFT_EXIT_INTERNAL;
		}
		struct diag d = { 0 };
		int r = cli_probes_check(args->probes, &d);

		/* cli_args_parse() checked already; this is for callers that did not. */
		if (r < 0) {
			cli_error("%s", d.msg);
			free(copy);
			free(list);
			return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_USAGE;
		}
		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			const struct probe *p = probe_find(tok);

			if (!strcmp(tok, "all")) {
				for (size_t i = 0; i < probe_count; i++)
					list_add(list, &n, probe_list[i]);
				continue;
			}
			if (p) /* else "none" */
				list_add(list, &n, p);
		}
		free(copy);
	} else if (have_paths) {
		/* Paths name what to look at: no system state unless asked for. */
	} else if (base) {
		/* What the baseline asked for, so the two compare kind by kind. */
		for (size_t i = 0; i < base->nprobes; i++) {
			const struct probe *p = probe_find(base->probes[i]);
			if (p)
				list_add(list, &n, p);
		}
		for (size_t i = 0; i < base->nprobes_unavailable; i++) {
			const struct probe *p = probe_find(base->probes_unavailable[i]);
			if (p)
				list_add(list, &n, p);
		}
	} else {
		const struct rule_scan *scan = rule_set_scan(rules);

		for (size_t i = 0; i < scan->nprobes; i++) {
			const struct probe *p = probe_find(scan->probes[i]);
			if (p)
				list_add(list, &n, p);
		}
	}
	list_sort(list, n);
	*ret_names = list;
	*ret_n = n;
	return 0;
}

/* Findings printed per probe; the rest are counted, per file. */
#define FINDINGS_SHOWN 5

struct probe_run {
	struct snap_writer *w;
	const struct rule_set *rules;
	struct diag diag;
	int err;             /* the writer failed */
	unsigned findings;   /* of the current probe */
	uint64_t entries;    /* of the current probe */
	char more_file[128]; /* the file of the findings not shown, while only one */
	bool more_files;     /* ...or they were about several files */
};

static int probe_emit(const struct entry *e, void *userdata)
{
	struct probe_run *run = userdata;
	int r;

	if (cli_interrupted())
		return -ECANCELED;
	/* As for files: what no rule covers is not inventoried, and excludes win. */
	if (run->rules && !rule_set_match_kind(run->rules, e->kind, e->key, e->key_len))
		return 0;
	r = snap_writer_add(run->w, e, &run->diag);
	if (r < 0) {
		run->err = r;
		return r;
	}
	run->entries++;
	return 0;
}

static void probe_finding(const char *probe, const char *file, unsigned line, const char *msg,
			  void *userdata)
{
	struct probe_run *run = userdata;

	/* A host can have hundreds of the same problem: show a few, count the rest. */
	if (++run->findings > FINDINGS_SHOWN) {
		if (run->findings == FINDINGS_SHOWN + 1)
			snprintf(run->more_file, sizeof(run->more_file), "%s", file);
		else if (strcmp(run->more_file, file))
			run->more_files = true;
		return;
	}
	if (line)
		cli_warn("%s probe: %s:%u: %s", probe, cli_path(file, strlen(file), 0), line, msg);
	else
		cli_warn("%s probe: %s: %s", probe, cli_path(file, strlen(file), 0), msg);
}

struct owner_ctx {
	struct snap_writer *w;
	struct diag *diag;
	uint64_t files;
};

static int owner_file(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	struct owner_ctx *oc = userdata;

	(void)pkg;
	oc->files++;
	return snap_writer_add_package_file(oc->w, f->path, f->path_len, f->has_md5 ? f->md5 : NULL,
					    f->conffile, oc->diag);
}

/*
 * Record which package version owns which file, for attribution. A
 * version's list is read only the first time the database sees it.
 */
static int record_ownership(struct snap_writer *w, int rootfd, struct probe_run *run)
{
	struct dpkg_db *db = NULL;
	struct diag d = { 0 };
	int r;

	/* The probe reported the status file's problems already: no findings twice. */
	r = dpkg_db_load(rootfd, NULL, NULL, &db, &d);
	if (r < 0)
		return 0; /* vanished since the probe read it: nothing to attribute */
	for (size_t i = 0; i < dpkg_db_count(db); i++) {
		const struct dpkg_pkg *pkg = dpkg_db_get(db, i);
		size_t slen = strlen(pkg->status);
		struct owner_ctx oc = { w, &run->diag, 0 };
		bool known = false;

		/* Only what is installed owns files (config-files states own conffiles only). */
		if (!pkg->version[0] || slen < 10 || strcmp(pkg->status + slen - 10, " installed"))
			continue;
		r = snap_writer_add_package(w, pkg->name, pkg->arch, pkg->version, &known,
					    &run->diag);
		if (r < 0)
			goto fail;
		if (known)
			continue;
		memset(&d, 0, sizeof(d));
		r = dpkg_pkg_files(db, i, owner_file, &oc, &d);
		if (r < 0 && run->diag.msg[0])
			goto fail; /* the store failed */
		if (r < 0 || oc.files == 0) {
			/*
			 * No list, or one that cannot be read: record nothing, so that
			 * the next snapshot reads it again instead of taking "no files"
			 * for the truth.
			 */
			if (r < 0)
				cli_warn("package probe: %s", d.msg[0] ? d.msg : strerror(-r));
			r = snap_writer_drop_package(w, &run->diag);
			if (r < 0)
				goto fail;
			continue;
		}
		if (cli_interrupted()) {
			r = -ECANCELED;
			goto fail;
		}
	}
	dpkg_db_free(db);
	return 0;
fail:
	run->err = r;
	dpkg_db_free(db);
	return r;
}

int cli_probes_run(struct snap_store *st, struct snap_writer *w, const struct snap_new *params,
		   const struct rule_set *rules, const struct cli_args *args)
{
	const char **ran = NULL, **unavailable = NULL;
	size_t nran = 0, nunavailable = 0;
	uint8_t secret[32];
	struct diag d = { 0 };
	struct probe_run run = { 0 };
	int rootfd = -1, r, code = 0;

	rootfd = args->root_fd;
	if (rootfd < 0) {
		cli_error("internal error: the root is not open");
		return DRIFT_EXIT_INTERNAL;
	}
	r = snap_store_secret(st, secret, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	ran = calloc(params->nprobes + 1, sizeof(*ran));
	unavailable = calloc(params->nprobes + 1, sizeof(*unavailable));
	if (!ran || !unavailable) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	run.w = w;
	run.rules = rules;
	for (size_t i = 0; i < params->nprobes; i++) {
		const struct probe *p = probe_find(params->probes[i]);
		struct probe_ctx pc = { 0 };

		if (!p)
			continue;
		pc.rootfd = rootfd;
		pc.hash = params->hash;
		pc.secret = secret;
		pc.secret_len = sizeof(secret);
		pc.emit = probe_emit;
		pc.finding = probe_finding;
		pc.userdata = &run;
		run.findings = 0;
		run.entries = 0;
		run.more_files = false;
		memset(&d, 0, sizeof(d));
		r = p->run(&pc, &d);
		if (run.findings > FINDINGS_SHOWN)
			cli_warn("%s probe: %u more like these%s%s", p->name,
				 run.findings - FINDINGS_SHOWN, run.more_files ? "" : " in ",
				 run.more_files
					 ? ""
					 : cli_path(run.more_file, strlen(run.more_file), 0));
		if (run.err || r == -ECANCELED || cli_interrupted()) {
			if (run.err && run.err != -ECANCELED) {
				cli_error("%s", run.diag.msg);
				code = exit_code_for_error(CLI_STAGE_STORE, run.err);
			} else {
				cli_error("interrupted: the new snapshot is left incomplete, "
					  "nothing else was changed");
				code = DRIFT_EXIT_INTERRUPTED;
			}
			goto out;
		}
		if (r == PROBE_UNAVAILABLE) {
			unavailable[nunavailable++] = p->name;
			continue;
		}
		if (r < 0) {
			/* Never fails the scan: the probe's kinds are simply not compared. */
			cli_warn("%s probe failed: %s", p->name, d.msg[0] ? d.msg : strerror(-r));
			unavailable[nunavailable++] = p->name;
			continue;
		}
		ran[nran++] = p->name;
		if (!strcmp(p->name, "package") &&
		    (!rules || rule_set_packages(rules)->attribution) &&
		    record_ownership(w, rootfd, &run) < 0) {
			if (run.err == -ECANCELED) {
				cli_error("interrupted: the new snapshot is left incomplete, "
					  "nothing else was changed");
				code = DRIFT_EXIT_INTERRUPTED;
			} else {
				cli_error("%s", run.diag.msg);
				code = exit_code_for_error(CLI_STAGE_STORE, run.err);
			}
			goto out;
		}
	}
	r = snap_writer_set_probes(w, ran, nran, unavailable, nunavailable, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
	}
out:
	free(ran);
	free(unavailable);
	return code;
}
