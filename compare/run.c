/*
 * Findings kept as stored runs, and given back.
 *
 * Recording turns each finding into a row of store/run.c: its key and
 * verdict, the rule by an index into the run's rules, the package context;
 * the entries stay in the run's snapshots. A verify finding's sides are in
 * no snapshot (the package's MD5 and the file's), so they ride along as a
 * small blob.
 *
 * Replaying reads the rows back in their order (the order compare gave
 * them: files, then the probes' kinds, each by key) and merges them with
 * the snapshots' entries, kind by kind, in one pass over each: the
 * findings that come out are those the command reported, to the byte.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* ---- recording ---- */

struct rule_slot {
	const void *key; /* the struct rule, or NULL for a free slot */
	int64_t n;
};

struct compare_record {
	struct snap_run_writer *w;
	struct rule_slot *slots; /* open addressing by the rule's address */
	size_t nslots, used;
	struct strbuf aux;
};

int compare_record_begin(struct snap_store *st, const struct compare_record_info *info,
			 struct compare_record **ret, struct diag *reterr)
{
	struct snap_run_new ri = { 0 };
	struct compare_record *rec = calloc(1, sizeof(*rec));
	int r;

	if (!rec)
		return diag_set(reterr, -ENOMEM, "out of memory");
	strbuf_init(&rec->aux);
	ri.command = info->command;
	if (info->before) {
		ri.before = info->before->id;
		ri.before_label = info->before->label;
		ri.before_baseline = info->before->is_baseline;
	}
	if (info->after) {
		ri.after = info->after->id;
		ri.after_label = info->after->label;
		ri.after_baseline = info->after->is_baseline;
	}
	ri.flags = info->flags;
	ri.count_expected = info->count_expected;
	ri.database = info->database;
	ri.roots = info->roots;
	ri.nroots = info->nroots;
	ri.policy_digest = info->rules ? rule_set_digest(info->rules) : NULL;
	ri.policy_source = info->rules ? rule_set_source(info->rules) : NULL;
	r = snap_run_begin(st, &ri, &rec->w, reterr);
	if (r < 0) {
		free(rec);
		return r;
	}
	*ret = rec;
	return 0;
}

static size_t slot_of(const struct compare_record *rec, const void *key)
{
	uintptr_t h = (uintptr_t)key;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 7) & (rec->nslots - 1);
}

/* The run's index of the rule of @f, recording it the first time. -1: none. */
static int rule_index(struct compare_record *rec, const struct finding *f, int64_t *ret_n,
		      struct diag *reterr)
{
	const void *key = f->rule;
	size_t i;
	int r;

	*ret_n = -1;
	if (!f->rule_id)
		return 0;
	if (!key) {
		/* No rule object (a replayed finding): a row of its own. */
		return snap_run_add_rule(rec->w, f->rule_id, f->rule_title, f->rule_file,
					 f->rule_line, f->remediate, ret_n, reterr);
	}
	if ((rec->used + 1) * 2 > rec->nslots) {
		size_t n = rec->nslots ? rec->nslots * 2 : 64;
		struct rule_slot *slots = calloc(n, sizeof(*slots)), *prev = rec->slots;
		size_t nprev = rec->nslots;

		if (!slots)
			return diag_set(reterr, -ENOMEM, "out of memory");
		rec->slots = slots;
		rec->nslots = n;
		for (size_t k = 0; k < nprev; k++) {
			if (!prev[k].key)
				continue;
			for (i = slot_of(rec, prev[k].key); slots[i].key; i = (i + 1) & (n - 1))
				;
			slots[i] = prev[k];
		}
		free(prev);
	}
	for (i = slot_of(rec, key); rec->slots[i].key; i = (i + 1) & (rec->nslots - 1))
		if (rec->slots[i].key == key) {
			*ret_n = rec->slots[i].n;
			return 0;
		}
	r = snap_run_add_rule(rec->w, f->rule_id, f->rule_title, f->rule_file, f->rule_line,
			      f->remediate, ret_n, reterr);
	if (r < 0)
		return r;
	rec->slots[i].key = key;
	rec->slots[i].n = *ret_n;
	rec->used++;
	return 0;
}

