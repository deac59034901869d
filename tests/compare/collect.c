/* Helpers of the tests of compare/: the logging sink and the seams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/compare/collect.h"

#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "scanner/probe.h"
#include "scanner/verify.h"

#include "common/banned.h"

static void dac_set(cap_flag_value_t value)
{
	static const cap_value_t dac[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };
	cap_t caps = cap_get_proc();
	cap_flag_value_t permitted = CAP_CLEAR;

	assert_non_null(caps);
	assert_int_equal(cap_get_flag(caps, CAP_DAC_OVERRIDE, CAP_PERMITTED, &permitted), 0);
	if (permitted == CAP_SET) {
		assert_int_equal(cap_set_flag(caps, CAP_EFFECTIVE, 2, dac, value), 0);
		assert_int_equal(cap_set_proc(caps), 0);
	}
	cap_free(caps);
}

void dac_drop(void)
{
	dac_set(CAP_CLEAR);
}

void dac_restore(void)
{
	dac_set(CAP_SET);
}

struct seams seams;

static void copy_key(char *dst, size_t size, const char *key, size_t len)
{
	assert_true(len < size);
	memcpy(dst, key, len);
	dst[len] = '\0';
}

static int on_finding(const struct finding *f, void *userdata)
{
	struct log *log = userdata;
	const struct entry *e = f->after ? f->after : f->before;
	struct got *g;

	assert_true(log->n < LOG_MAX);
	g = &log->f[log->n++];
	memset(g, 0, sizeof(*g));
	g->seq = log->seq++;
	g->kind = e->kind;
	copy_key(g->key, sizeof(g->key), e->key, e->key_len);
	g->change = f->change;
	g->changed = f->changed;
	g->attrs = f->attrs;
	g->judged = f->judged;
	g->counts = f->counts;
	g->class = f->class;
	g->severity = f->severity;
	g->has_reason = f->reason != NULL;
	snprintf(g->reason, sizeof(g->reason), "%s", f->reason ? f->reason : "");
	snprintf(g->rule_id, sizeof(g->rule_id), "%s", f->rule_id ? f->rule_id : "");
	/* Within a comparison, the rule and its id come together. */
	assert_true((f->rule == NULL) == (f->rule_id == NULL));
	snprintf(g->pkg, sizeof(g->pkg), "%s", f->package.name ? f->package.name : "");
	g->has_before_version = f->package.before_version != NULL;
	g->has_after_version = f->package.after_version != NULL;
	snprintf(g->before_version, sizeof(g->before_version), "%s",
		 f->package.before_version ? f->package.before_version : "");
	snprintf(g->after_version, sizeof(g->after_version), "%s",
		 f->package.after_version ? f->package.after_version : "");
	g->unowned = f->package.unowned;
	return 0;
}

static int on_note(const char *text, void *userdata)
{
	struct log *log = userdata;

	assert_true(log->nnotes < 4);
	snprintf(log->notes[log->nnotes], sizeof(log->notes[0]), "%s", text);
	log->note_seq[log->nnotes++] = log->seq++;
	return 0;
}

static int on_blind_spot(const struct entry *e, void *userdata)
{
	struct log *log = userdata;

	assert_true(log->nblind < 4);
	copy_key(log->blind[log->nblind], sizeof(log->blind[0]), e->key, e->key_len);
	log->blind_err[log->nblind++] = e->err;
	log->seq++;
	return 0;
}

struct compare_sink log_sink(struct log *log)
{
	struct compare_sink s = {
		.finding = on_finding,
		.note = on_note,
		.blind_spot = on_blind_spot,
		.userdata = log,
	};
	return s;
}

void log_reset(struct log *log)
{
	memset(log, 0, sizeof(*log));
}

const struct got *log_find(const struct log *log, enum entry_kind kind, const char *key)
{
	const struct got *hit = NULL;

	for (size_t i = 0; i < log->n; i++) {
		if (log->f[i].kind != kind || strcmp(log->f[i].key, key))
			continue;
		if (hit)
			fail_msg("two findings of '%s'", key);
		hit = &log->f[i];
	}
	return hit;
}

const struct got *log_get(const struct log *log, enum entry_kind kind, const char *key)
{
	const struct got *g = log_find(log, kind, key);

	if (!g)
		fail_msg("no finding of '%s' (%zu findings)", key, log->n);
	return g;
}

void seam_reset(const char *path, int err)
{
	seams.file_reads = 0;
	seams.matches = 0;
	atomic_store(&seams.watch_opens, 0);
	while (path && *path == '/')
		path++;
	snprintf(seams.watch, sizeof(seams.watch), "%s", path ? path : "");
	seams.watch_err = err;
}

/* ---- the seams (-Wl,--wrap) ---- */

int __real_scan_file_read(int rootfd, const char *path, struct scan_file_read *io,
			  struct diag *reterr);
int __wrap_scan_file_read(int rootfd, const char *path, struct scan_file_read *io,
			  struct diag *reterr);
int __wrap_scan_file_read(int rootfd, const char *path, struct scan_file_read *io,
			  struct diag *reterr)
{
	seams.file_reads++;
	return __real_scan_file_read(rootfd, path, io, reterr);
}

int __real_probe_open(int rootfd, const char *path, int flags);
int __wrap_probe_open(int rootfd, const char *path, int flags);
int __wrap_probe_open(int rootfd, const char *path, int flags)
{
	const char *rel = path;

	while (*rel == '/')
		rel++;
	if (seams.watch[0] && !strcmp(rel, seams.watch)) {
		atomic_fetch_add(&seams.watch_opens, 1);
		if (seams.watch_err > 0)
			return -seams.watch_err;
	}
	return __real_probe_open(rootfd, path, flags);
}

const struct rule *__real_rule_set_match_kind(const struct rule_set *rs, enum entry_kind kind,
					      const char *key, size_t len);
const struct rule *__wrap_rule_set_match_kind(const struct rule_set *rs, enum entry_kind kind,
					      const char *key, size_t len);
const struct rule *__wrap_rule_set_match_kind(const struct rule_set *rs, enum entry_kind kind,
					      const char *key, size_t len)
{
	seams.matches++;
	return __real_rule_set_match_kind(rs, kind, key, len);
}
