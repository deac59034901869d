/*
 * `drift verify` as findings: the host against the package database alone
 * (scan_verify(), as `debsums -a`), every file that differs judged here —
 * modified, removed, or (with unowned) added and owned by no package — with
 * the severity of the policy's rule for its path.
 */
#include "compare/internal.h"
#include "compare/waive.h"
#include "common/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "scanner/dpkg.h"
#include "scanner/probe.h"
#include "scanner/scanner.h"
#include "scanner/verify.h"
#include "common/banned.h"

/* A file no package owns, found by the walk before verifying. */
struct unowned {
	char *key;
	size_t len;
	uint32_t mode;
};

struct verifier {
	const struct compare_verify_opts *o;
	const struct compare_sink *sink;
	int sink_err;
	/* unowned files: sorted by key, handed out merged into the verify results' order */
	struct unowned *unowned;
	size_t nunowned, next_unowned, alloc_unowned;
};

/* The walk for unowned files: what is in scope and not in the packages' lists. */
struct unowned_walk {
	struct verifier *vf;
	const struct dpkg_index *idx;
	int err;
};

static unsigned unowned_decide(const char *path, size_t len, void *userdata)
{
	const struct unowned_walk *w = userdata;

	if (!rule_set_unowned_scope(w->vf->o->rules, path, len))
		return SCAN_STAT | SCAN_NO_ENTRY; /* a scope may start further down */
	return SCAN_STAT;
}

static bool stopped(const struct verifier *vf)
{
	return vf->o->stop && *vf->o->stop;
}

static enum scan_action unowned_visit(const struct entry *e, void *userdata)
{
	struct unowned_walk *w = userdata;
	struct verifier *vf = w->vf;
	size_t len = e->key_len, pkg;
	const struct dpkg_file *f;
	struct unowned *u;

	if (stopped(vf))
		return SCAN_STOP;
	if (!(S_ISREG(e->mode) || S_ISLNK(e->mode)) ||
	    dpkg_index_find(w->idx, e->key, len, &pkg, &f))
		return SCAN_CONTINUE;
	if (vf->nunowned == vf->alloc_unowned) {
		size_t na = vf->alloc_unowned ? vf->alloc_unowned * 2 : 64;
		struct unowned *nu = realloc(vf->unowned, na * sizeof(*nu));
		if (!nu) {
			w->err = -ENOMEM;
			return SCAN_STOP;
		}
		vf->unowned = nu;
		vf->alloc_unowned = na;
	}
	u = &vf->unowned[vf->nunowned];
	u->key = malloc(len + 1);
	if (!u->key) {
		w->err = -ENOMEM;
		return SCAN_STOP;
	}
	memcpy(u->key, e->key, len);
	u->key[len] = '\0';
	u->len = len;
	u->mode = e->mode;
	vf->nunowned++;
	return SCAN_CONTINUE;
}

/* Ctrl-C also while the walk is in directories outside the scope (no visits there). */
static bool unowned_tick(const struct scan_stats *stats, void *userdata)
{
	struct unowned_walk *w = userdata;

	(void)stats;
	return stopped(w->vf);
}

static int unowned_cmp(const void *a, const void *b)
{
	const struct unowned *ua = a, *ub = b;

	return snap_key_compare(ua->key, ua->len, ub->key, ub->len);
}

static int emit(struct verifier *vf, const struct finding *found)
{
	struct finding f = *found;
	struct strbuf name = STRBUF_INIT;
	char waived[640];
	int r;

	/* One package, one event: a flood of its files folds under it. */
	r = finding_package_event(&f, true, &name);
	waiver_apply(vf->o->waivers, &f, waived, sizeof(waived));
	if (r >= 0)
		r = vf->sink->finding ? vf->sink->finding(&f, vf->sink->userdata) : 0;
	strbuf_release(&name);

	if (r < 0)
		vf->sink_err = r;
	return r;
}

/* Hand out the unowned files that sort before @key (all of them for NULL). */
static int flush_unowned(struct verifier *vf, const char *key, size_t len)
{
	const struct rule_packages *pk = rule_set_packages(vf->o->rules);

	while (vf->next_unowned < vf->nunowned) {
		const struct unowned *u = &vf->unowned[vf->next_unowned];
		struct entry e = { 0 };
		struct rule_verdict v = { 0 };
		struct finding f = { .change = CHANGE_ADDED, .after = &e };
		int r;

		if (key && snap_key_compare(u->key, u->len, key, len) >= 0)
			break;
		e.kind = ENTRY_FILE;
		e.key = u->key;
		e.key_len = u->len;
		e.mode = u->mode;
		v.class = CLASS_DRIFT;
		v.rule = rule_set_match(vf->o->rules, u->key, u->len);
		/* A floor, as in a check: a rule that says more keeps its severity. */
		v.severity = v.rule && rule_severity(v.rule) > pk->unowned_severity
				     ? rule_severity(v.rule)
				     : pk->unowned_severity;
		snprintf(v.reason, sizeof(v.reason), "not owned by any package");
		finding_set_verdict(&f, &v, true);
		f.package.unowned = true;
		r = emit(vf, &f);
		if (r < 0)
			return r;
		vf->next_unowned++;
	}
	return 0;
}

/* The system directories walked for unowned files (the policy's scope filters them). */
static const char *const unowned_roots[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/opt", "/etc",
};
#define NUNOWNED_ROOTS (sizeof(unowned_roots) / sizeof(unowned_roots[0]))