/*
 * The sides of a finding no snapshot holds: per side a present byte, then
 * mode (le32), hash algorithm and length (a byte each) and the hash.
 */
static int aux_side(struct strbuf *sb, const struct entry *e)
{
	uint8_t b[6 + ENTRY_HASH_MAX];

	if (!e)
		return strbuf_addch(sb, 0);
	b[0] = 1;
	b[1] = (uint8_t)e->mode;
	b[2] = (uint8_t)(e->mode >> 8);
	b[3] = (uint8_t)(e->mode >> 16);
	b[4] = (uint8_t)(e->mode >> 24);
	b[5] = (uint8_t)e->hash_algo;
	if (strbuf_add(sb, b, 6) < 0 || strbuf_addch(sb, (char)e->hash_len) < 0)
		return -ENOMEM;
	return strbuf_add(sb, e->hash, e->hash_len);
}

int compare_record_finding(struct compare_record *rec, const struct finding *f, bool with_sides,
			   struct diag *reterr)
{
	const struct entry *e = f->after ? f->after : f->before;
	struct snap_run_row row = { 0 };
	int r;

	row.kind = e->kind;
	row.key = e->key;
	row.key_len = e->key_len;
	row.change = f->change;
	row.changed = f->changed;
	row.judged = f->judged;
	row.class = f->class;
	row.severity = f->severity;
	row.attrs = f->attrs;
	row.reason = f->reason;
	row.package = f->package.name;
	row.before_version = f->package.before_version;
	row.after_version = f->package.after_version;
	row.unowned = f->package.unowned;
	row.matches = f->package.matches;
	r = rule_index(rec, f, &row.rule, reterr);
	if (r < 0)
		return r;
	if (with_sides) {
		strbuf_reset(&rec->aux);
		if (aux_side(&rec->aux, f->before) < 0 || aux_side(&rec->aux, f->after) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
		row.aux = rec->aux.buf;
		row.aux_len = rec->aux.len;
	}
	return snap_run_add_row(rec->w, &row, reterr);
}

int compare_record_note(struct compare_record *rec, const char *text, struct diag *reterr)
{
	return snap_run_add_note(rec->w, text, reterr);
}

int compare_record_blind_spot(struct compare_record *rec, const struct entry *e,
			      struct diag *reterr)
{
	struct snap_run_blind b = { .kind = e->kind,
				    .key = e->key,
				    .key_len = e->key_len,
				    .mode = e->mode,
				    .err = e->err,
				    .flags = e->flags };

