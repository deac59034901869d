/*
 * Delta snapshots (store/delta.c, iter.c, lookup.c, sort.c) against full
 * copies, as properties over random trees and random changes.
 *
 * Design: a model (struct state) holds the entries of a host as the test
 * made them, owning every byte. For each of a fixed list of seeds a random
 * state is written as a baseline, then mutated step by step; each step is
 * written twice, as a delta (of the baseline, of the previous step's delta
 * to build chains, or with the automatic parent of a check) and as a full
 * copy (parent -1), entries handed to the writer in random order. Every
 * pair must then read the same (every field, every kind, under random
 * roots, errors only), look up the same, and compare the same; the model
 * says which keys each must hold. Then parents are deleted in random order
 * and every surviving delta must still read as its full copy, re-based onto
 * its grandparent. Separate cases: the size of a delta, the sorter's spill
 * to disk, a damaged chain, and a chain as deep as the store allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>

#include "common/strbuf.h"
#include "store/internal.h"
#include "store/store.h"
#include "util.h"
#include "common/banned.h"

/* ---- a seeded PRNG (xorshift64*) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *g)
{
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	return g->s * 0x2545F4914F6CDD1DULL;
}

static unsigned rndn(struct rng *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static bool coin(struct rng *g, unsigned percent)
{
	return rndn(g, 100) < percent;
}

static void *xmemdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static char *xstrdup(const char *s)
{
	return s ? xmemdup(s, strlen(s) + 1) : NULL;
}

/* ---- the model ---- */

/* One entry, owning its bytes; e's pointers point into them. */
struct ment {
	struct entry e;
};

struct state {
	struct ment *v;
	size_t n, cap;
};

/* The model owns what its entries point to, through const pointers. */
static void cfree(const void *p)
{
	free((void *)(uintptr_t)p);
}

static void ment_release(struct ment *m)
{
	cfree(m->e.key);
	cfree(m->e.target);
	cfree(m->e.xattrs);
	cfree(m->e.acl);
	cfree(m->e.caps);
	cfree(m->e.selinux);
	cfree(m->e.mime);
	cfree(m->e.props);
	memset(m, 0, sizeof(*m));
}

/* Deep copy of @e (which may borrow everything). */
static void ment_set(struct ment *m, const struct entry *e)
{
	m->e = *e;
	m->e.key = xmemdup(e->key, e->key_len);
	m->e.target = e->target ? xmemdup(e->target, e->target_len) : NULL;
	m->e.xattrs = e->xattrs ? xmemdup(e->xattrs, e->xattrs_len) : NULL;
	m->e.acl = xstrdup(e->acl);
	m->e.caps = xstrdup(e->caps);
	m->e.selinux = xstrdup(e->selinux);
	m->e.mime = xstrdup(e->mime);
	m->e.props = e->props ? xmemdup(e->props, e->props_len) : NULL;
}

static void state_release(struct state *s)
{
	for (size_t i = 0; i < s->n; i++)
		ment_release(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void state_copy(struct state *dst, const struct state *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->cap = src->n ? src->n : 1;
	dst->v = calloc(dst->cap, sizeof(*dst->v));
	assert_non_null(dst->v);
	for (size_t i = 0; i < src->n; i++)
		ment_set(&dst->v[i], &src->v[i].e);
	dst->n = src->n;
}

static ssize_t state_find(const struct state *s, enum entry_kind kind, const char *key, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].e.kind == kind && s->v[i].e.key_len == len &&
		    !memcmp(s->v[i].e.key, key, len))
			return (ssize_t)i;
	return -1;
}

/* Add a deep copy of @e; false when the key is taken. */
static bool state_add(struct state *s, const struct entry *e)
{
	if (state_find(s, e->kind, e->key, e->key_len) >= 0)
		return false;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	ment_set(&s->v[s->n++], e);
	return true;
}

static void state_remove(struct state *s, size_t i)
{
	ment_release(&s->v[i]);
	s->v[i] = s->v[--s->n];
}

/* ---- random entries ---- */

static const char *const components[] = {
	"a", "a-b", "a.b", "a0", "ab", "b", "x", "y", "\xff", "\xff\xfe", "c d", "a-", ".",
};
#define NCOMPONENTS (sizeof(components) / sizeof(components[0]))

/* Roots the iteration is restricted to: nested, siblings sharing prefixes, "/". */
static const char *const root_pool[] = {
	"/", "/a", "/a-b", "/a/x", "/a.b/", "/b", "/\xff", "/a/a-b/x", "/zz", "/a0",
};
#define NROOTS (sizeof(root_pool) / sizeof(root_pool[0]))

static void random_file_key(struct rng *g, struct strbuf *k)
{
	unsigned depth = rndn(g, 5);

	strbuf_reset(k);
	if (depth == 0) {
		assert_int_equal(strbuf_adds(k, "/"), 0);
		return;
	}
	for (unsigned i = 0; i < depth; i++) {
		assert_int_equal(strbuf_addch(k, '/'), 0);
		assert_int_equal(strbuf_adds(k, components[rndn(g, NCOMPONENTS)]), 0);
	}
}

static int64_t random_time(struct rng *g)
{
	switch (rndn(g, 8)) {
	case 0:
		return INT64_MIN;
	case 1:
		return INT64_MAX;
	case 2:
		return 0;
	case 3:
		return -1;
	case 4:
		return (int64_t)rnd(g);
	default:
		return 1700000000000000000LL + (int64_t)rndn(g, 1000000) * 1000;
	}
}