static int find_unowned(struct verifier *vf, struct diag *reterr)
{
	const struct compare_verify_opts *o = vf->o;
	struct dpkg_index *idx = NULL;
	struct unowned_walk w = { 0 };
	struct scan_opts opts = { 0 };
	const char *roots[NUNOWNED_ROOTS];
	size_t nroots = 0;
	int r;

	r = dpkg_index_build(o->db, &idx, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < NUNOWNED_ROOTS; i++) {
		/*
		 * Only real directories: /bin -> usr/bin is walked as part of /usr.
		 * Looked up from the root's fd, the last component not followed.
		 */
		int fd = probe_open(o->rootfd, unowned_roots[i], O_PATH | O_NOFOLLOW);
		struct stat st;

		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			roots[nroots++] = unowned_roots[i];
		close(fd);
	}
	w.vf = vf;
	w.idx = idx;
	opts.roots = roots;
	opts.nroots = nroots;
	opts.use_rootfd = true;
	opts.rootfd = o->rootfd;
	opts.nthreads = o->threads;
	opts.hash = HASH_NONE;
	opts.decide = unowned_decide;
	opts.decide_data = &w;
	opts.visit = unowned_visit;
	opts.tick = unowned_tick;
	opts.userdata = &w;
	r = nroots ? scan_walk(&opts, NULL, reterr) : 0;
	dpkg_index_free(idx);
	if (w.err)
		return diag_set(reterr, w.err, "cannot list unowned files: %s", strerror(-w.err));
	if (r == -ECANCELED)
		return r;
	if (r < 0)
		return diag_set(reterr, r, "cannot list unowned files: %s",
				reterr && reterr->msg[0] ? reterr->msg : strerror(-r));
	if (vf->nunowned > 0) /* none: vf->unowned is NULL, which qsort() must not get */
		qsort(vf->unowned, vf->nunowned, sizeof(*vf->unowned), unowned_cmp);
	return 0;
}

static int on_result(const struct verify_result *res, void *userdata)
{
	struct verifier *vf = userdata;
	const struct rule_set *rules = vf->o->rules;
	struct entry before = { 0 }, after = { 0 };
	struct finding f = { 0 };
	struct rule_verdict v = { .class = CLASS_DRIFT, .severity = SEVERITY_MEDIUM };
	char package[160];
	int r;

	r = flush_unowned(vf, res->path, res->path_len);
	if (r < 0)
		return r;
	if (res->status == VERIFY_ERROR) {
		/* Unreadable: a blind spot, listed as such, not a deviation. */
		after.kind = ENTRY_FILE;
		after.key = res->path;
		after.key_len = res->path_len;
		after.mode = S_IFREG;
		after.err = res->err;
		r = vf->sink->blind_spot ? vf->sink->blind_spot(&after, vf->sink->userdata) : 0;
		if (r < 0)
			vf->sink_err = r;
		return r;
	}

	/* The package's MD5 is the before side's hash, the file's the after side's. */
	before.kind = after.kind = ENTRY_FILE;
	before.key = after.key = res->path;
	before.key_len = after.key_len = res->path_len;
	before.mode = S_IFREG | 0644;
	before.hash_algo = HASH_MD5;
	before.hash_len = 16;
	memcpy(before.hash, res->expected, 16);
	f.before = &before;
	switch (res->status) {
	case VERIFY_MISMATCH:
		after.mode = before.mode;
		after.hash_algo = HASH_MD5;
		after.hash_len = 16;
		memcpy(after.hash, res->actual, 16);
		f.change = CHANGE_MODIFIED;
		f.after = &after;
		f.changed = ATTR_HASH;
		snprintf(v.reason, sizeof(v.reason), "content does not match package %s %s",
			 res->pkg->name, res->pkg->version);
		break;
	case VERIFY_NOT_REGULAR:
		/* The type is not known beyond "not a regular file". */
		after.mode = 0;
		f.change = CHANGE_MODIFIED;
		f.after = &after;
		f.changed = ATTR_TYPE;
		snprintf(v.reason, sizeof(v.reason), "not a regular file; package %s %s ships one",
			 res->pkg->name, res->pkg->version);
		break;
	default:
		f.change = CHANGE_REMOVED;
		snprintf(v.reason, sizeof(v.reason), "missing; package %s %s ships it",
			 res->pkg->name, res->pkg->version);
		break;
	}

	if (rules) {
		v.rule = rule_set_match(rules, res->path, res->path_len);
		if (v.rule)
			v.severity = rule_severity(v.rule);
		if (res->conffile && res->status == VERIFY_MISMATCH) {
			v.severity = rule_set_packages(rules)->conffile_severity;
			snprintf(v.reason, sizeof(v.reason),
				 "locally modified configuration (package %s %s)", res->pkg->name,
				 res->pkg->version);
		}
	}
	v.attrs = f.changed;
	finding_set_verdict(&f, &v, true);
	snprintf(package, sizeof(package), "%s:%s", res->pkg->name, res->pkg->arch);
	f.package.name = package;
	f.package.before_version = res->pkg->version;
	f.package.after_version = res->pkg->version;
	return emit(vf, &f);
}

int compare_verify(const struct compare_verify_opts *o, const struct compare_sink *sink,
		   uint64_t *ret_checked, struct diag *reterr)
{
	struct verifier vf = { .o = o, .sink = sink };
	struct verify_opts vo = { .stop = o->stop };
	struct verify_stats stats = { 0 };
	int r = 0;

	if (o->unowned)
		r = find_unowned(&vf, reterr);
	if (r >= 0)
		r = scan_verify(o->rootfd, o->db, o->threads, &vo, on_result, &vf, &stats, reterr);
	if (r >= 0)
		r = flush_unowned(&vf, NULL, 0);
	if (r >= 0 && ret_checked)
		*ret_checked = stats.files;
	for (size_t i = 0; i < vf.nunowned; i++)
		free(vf.unowned[i].key);
	free(vf.unowned);
	return r < 0 ? r : 0;
}