	return snap_run_add_blind(rec->w, &b, reterr);
}

static void record_free(struct compare_record *rec)
{
	strbuf_release(&rec->aux);
	free(rec->slots);
	free(rec);
}

int compare_record_commit(struct compare_record *rec, int exit_code, uint64_t checked,
			  unsigned keep, int64_t *ret_id, struct diag *reterr)
{
	int r = snap_run_commit(rec->w, exit_code, checked, keep, ret_id, reterr);

	record_free(rec);
	return r;
}

void compare_record_abort(struct compare_record *rec)
{
	if (!rec)
		return;
	snap_run_abort(rec->w);
	record_free(rec);
}

/* ---- replaying ---- */

struct replay_rule {
	char *id, *title, *file;
	unsigned line;
	unsigned remediate;
};

struct replayer {
	struct snap_store *st;
	const struct snap_run_info *run;
	const struct compare_sink *sink;
	struct replay_rule *rules;
	size_t nrules;
	/* The snapshots' entries of the current kind, merged with the rows. */
	bool open;
	enum entry_kind kind;
	struct snap_iter *it[2];
	const struct entry *cur[2]; /* NULL at the end */
	struct diag *reterr;
	struct strbuf event_name; /* the current finding's package event */
};

static int collect_rule(int64_t n, const char *id, const char *title, const char *file,
			unsigned line, unsigned remediate, void *userdata)
{
	struct replayer *rp = userdata;
	struct replay_rule *rules;

	if (n < 0 || (size_t)n != rp->nrules)
		return diag_set(rp->reterr, -EPROTO, "run #%lld: its rules are damaged",
				(long long)rp->run->id);
	rules = realloc(rp->rules, (rp->nrules + 1) * sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	rp->rules = rules;
	rules[rp->nrules] = (struct replay_rule){
		.id = id ? strdup(id) : NULL,
		.title = title ? strdup(title) : NULL,
		.file = file ? strdup(file) : NULL,
		.line = line,
		.remediate = remediate,
	};
	rp->nrules++;
	if ((id && !rules[rp->nrules - 1].id) || (title && !rules[rp->nrules - 1].title) ||
	    (file && !rules[rp->nrules - 1].file))
		return -ENOMEM;
	return 0;
}

static void replay_close(struct replayer *rp)
{
	for (int i = 0; i < 2; i++) {
		snap_iter_free(rp->it[i]);
		rp->it[i] = NULL;
		rp->cur[i] = NULL;
	}
	rp->open = false;
}

static int replay_open(struct replayer *rp, enum entry_kind kind)
{
	const int64_t ids[2] = { rp->run->before, rp->run->after };
	bool files = kind == ENTRY_FILE;
	int r;

	replay_close(rp);
	for (int i = 0; i < 2; i++) {
		r = snap_iter_new(rp->st, ids[i], kind,
				  files ? (const char *const *)rp->run->roots : NULL,
				  files ? rp->run->nroots : 0, 0, &rp->it[i], rp->reterr);
		if (r < 0)
			return r;
		r = snap_iter_next(rp->it[i], &rp->cur[i], rp->reterr);
		if (r < 0)
			return r;
		if (r == 0)
			rp->cur[i] = NULL;
	}
	rp->open = true;
	rp->kind = kind;
	return 0;
}

/* Side @i's entry with @row's key, or NULL; the side's iterator moves up to it. */
static int replay_find(struct replayer *rp, int i, const struct snap_run_row *row,
		       const struct entry **ret)
{
	int r;

	*ret = NULL;
	while (rp->cur[i]) {
		int c = snap_key_compare(rp->cur[i]->key, rp->cur[i]->key_len, row->key,
					 row->key_len);

		if (c == 0) {
			*ret = rp->cur[i];
			return 0;
		}
		if (c > 0)
			return 0;
		r = snap_iter_next(rp->it[i], &rp->cur[i], rp->reterr);
		if (r < 0)
			return r;
		if (r == 0)
			rp->cur[i] = NULL;
	}
	return 0;
}

/* Decode one side of an aux blob into @e (key from the row). Returns bytes used, or -EPROTO. */
static ssize_t aux_decode(const uint8_t *p, size_t len, const struct snap_run_row *row,
			  struct entry *e, bool *ret_present)
{
	size_t hl;

	if (len < 1)
		return -EPROTO;
	*ret_present = p[0] != 0;
	if (!p[0])
		return 1;
	if (len < 7)
		return -EPROTO;
	hl = p[6];
	if (hl > ENTRY_HASH_MAX || len < 7 + hl)
		return -EPROTO;
	memset(e, 0, sizeof(*e));
	e->kind = row->kind;
	e->key = row->key;
	e->key_len = row->key_len;
	e->mode =
		(uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
	e->hash_algo = (enum hash_algo)p[5];
	e->hash_len = (uint8_t)hl;
	memcpy(e->hash, p + 7, hl);
	return (ssize_t)(7 + hl);
}

static int replay_row(const struct snap_run_row *row, void *userdata)
{
	struct replayer *rp = userdata;
	struct finding f = { 0 };
	struct entry sides[2];
	const struct entry *e[2] = { NULL, NULL };
	int r;

	if (row->aux) {
		const uint8_t *p = row->aux;
		size_t len = row->aux_len;

		for (int i = 0; i < 2; i++) {
			bool present;
			ssize_t n = aux_decode(p, len, row, &sides[i], &present);

			if (n < 0)
				return diag_set(rp->reterr, -EPROTO,
						"run #%lld has a damaged finding",
						(long long)rp->run->id);
			if (present)
				e[i] = &sides[i];
			p += n;
			len -= (size_t)n;
		}
	} else {
		if (!rp->open || rp->kind != row->kind) {
			r = replay_open(rp, row->kind);
			if (r < 0)
				return r;
		}
		for (int i = 0; i < 2; i++) {
			r = replay_find(rp, i, row, &e[i]);
			if (r < 0)
				return r;
		}
	}
	f.change = row->change;
	f.before = row->change == CHANGE_ADDED ? NULL : e[0];
	f.after = row->change == CHANGE_REMOVED ? NULL : e[1];
	if ((row->change != CHANGE_ADDED && !f.before) ||
	    (row->change != CHANGE_REMOVED && !f.after))
		return diag_set(rp->reterr, -EPROTO,
				"run #%lld names an entry its snapshots do not hold",
				(long long)rp->run->id);
	f.changed = row->changed;
	f.judged = row->judged;
	f.class = row->class;
	f.severity = row->severity;
	f.attrs = row->judged ? row->attrs : row->changed;
	f.reason = row->reason;
	f.counts = !row->judged || (row->class != CLASS_EXPECTED && row->class != CLASS_WAIVED) ||
		   (row->class == CLASS_EXPECTED && rp->run->count_expected);
	if (row->rule >= 0) {
		if ((size_t)row->rule >= rp->nrules)
			return diag_set(rp->reterr, -EPROTO, "run #%lld names a rule it lacks",
					(long long)rp->run->id);
		f.rule_id = rp->rules[row->rule].id;
		f.rule_title = rp->rules[row->rule].title;
		f.rule_file = rp->rules[row->rule].file;
		f.rule_line = rp->rules[row->rule].line;
		f.remediate = (enum rule_remediate)rp->rules[row->rule].remediate;
	}
	f.package.name = row->package;
	f.package.before_version = row->before_version;
	f.package.after_version = row->after_version;
	f.package.unowned = row->unowned;
	f.package.matches = row->matches;
	/* The package event, by the same rule as the run's; account events are not stored. */
	r = finding_package_event(&f, !strcmp(rp->run->command, "verify"), &rp->event_name);
	if (r < 0)
		return r;
	return rp->sink->finding ? rp->sink->finding(&f, rp->sink->userdata) : 0;
}

static int replay_blind(const struct snap_run_blind *b, void *userdata)
{
	struct replayer *rp = userdata;
	struct entry e = { 0 };

	e.kind = b->kind;
	e.key = b->key;
	e.key_len = b->key_len;
	e.mode = b->mode;
	e.err = b->err;
	e.flags = b->flags;
	return rp->sink->blind_spot ? rp->sink->blind_spot(&e, rp->sink->userdata) : 0;
}

int compare_replay(struct snap_store *st, const struct snap_run_info *run,
		   const struct compare_sink *sink, struct diag *reterr)
{
	struct replayer rp = { .st = st, .run = run, .sink = sink, .reterr = reterr };
	int r = 0;

	strbuf_init(&rp.event_name);
	for (size_t i = 0; i < run->nnotes && r >= 0; i++)
		r = sink->note ? sink->note(run->notes[i], sink->userdata) : 0;
	if (r >= 0)
		r = snap_run_rules(st, run->id, collect_rule, &rp, reterr);
	if (r >= 0)
		r = snap_run_rows(st, run->id, replay_row, &rp, reterr);
	replay_close(&rp);
	if (r >= 0)
		r = snap_run_blinds(st, run->id, replay_blind, &rp, reterr);
	for (size_t i = 0; i < rp.nrules; i++) {
		free(rp.rules[i].id);
		free(rp.rules[i].title);
		free(rp.rules[i].file);
	}
	free(rp.rules);
	strbuf_release(&rp.event_name);
	if (r == -ENOMEM)
		diag_set(reterr, r, "out of memory");
	return r < 0 ? r : 0;
}