static uint64_t random_u64(struct rng *g)
{
	switch (rndn(g, 6)) {
	case 0:
		return UINT64_MAX - rndn(g, 3);
	case 1:
		return 0;
	case 2:
		return rnd(g);
	default:
		return rndn(g, 100000);
	}
}

static uint32_t random_id(struct rng *g)
{
	switch (rndn(g, 4)) {
	case 0:
		return 0;
	case 1:
		return UINT32_MAX;
	case 2:
		return (uint32_t)rnd(g);
	default:
		return 1000;
	}
}

/* Scratch the random strings and blobs of one entry live in until state_add() copies them. */
struct scratch {
	struct strbuf key, target, xattrs, props;
	char acl[64], caps[32], selinux[64], mime[48];
};

static void random_xattrs(struct rng *g, struct strbuf *out)
{
	static const char *const names[] = { "security.selinux", "trusted.x", "user.a", "user.b" };
	uint8_t buf[256];

	strbuf_reset(out);
	for (size_t i = 0; i < 4; i++) {
		uint8_t value[8];
		size_t vl = rndn(g, sizeof(value) + 1), n;

		if (!coin(g, 50))
			continue;
		for (size_t j = 0; j < vl; j++)
			value[j] = (uint8_t)rnd(g); /* NULs included */
		n = entry_xattrs_put(buf, names[i], strlen(names[i]), value, vl);
		assert_int_equal(strbuf_add(out, buf, n), 0);
	}
}

static void random_props(struct rng *g, struct strbuf *out, bool allow_none)
{
	static const char *const names[] = { "value", "uid", "shell", "home", "empty" };
	struct entry_prop p[5];
	char vals[5][24];
	size_t n = 0;

	for (size_t i = 0; i < 5; i++) {
		if (!coin(g, 50) && (allow_none || i < 4 || n > 0))
			continue;
		snprintf(vals[n], sizeof(vals[n]), "%" PRIu64, rnd(g) % 1000);
		p[n] = (struct entry_prop){ names[i], vals[n],
					    !strcmp(names[i], "empty") ? 0 : strlen(vals[n]) };
		n++;
	}
	assert_int_equal(entry_props_encode(out, p, n), 0);
}

/* The optional attributes: a random subset collected, each present or absent. */
static void random_optional(struct rng *g, struct entry *e, struct scratch *sc)
{
	e->collected = 0;
	e->xattrs = NULL;
	e->xattrs_len = 0;
	e->acl = e->caps = e->selinux = e->mime = NULL;
	if (coin(g, 40))
		return;
	e->collected = (uint32_t)rnd(g) & ATTR_OPTIONAL;
	if ((e->collected & ATTR_XATTRS) && coin(g, 60)) {
		random_xattrs(g, &sc->xattrs);
		e->xattrs = (const uint8_t *)sc->xattrs.buf;
		e->xattrs_len = sc->xattrs.len;
	}
	if ((e->collected & ATTR_ACL) && coin(g, 50)) {
		snprintf(sc->acl, sizeof(sc->acl), "u::rwx,u:%u:r-x,g::r-x,m::r-x,o::---",
			 rndn(g, 5000));
		e->acl = sc->acl;
	}
	if ((e->collected & ATTR_CAPS) && coin(g, 50)) {
		snprintf(sc->caps, sizeof(sc->caps), "cap_net_raw=%s", coin(g, 50) ? "ep" : "p");
		e->caps = sc->caps;
	}
	if ((e->collected & ATTR_SELINUX) && coin(g, 50)) {
		snprintf(sc->selinux, sizeof(sc->selinux), "system_u:object_r:t%u_t:s0",
			 rndn(g, 9));
		e->selinux = sc->selinux;
	}
	if ((e->collected & ATTR_MIME) && coin(g, 50)) {
		snprintf(sc->mime, sizeof(sc->mime), coin(g, 50) ? "text/plain" : "");
		e->mime = sc->mime;
	}
}

static void random_hash(struct rng *g, struct entry *e)
{
	if (coin(g, 40)) {
		e->hash_algo = HASH_NONE;
		e->hash_len = 0;
		memset(e->hash, 0, sizeof(e->hash));
		return;
	}
	e->hash_algo = HASH_XXH3_128;
	e->hash_len = 16;
	for (unsigned i = 0; i < 16; i++)
		e->hash[i] = (uint8_t)rnd(g);
}

static void random_target(struct rng *g, struct entry *e, struct scratch *sc)
{
	strbuf_reset(&sc->target);
	for (unsigned i = 0, n = rndn(g, 12); i < n; i++)
		assert_int_equal(strbuf_addch(&sc->target, (char)(coin(g, 20) ? 0xff : 'a' + i)),
				 0);
	e->target = sc->target.buf;
	e->target_len = sc->target.len;
}

static void random_file_attrs(struct rng *g, struct entry *e, struct scratch *sc)
{
	static const uint32_t types[] = { S_IFREG, S_IFREG, S_IFREG, S_IFDIR,
					  S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO };
	uint32_t type = types[rndn(g, 8)];

	e->mode = type | (uint32_t)(rnd(g) & 07777);
	e->uid = random_id(g);
	e->gid = random_id(g);
	e->size = random_u64(g);
	e->mtime_ns = random_time(g);
	e->ctime_ns = random_time(g);
	e->ino = random_u64(g);
	e->dev = random_u64(g);
	e->nlink = rndn(g, 4);
	e->rdev = (type == S_IFCHR || type == S_IFBLK)
			  ? (coin(g, 20) ? ENTRY_RDEV_UNKNOWN : rnd(g) & 0xffffffff)
			  : 0;
	e->target = NULL;
	e->target_len = 0;
	if (type == S_IFLNK)
		random_target(g, e, sc);
	if (type == S_IFREG)
		random_hash(g, e);
	e->err = coin(g, 10) ? (coin(g, 50) ? EACCES : EIO) : 0;
	e->flags = coin(g, 10) ? (uint32_t)rndn(g, 8) : 0;
	random_optional(g, e, sc);
	e->props = NULL;
	e->props_len = 0;
	if (coin(g, 5)) {
		random_props(g, &sc->props, false);
		e->props = (const uint8_t *)sc->props.buf;
		e->props_len = sc->props.len;
	}
}

/* A random new entry in @e (pointing into @sc): mostly files, some users and sysctls. */
static void random_entry(struct rng *g, struct entry *e, struct scratch *sc)
{
	unsigned pick = rndn(g, 10);

	memset(e, 0, sizeof(*e));
	if (pick < 8) {
		e->kind = ENTRY_FILE;
		random_file_key(g, &sc->key);
		random_file_attrs(g, e, sc);
	} else {
		e->kind = pick == 8 ? ENTRY_SYSCTL : ENTRY_USER;
		strbuf_reset(&sc->key);
		/* Keys that prefix each other: "k1", "k1.2", "k12". */
		for (unsigned i = 0, n = 1 + rndn(g, 3); i < n; i++) {
			char part[8];

			snprintf(part, sizeof(part), "%s%u", i ? "." : "k", rndn(g, 3));
			assert_int_equal(strbuf_adds(&sc->key, part), 0);
		}
		e->err = coin(g, 5) ? EIO : 0;
		random_props(g, &sc->props, true);
		e->props = (const uint8_t *)sc->props.buf;
		e->props_len = sc->props.len;
	}
	e->key = sc->key.buf;
	e->key_len = sc->key.len;
}

/* Change one attribute of @m (or its optional ones, or its props). */
static void random_change(struct rng *g, struct ment *m, struct scratch *sc)
{
	struct entry e = m->e;

	if (e.kind != ENTRY_FILE) {
		if (coin(g, 80)) {
			random_props(g, &sc->props, true);
			e.props = (const uint8_t *)sc->props.buf;
			e.props_len = sc->props.len;
		} else {
			e.err = e.err ? 0 : EACCES;
		}
	} else {
		switch (rndn(g, 12)) {
		case 0:
			e.mode ^= 1u << rndn(g, 12);
			break;
		case 1:
			e.uid = random_id(g);
			break;
		case 2:
			e.size = random_u64(g);
			break;
		case 3:
			e.mtime_ns = random_time(g);
			break;
		case 4:
			e.ctime_ns = random_time(g);
			break;
		case 5:
			e.ino = random_u64(g);
			break;
		case 6:
			if (S_ISREG(e.mode))
				random_hash(g, &e);
			else
				e.nlink++;
			break;
		case 7:
			if (S_ISLNK(e.mode))
				random_target(g, &e, sc);
			else
				e.gid ^= 1;
			break;
		case 8:
			e.err = e.err ? 0 : ENAMETOOLONG;
			break;
		case 9:
			random_optional(g, &e, sc);
			break;
		case 10:
			e.flags ^= ENTRY_CHANGED_WHILE_READ;
			break;
		default:
			/* A whole new file where one was. */
			random_file_attrs(g, &e, sc);
			break;
		}
	}
	{
		struct ment old = *m;

		ment_set(m, &e);
		ment_release(&old);
	}
}

/* One step: a few adds, removes and changes, or nothing at all. */
static void random_step(struct rng *g, struct state *s, struct scratch *sc)
{
	unsigned ops = coin(g, 15) ? 0 : 1 + rndn(g, 20);

	for (unsigned i = 0; i < ops; i++) {
		unsigned what = rndn(g, 3);
		struct entry e;

		if (what == 0 || s->n == 0) {
			random_entry(g, &e, sc);
			state_add(s, &e);
		} else if (what == 1) {
			state_remove(s, rndn(g, (unsigned)s->n));
		} else {
			random_change(g, &s->v[rndn(g, (unsigned)s->n)], sc);
		}
	}
}

/* ---- writing ---- */

static int64_t write_state(struct snap_store *st, const struct state *s, enum snap_purpose purpose,
			   const char *label, int64_t parent, struct rng *g, int64_t *ret_parent)
{
	static const char *const roots[] = { "/" };
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	size_t *order = calloc(s->n ? s->n : 1, sizeof(*order));
	int64_t id;

	assert_non_null(order);
	p.purpose = purpose;
	p.label = label;
	p.host = "testhost";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	p.parent = parent;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	/* Random order: the writer sorts. */
	for (size_t i = 0; i < s->n; i++)
		order[i] = i;
	for (size_t i = s->n; i > 1; i--) {
		size_t j = rndn(g, (unsigned)i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < s->n; i++)
		if (snap_writer_add(w, &s->v[order[i]].e, &d) < 0)
			fail_msg("add: %s", d.msg);
	free(order);
	if (snap_writer_commit(w, &info, &d) < 0)
		fail_msg("commit: %s", d.msg);
	id = info.id;
	if (ret_parent)
		*ret_parent = info.parent;
	snap_info_release(&info);
	return id;
}

static int64_t parent_of(struct snap_store *st, int64_t id)
{
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	char name[24];
	int64_t p;

	snprintf(name, sizeof(name), "%" PRId64, id);
	assert_int_equal(snap_find(st, name, &info, &d), 0);
	p = info.parent;
	snap_info_release(&info);
	return p;
}

/* ---- comparing ---- */

static void assert_str_same(const char *a, const char *b, const char *what, const struct entry *e)
{
	if (!a != !b || (a && strcmp(a, b)))
		fail_msg("'%.*s': %s differs ('%s' vs '%s')", (int)e->key_len, e->key, what,
			 a ? a : "(null)", b ? b : "(null)");
}

static void assert_blob_same(const void *a, size_t alen, const void *b, size_t blen,
			     const char *what, const struct entry *e)
{
	if (alen != blen || (alen && memcmp(a, b, alen)))
		fail_msg("'%.*s': %s differs (%zu vs %zu bytes)", (int)e->key_len, e->key, what,
			 alen, blen);
}

/* The attributes every reader fills, the model's against what was read. */
static void assert_core_same(const struct entry *a, const struct entry *b)
{
	assert_blob_same(a->key, a->key_len, b->key, b->key_len, "key", a);
	if (a->mode != b->mode || a->size != b->size || a->mtime_ns != b->mtime_ns ||
	    a->ctime_ns != b->ctime_ns || a->ino != b->ino || a->dev != b->dev)
		fail_msg("'%.*s': mode/size/times/ino/dev differ", (int)a->key_len, a->key);
	assert_blob_same(a->hash, a->hash_len, b->hash, b->hash_len, "hash", a);
}

static void assert_entry_same(const struct entry *a, const struct entry *b)
{
	assert_core_same(a, b);
	if (a->kind != b->kind || a->uid != b->uid || a->gid != b->gid || a->nlink != b->nlink ||
	    a->rdev != b->rdev || a->err != b->err || a->flags != b->flags ||
	    a->hash_algo != b->hash_algo || a->collected != b->collected)
		fail_msg("'%.*s': kind/uid/gid/nlink/rdev/err/flags/hash/collected differ",
			 (int)a->key_len, a->key);
	if (!a->target != !b->target)
		fail_msg("'%.*s': target presence differs", (int)a->key_len, a->key);
	assert_blob_same(a->target, a->target_len, b->target, b->target_len, "target", a);
	assert_blob_same(a->xattrs, a->xattrs_len, b->xattrs, b->xattrs_len, "xattrs", a);
	assert_str_same(a->acl, b->acl, "acl", a);
	assert_str_same(a->caps, b->caps, "caps", a);
	assert_str_same(a->selinux, b->selinux, "selinux", a);
	assert_str_same(a->mime, b->mime, "mime", a);
	assert_blob_same(a->props, a->props_len, b->props, b->props_len, "props", a);
}

/* As the store defines a root: the key itself, or the key + "/" prefix; "/" is everything. */
static bool in_roots(const struct entry *e, const char *const *roots, size_t nroots)
{
	if (!roots || nroots == 0)
		return true;
	for (size_t i = 0; i < nroots; i++) {
		size_t len = strlen(roots[i]);

		while (len > 1 && roots[i][len - 1] == '/')
			len--;
		if (len == 1 && roots[i][0] == '/')
			return true;
		if (e->key_len >= len && !memcmp(e->key, roots[i], len) &&
		    (e->key_len == len || e->key[len] == '/'))
			return true;
	}
	return false;
}

static int ment_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;

	return snap_key_compare(x->key, x->key_len, y->key, y->key_len);
}

/* The model's entries of @kind that the iteration must give, in key order. */
static const struct entry **model_expect(const struct state *s, enum entry_kind kind,
					 const char *const *roots, size_t nroots, unsigned flags,
					 size_t *ret_n)
{
	const struct entry **v = calloc(s->n ? s->n : 1, sizeof(*v));
	size_t n = 0;

	assert_non_null(v);
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->v[i].e;

		if (e->kind != kind || !in_roots(e, roots, nroots))
			continue;
		if ((flags & SNAP_ITER_ERRORS_ONLY) && !e->err)
			continue;
		v[n++] = e;
	}
	qsort(v, n, sizeof(*v), ment_cmp);
	*ret_n = n;
	return v;
}

static const enum entry_kind kinds[] = { ENTRY_FILE, ENTRY_USER, ENTRY_SYSCTL, ENTRY_PACKAGE };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* @delta and @full read the same, and what @model says, for one kind/roots/flags. */
static void check_iter(struct snap_store *st, int64_t delta, int64_t full,
		       const struct state *model, enum entry_kind kind, const char *const *roots,
		       size_t nroots, unsigned flags)
{
	struct snap_iter *a = NULL, *b = NULL;
	const struct entry *ea, *eb, **want;
	struct diag d = { 0 };
	size_t nwant, n = 0;
	int ra, rb;

	want = model_expect(model, kind, roots, nroots, flags, &nwant);
	assert_int_equal(snap_iter_new(st, delta, kind, roots, nroots, flags, &a, &d), 0);
	assert_int_equal(snap_iter_new(st, full, kind, roots, nroots, flags, &b, &d), 0);
	for (;;) {
		ra = snap_iter_next(a, &ea, &d);
		if (ra < 0)
			fail_msg("delta #%" PRId64 ": %s", delta, d.msg);
		rb = snap_iter_next(b, &eb, &d);
		if (rb < 0)
			fail_msg("full #%" PRId64 ": %s", full, d.msg);
		if (ra != rb)
			fail_msg("delta #%" PRId64 " and full #%" PRId64 " end apart, at '%.*s'",
				 delta, full, ra ? (int)ea->key_len : (int)eb->key_len,
				 ra ? ea->key : eb->key);
		if (ra == 0)
			break;
		assert_entry_same(ea, eb);
		if (n >= nwant)
			fail_msg("#%" PRId64 ": '%.*s' should not be there", delta,
				 (int)ea->key_len, ea->key);
		assert_core_same(want[n], ea);
		n++;
	}
	if (n != nwant)
		fail_msg("#%" PRId64 " kind %d: %zu entries, the model has %zu (next '%.*s')",
			 delta, kind, n, nwant, (int)want[n]->key_len, want[n]->key);
	snap_iter_free(a);
	snap_iter_free(b);
	free(want);
}

/* Every kind, without roots, under random subsets of roots, and errors only. */
static void check_pair(struct snap_store *st, int64_t delta, int64_t full,
		       const struct state *model, struct rng *g)
{
	for (size_t k = 0; k < NKINDS; k++)
		for (unsigned flags = 0; flags <= SNAP_ITER_ERRORS_ONLY; flags++)
			check_iter(st, delta, full, model, kinds[k], NULL, 0, flags);
	for (unsigned i = 0; i < 3; i++) {
		const char *roots[4];
		size_t n = 1 + rndn(g, 4);

		for (size_t j = 0; j < n; j++)
			roots[j] = root_pool[rndn(g, NROOTS)];
		check_iter(st, delta, full, model, ENTRY_FILE, roots, n,
			   coin(g, 30) ? SNAP_ITER_ERRORS_ONLY : 0);
	}
}

/* snap_lookup_get on @keys gives the same on both, and what the model says. */
static void check_lookup(const char *db, int64_t delta, int64_t full, const struct state *model,
			 const struct state *keys, struct rng *g)
{
	struct snap_lookup *a = NULL, *b = NULL;
	struct diag d = { 0 };
	size_t n = keys->n < 40 ? keys->n : 40;

	assert_int_equal(snap_lookup_open(db, delta, &a, &d), 0);
	assert_int_equal(snap_lookup_open(db, full, &b, &d), 0);
	/* A random sample, in random order (the lookup caches one block a level). */
	for (size_t i = 0; i < n; i++) {
		const struct entry *k = &keys->v[n == keys->n ? i : rndn(g, (unsigned)keys->n)].e;
		const struct entry *ea = NULL, *eb = NULL;
		ssize_t m = state_find(model, k->kind, k->key, k->key_len);
		int ra = snap_lookup_get(a, k->kind, k->key, k->key_len, &ea, &d);
		struct entry ca;

		if (ra < 0)
			fail_msg("lookup: %s", d.msg);
		if (ra != (m >= 0))
			fail_msg("lookup '%.*s' in #%" PRId64 ": %d, the model says %d",
				 (int)k->key_len, k->key, delta, ra, m >= 0);
		if (!ra) {
			assert_int_equal(snap_lookup_get(b, k->kind, k->key, k->key_len, &eb, &d),
					 0);
			continue;
		}
		ca = *ea; /* borrowed until the next call on @a only */
		assert_int_equal(snap_lookup_get(b, k->kind, k->key, k->key_len, &eb, &d), 1);
		assert_core_same(&ca, eb);
		assert_core_same(&model->v[m].e, &ca);
		assert_int_equal(ca.collected, eb->collected);
		assert_blob_same(ca.xattrs, ca.xattrs_len, eb->xattrs, eb->xattrs_len, "xattrs",
				 &ca);
		assert_str_same(ca.acl, eb->acl, "acl", &ca);
		assert_str_same(ca.mime, eb->mime, "mime", &ca);
		assert_blob_same(ca.props, ca.props_len, eb->props, eb->props_len, "props", &ca);
	}
	snap_lookup_free(a);
	snap_lookup_free(b);
}

static int dev_log(const struct deviation *dv, void *userdata)
{
	struct strbuf *log = userdata;
	const struct entry *e = dv->after ? dv->after : dv->before;
	char head[64];

	snprintf(head, sizeof(head), "%d %d %x ", (int)dv->change, (int)e->kind, dv->attrs);
	assert_int_equal(strbuf_adds(log, head), 0);
	assert_int_equal(strbuf_add(log, e->key, e->key_len), 0);
	assert_int_equal(strbuf_addch(log, '\n'), 0);
	return 0;
}

static void compare_log(struct snap_store *st, int64_t x, int64_t y, enum entry_kind kind,
			unsigned flags, struct strbuf *log)
{
	struct snap_iter *a = NULL, *b = NULL;
	struct diag d = { 0 };

	assert_int_equal(snap_iter_new(st, x, kind, NULL, 0, 0, &a, &d), 0);
	assert_int_equal(snap_iter_new(st, y, kind, NULL, 0, 0, &b, &d), 0);
	if (snap_compare(a, b, flags, dev_log, log, &d) < 0)
		fail_msg("compare: %s", d.msg);
	snap_iter_free(a);
	snap_iter_free(b);
}

/* snap_compare of two deltas gives what it gives for their full copies. */
static void check_compare(struct snap_store *st, int64_t da, int64_t fa, int64_t db, int64_t fb,
			  struct rng *g)
{
	for (size_t k = 0; k < NKINDS; k++) {
		unsigned flags = coin(g, 50) ? SNAP_COMPARE_ALL : 0;
		struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;

		compare_log(st, da, db, kinds[k], flags, &x);
		compare_log(st, fa, fb, kinds[k], flags, &y);
		if (x.len != y.len || memcmp(x.buf, y.buf, x.len))
			fail_msg("compare #%" PRId64 "/#%" PRId64 " differs from its full "
				 "copies:\n%s---\n%s",
				 da, db, x.buf, y.buf);
		strbuf_release(&x);
		strbuf_release(&y);
	}
}

/* ---- 1 and 2: the property, and re-basing ---- */

#define MAX_STEPS 11

struct pair {
	int64_t delta, full, parent;
	bool alive;
	struct state model;
};

static void run_seed(const char *dir, uint64_t seed)
{
	struct rng g = { seed * 0x9E3779B97F4A7C15ULL + 1 };
	struct pair p[MAX_STEPS];
	struct state cur = { 0 }, seen = { 0 };
	struct scratch sc = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, "", "", "", "" };
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	char db[160], label[32];
	size_t nsteps = 5 + rndn(&g, 6), np = 0;
	unsigned nentries = 100 + rndn(&g, 200);

	snprintf(db, sizeof(db), "%s/seed%" PRIu64 ".db", dir, seed);
	assert_int_equal(snap_store_open(db, SNAP_OPEN_WRITE, &st, &d), 0);
	while (cur.n < nentries) {
		struct entry e;

		random_entry(&g, &e, &sc);
		state_add(&cur, &e);
	}
	/* Step 0: the baseline (a full copy) and a full copy of it. */
	p[0].delta = write_state(st, &cur, SNAP_PURPOSE_BASELINE, NULL, 0, &g, &p[0].parent);
	assert_int_equal(p[0].parent, 0);
	snprintf(label, sizeof(label), "full0");
	p[0].full = write_state(st, &cur, SNAP_PURPOSE_SCAN, label, -1, &g, NULL);
	state_copy(&p[0].model, &cur);
	np = 1;
	for (size_t i = 0; i < cur.n; i++)
		state_add(&seen, &cur.v[i].e);

	for (size_t step = 1; step <= nsteps; step++) {
		unsigned how = rndn(&g, 3);
		int64_t want_parent, got;

		random_step(&g, &cur, &sc);
		for (size_t i = 0; i < cur.n; i++)
			state_add(&seen, &cur.v[i].e);
		if (how == 0) {
			/* A check: automatically a delta of the baseline. */
			want_parent = p[0].delta;
			p[np].delta = write_state(st, &cur, SNAP_PURPOSE_CHECK, NULL, 0, &g, &got);
		} else {
			want_parent = how == 1 ? p[0].delta : p[np - 1].delta;
			snprintf(label, sizeof(label), "delta%zu", step);
			p[np].delta = write_state(st, &cur, SNAP_PURPOSE_SCAN, label, want_parent,
						  &g, &got);
		}
		assert_int_equal(got, want_parent);
		p[np].parent = got;
		snprintf(label, sizeof(label), "full%zu", step);
		p[np].full = write_state(st, &cur, SNAP_PURPOSE_SCAN, label, -1, &g, &got);
		assert_int_equal(got, 0);
		state_copy(&p[np].model, &cur);
		np++;
	}

	for (size_t i = 0; i < np; i++) {
		p[i].alive = true;
		check_pair(st, p[i].delta, p[i].full, &p[i].model, &g);
		check_lookup(db, p[i].delta, p[i].full, &p[i].model, &seen, &g);
	}
	for (size_t i = 1; i < np; i++) {
		size_t j = rndn(&g, (unsigned)i);

		check_compare(st, p[i - 1].delta, p[i - 1].full, p[i].delta, p[i].full, &g);
		if (coin(&g, 50))
			check_compare(st, p[j].delta, p[j].full, p[i].delta, p[i].full, &g);
		else
			check_compare(st, p[i].delta, p[i].full, p[j].delta, p[j].full, &g);
	}

	/* Delete deltas in random order (the baseline among them): the others re-base. */
	for (unsigned round = 0; round < 3; round++) {
		size_t victim = rndn(&g, (unsigned)np);

		if (!p[victim].alive)
			continue;
		for (size_t i = 0; i < np; i++)
			if (p[i].alive && p[i].parent == p[victim].delta)
				p[i].parent = p[victim].parent;
		if (snap_delete(st, p[victim].delta, SNAP_DELETE_BASELINE, NULL, &d) < 0)
			fail_msg("delete: %s", d.msg);
		p[victim].alive = false;
		for (size_t i = 0; i < np; i++) {
			if (!p[i].alive)
				continue;
			assert_int_equal(parent_of(st, p[i].delta), p[i].parent);
			for (size_t k = 0; k < NKINDS; k++)
				check_iter(st, p[i].delta, p[i].full, &p[i].model, kinds[k], NULL,
					   0, 0);
		}
	}
	for (size_t i = 0; i < np; i++)
		if (p[i].alive) {
			check_pair(st, p[i].delta, p[i].full, &p[i].model, &g);
			check_lookup(db, p[i].delta, p[i].full, &p[i].model, &seen, &g);
		}

	for (size_t i = 0; i < np; i++)
		state_release(&p[i].model);
	state_release(&cur);
	state_release(&seen);
	strbuf_release(&sc.key);
	strbuf_release(&sc.target);
	strbuf_release(&sc.xattrs);
	strbuf_release(&sc.props);
	snap_store_free(st);
}

static void test_delta_reads_as_full_copy(void **state)
{
	struct tmp *t = *state;

	for (uint64_t seed = 1; seed <= 20; seed++)
		run_seed(t->dir, seed);
}

/* ---- 3: size ---- */

/* One integer from @sql (?1 bound to @id) on a connection of its own. */
static int64_t sql_int(const char *db, const char *sql, int64_t id)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (id)
		sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static void sql_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* The only block of snapshot @id: its number of entries and of tombstones. */
static void only_block(const char *db, int64_t id, size_t *ret_n, size_t *ret_tombs)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	struct snap_dblock b;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(h, "SELECT kind, data FROM block WHERE snap = ?1", -1, &s, NULL),
		SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snap_dblock_init(&b);
	assert_int_equal(snap_dblock_load(&b, sqlite3_column_blob(s, 1),
					  (size_t)sqlite3_column_bytes(s, 1),
					  (enum entry_kind)sqlite3_column_int(s, 0), HASH_XXH3_128),
			 0);
	*ret_n = b.n;
	*ret_tombs = 0;
	for (size_t i = 0; i < b.n; i++)
		*ret_tombs += b.tomb[i];
	snap_dblock_release(&b);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(h);
}

static const char count_blocks[] = "SELECT count(*) FROM block WHERE snap = ?1";

static void test_delta_size(void **state)
{
	struct tmp *t = *state;
	struct rng g = { 42 };
	struct state s = { 0 };
	struct scratch sc = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, "", "", "", "" };
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	int64_t base, id, parent;
	size_t n, tombs;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	while (s.n < 300) {
		struct entry e;

		random_entry(&g, &e, &sc);
		state_add(&s, &e);
	}
	base = write_state(st, &s, SNAP_PURPOSE_BASELINE, NULL, 0, &g, NULL);
	assert_true(sql_int(t->db, count_blocks, base) > 1);

	/* Unchanged: no block at all, explicitly or as a check. */
	id = write_state(st, &s, SNAP_PURPOSE_SCAN, "same", base, &g, &parent);
	assert_int_equal(parent, base);
	assert_int_equal(sql_int(t->db, count_blocks, id), 0);
	id = write_state(st, &s, SNAP_PURPOSE_CHECK, NULL, 0, &g, &parent);
	assert_int_equal(parent, base);
	assert_int_equal(sql_int(t->db, count_blocks, id), 0);

	/* One change: one block of one entry. */
	s.v[7].e.size++;
	id = write_state(st, &s, SNAP_PURPOSE_SCAN, "one", base, &g, &parent);
	assert_int_equal(parent, base);
	assert_int_equal(sql_int(t->db, count_blocks, id), 1);
	only_block(t->db, id, &n, &tombs);
	assert_int_equal(n, 1);
	assert_int_equal(tombs, 0);

	/* One removal (on top of that delta): one block of one tombstone. */
	state_remove(&s, 11);
	id = write_state(st, &s, SNAP_PURPOSE_SCAN, "gone", id, &g, &parent);
	assert_int_equal(sql_int(t->db, count_blocks, id), 1);
	only_block(t->db, id, &n, &tombs);
	assert_int_equal(n, 1);
	assert_int_equal(tombs, 1);

	state_release(&s);
	strbuf_release(&sc.key);
	strbuf_release(&sc.target);
	strbuf_release(&sc.xattrs);
	strbuf_release(&sc.props);
	snap_store_free(st);
}

/* ---- 4: the sorter's spill to disk ---- */

#define SPILL_N 200000

static void spill_key(char *buf, size_t size, unsigned i)
{
	/* About 100 bytes, in key order with i. */
	snprintf(buf, size,
		 "/usr/share/spill/%08u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaa",
		 i);
}

static void test_sorter_spills_and_merges(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_writer *w = NULL;
	struct snap_new p = { 0 };
	static const char *const roots[] = { "/" };
	struct snap_info info = { 0 };
	struct snap_iter *it = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	char key[160];
	unsigned n = 0;
	int r;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "spill";
	p.host = "h";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	for (unsigned i = SPILL_N; i-- > 0;) {
		struct entry en;

		spill_key(key, sizeof(key), i);
		en = entry_file(key);
		en.ino = i;
		assert_int_equal(snap_writer_add(w, &en, &d), 0);
	}
	if (snap_writer_commit(w, &info, &d) < 0)
		fail_msg("commit: %s", d.msg);
	assert_int_equal(snap_iter_new(st, info.id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	while ((r = snap_iter_next(it, &e, &d)) > 0) {
		spill_key(key, sizeof(key), n);
		if (e->key_len != strlen(key) || memcmp(e->key, key, e->key_len) || e->ino != n)
			fail_msg("entry %u: '%.*s'", n, (int)e->key_len, e->key);
		n++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, SPILL_N);
	snap_iter_free(it);
	snap_info_release(&info);
	snap_store_free(st);
}

static void test_sorter_duplicate_across_runs_refused(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_writer *w = NULL;
	struct snap_new p = { 0 };
	static const char *const roots[] = { "/" };
	struct diag d = { 0 };
	struct entry en;
	char *key = malloc(4100);

	/* 4 KiB keys: 5000 of them pass 16 MiB, the two copies land in different runs. */
	assert_non_null(key);
	memset(key, 'k', 4099);
	key[4099] = '\0';
	key[0] = '/';
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "dup";
	p.host = "h";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	en = entry_file("/dup");
	assert_int_equal(snap_writer_add(w, &en, &d), 0);
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(key + 1, 12, "%08u/", i);
		key[10] = 'k';
		en = entry_file(key);
		assert_int_equal(snap_writer_add(w, &en, &d), 0);
	}
	en = entry_file("/dup");
	en.size = 1;
	assert_int_equal(snap_writer_add(w, &en, &d), 0);
	assert_int_equal(snap_writer_commit(w, NULL, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "dup"));
	free(key);
	snap_store_free(st);
}

/* ---- 5: damage ---- */

static void expect_eproto(struct snap_store *st, const char *db, int64_t id, const char *needle)
{
	struct snap_iter *it = NULL;
	struct snap_lookup *lk = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	int r;

	r = snap_iter_new(st, id, ENTRY_FILE, NULL, 0, 0, &it, &d);
	while (r >= 0 && (r = snap_iter_next(it, &e, &d)) > 0)
		;
	snap_iter_free(it);
	assert_int_equal(r, -EPROTO);
	if (!strstr(d.msg, needle))
		fail_msg("iter: '%s' does not say '%s'", d.msg, needle);

	memset(&d, 0, sizeof(d));
	r = snap_lookup_open(db, id, &lk, &d);
	if (r >= 0)
		r = snap_lookup_get(lk, ENTRY_FILE, "/a", 2, &e, &d);
	snap_lookup_free(lk);
	assert_int_equal(r, -EPROTO);
	if (!strstr(d.msg, needle))
		fail_msg("lookup: '%s' does not say '%s'", d.msg, needle);
}

static void test_damaged_chain(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct entry v[2] = { entry_file("/a"), entry_file("/b") };
	struct state s = { 0 };
	struct rng g = { 7 };
	int64_t base, id;
	char sql[160];

	for (size_t i = 0; i < 2; i++)
		state_add(&s, &v[i]);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	base = write_state(st, &s, SNAP_PURPOSE_BASELINE, NULL, 0, &g, NULL);
	s.v[1].e.size = 99;
	id = write_state(st, &s, SNAP_PURPOSE_SCAN, "delta", base, &g, NULL);

	snprintf(sql, sizeof(sql), "UPDATE snapshot SET parent = 999 WHERE id = %" PRId64, id);
	sql_exec(t->db, sql);
	expect_eproto(st, t->db, id, "999");

	snprintf(sql, sizeof(sql),
		 "UPDATE snapshot SET parent = %" PRId64 " WHERE id = %" PRId64 ";"
		 "UPDATE snapshot SET parent = %" PRId64 " WHERE id = %" PRId64,
		 base, id, id, base);
	sql_exec(t->db, sql);
	expect_eproto(st, t->db, id, "ancestor");
	expect_eproto(st, t->db, base, "ancestor");

	state_release(&s);
	snap_store_free(st);
}

/*
 * Deltas of deltas as deep as explicit parents (or a baseline made of a
 * check, again and again) take them: every one must stay readable.
 */
static void test_deep_chain_stays_readable(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct entry e = entry_file("/a");
	struct state s = { 0 };
	struct rng g = { 9 };
	int64_t id, full;
	char label[32];

	state_add(&s, &e);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	id = write_state(st, &s, SNAP_PURPOSE_BASELINE, NULL, 0, &g, NULL);
	for (unsigned i = 0; i < SNAP_CHAIN_MAX + 4; i++) {
		s.v[0].e.size = i;
		snprintf(label, sizeof(label), "d%u", i);
		id = write_state(st, &s, SNAP_PURPOSE_SCAN, label, id, &g, NULL);
		snprintf(label, sizeof(label), "f%u", i);
		full = write_state(st, &s, SNAP_PURPOSE_SCAN, label, -1, &g, NULL);
		check_iter(st, id, full, &s, ENTRY_FILE, NULL, 0, 0);
		check_lookup(t->db, id, full, &s, &s, &g);
	}
	/* And through re-baselining checks, the automatic way. */
	for (unsigned i = 0; i < SNAP_CHAIN_MAX + 4; i++) {
		s.v[0].e.mtime_ns = i;
		id = write_state(st, &s, SNAP_PURPOSE_CHECK, NULL, 0, &g, NULL);
		if (snap_set_baseline(st, id, NULL, &d) < 0)
			fail_msg("set baseline: %s", d.msg);
		snprintf(label, sizeof(label), "g%u", i);
		full = write_state(st, &s, SNAP_PURPOSE_SCAN, label, -1, &g, NULL);
		check_iter(st, id, full, &s, ENTRY_FILE, NULL, 0, 0);
	}
	state_release(&s);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delta_reads_as_full_copy, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_delta_size, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_sorter_spills_and_merges, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_sorter_duplicate_across_runs_refused,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_chain, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_deep_chain_stays_readable, tmp_setup,
						tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
