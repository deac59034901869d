/*
 * The browser's model (see model.h): compact arrays of findings, a tree of
 * nodes rebuilt when the view changes, and one array of visible rows.
 *
 * Memory per finding: struct tui_finding (32 bytes), its key in one arena,
 * its node and the next finding of that node (8 bytes), a row (4 bytes)
 * and, once asked for, one permutation per sort order (4 bytes each).
 */
#include "tui/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define NONE     UINT32_MAX
#define ROW_NODE 0x80000000u

struct node {
	uint32_t parent, first_child, last_child, next_sibling;
	uint32_t first_f, last_f; /* findings directly below, linked by fnext */
	uint64_t name_off;        /* in m->names */
	uint32_t name_len;
	uint32_t depth;
	uint64_t count, marked;
	uint8_t worst;
	bool expanded;
};

struct event {
	char *package, *before, *after;
	char *label;
	uint32_t files, findings;
};

struct tui_model {
	struct tui_finding *f;
	size_t n, alloc;
	char *arena;
	uint64_t arena_len, arena_alloc;

	struct event *events;
	size_t nevents, events_alloc;
	uint32_t *ev_hash;   /* open addressing: event index + 1; 0 free */
	uint32_t last_event; /* the previous row's (index + 1), a cache for tui_model_add() */
	size_t ev_hash_size;

	enum tui_view view;
	enum tui_sort sort;
	struct tui_filter filter;

	/* the tree of the current view (nodes[0] is the invisible root) */
	struct node *nodes;
	size_t nnodes, nodes_alloc;
	struct strbuf names;
	uint32_t *fnode, *fnext;

	uint32_t *perm[TUI_SORT__COUNT]; /* findings in each sort order, made when asked */

	uint32_t *rows;
	size_t nrows, rows_alloc;
	size_t cursor, top;
	uint64_t visible;
	uint64_t class_counts[TUI_CLASS_BITS];
	size_t nmarked;
};

struct tui_model *tui_model_new(void)
{
	struct tui_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->filter.min_severity = SEVERITY_INFO;
	m->filter.classes = TUI_CLASS_ALL;
	strbuf_init(&m->names);
	return m;
}

void tui_model_free(struct tui_model *m)
{
	if (!m)
		return;
	free(m->f);
	free(m->arena);
	for (size_t i = 0; i < m->nevents; i++) {
		free(m->events[i].package);
		free(m->events[i].before);
		free(m->events[i].after);
		free(m->events[i].label);
	}
	free(m->events);
	free(m->ev_hash);
	free(m->nodes);
	strbuf_release(&m->names);
	free(m->fnode);
	free(m->fnext);
	for (size_t i = 0; i < TUI_SORT__COUNT; i++)
		free(m->perm[i]);
	free(m->rows);
	free(m);
}

static int grow(void **p, size_t *alloc, size_t need, size_t size)
{
	size_t n = *alloc ? *alloc : 64;
	void *q;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*alloc = n;
	return 0;
}

/* ---- events ---- */

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (h ^ 0xff) * 1099511628211u;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

static int ev_rehash(struct tui_model *m)
{
	size_t size = m->ev_hash_size ? m->ev_hash_size * 2 : 256;
	uint32_t *h = calloc(size, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < m->nevents; i++) {
		const struct event *e = &m->events[i];
		uint64_t k = hash_str(
			hash_str(hash_str(14695981039346656037u, e->package), e->before), e->after);
		size_t j = k & (size - 1);

		while (h[j])
			j = (j + 1) & (size - 1);
		h[j] = (uint32_t)i + 1;
	}
	free(m->ev_hash);
	m->ev_hash = h;
	m->ev_hash_size = size;
	return 0;
}

static int event_find(struct tui_model *m, const char *pkg, const char *before, const char *after,
		      uint32_t *ret)
{
	uint64_t k;
	size_t j;
	struct event *e;
	bool fail = false;

	if ((m->nevents + 1) * 2 > m->ev_hash_size && ev_rehash(m) < 0)
		return -ENOMEM;
	k = hash_str(hash_str(hash_str(14695981039346656037u, pkg), before), after);
	for (j = k & (m->ev_hash_size - 1); m->ev_hash[j]; j = (j + 1) & (m->ev_hash_size - 1)) {
		e = &m->events[m->ev_hash[j] - 1];
		if (!strcmp(e->package, pkg) && str_eq(e->before, before) &&
		    str_eq(e->after, after)) {
			*ret = m->ev_hash[j];
			return 0;
		}
	}
	if (grow((void **)&m->events, &m->events_alloc, m->nevents + 1, sizeof(*m->events)) < 0)
		return -ENOMEM;
	e = &m->events[m->nevents];
	*e = (struct event){ 0 };
	e->package = dup_or_null(pkg, &fail);
	e->before = dup_or_null(before, &fail);
	e->after = dup_or_null(after, &fail);
	if (fail) {
		free(e->package);
		free(e->before);
		free(e->after);
		return -ENOMEM;
	}
	m->ev_hash[j] = (uint32_t)++m->nevents;
	*ret = (uint32_t)m->nevents;
	return 0;
}

int tui_model_reserve(struct tui_model *m, size_t n, uint64_t key_bytes)
{
	if (grow((void **)&m->f, &m->alloc, n, sizeof(*m->f)) < 0)
		return -ENOMEM;
	if (key_bytes > m->arena_alloc) {
		char *a = realloc(m->arena, key_bytes);

		if (!a)
			return -ENOMEM;
		m->arena = a;
		m->arena_alloc = key_bytes;
	}
	return 0;
}

int tui_model_add(struct tui_model *m, uint32_t seq, enum entry_kind kind, const char *key,
		  size_t key_len, enum change change, uint32_t changed, bool judged,
		  enum verdict_class cls, enum severity sev, const char *package,
		  const char *before_version, const char *after_version)
{
	struct tui_finding *f;
	uint32_t ev = 0;

	if (m->n >= ROW_NODE - 1 || key_len > UINT32_MAX)
		return -E2BIG;
	if (grow((void **)&m->f, &m->alloc, m->n + 1, sizeof(*m->f)) < 0)
		return -ENOMEM;
	if (m->arena_len + key_len > m->arena_alloc) {
		uint64_t n = m->arena_alloc ? m->arena_alloc : 4096;
		char *a;

		while (n < m->arena_len + key_len)
			n *= 2;
		a = realloc(m->arena, n);
		if (!a)
			return -ENOMEM;
		m->arena = a;
		m->arena_alloc = n;
	}
	if (package && (before_version || after_version) &&
	    !str_eq(before_version, after_version)) {
		const struct event *last = m->last_event ? &m->events[m->last_event - 1] : NULL;
		const char *colon = strchr(package, ':');
		char name[256];

		/*
		 * One transaction per package name, as the findings layer names its
		 * events (compare/event.c): the package's own entry says
		 * "pytool:all", the files dpkg's lists own say "pytool".
		 */
		if (colon && (size_t)(colon - package) < sizeof(name)) {
			memcpy(name, package, (size_t)(colon - package));
			name[colon - package] = '\0';
			package = name;
		}

		/* A package's files come together: most rows are the previous row's event. */
		if (last && !strcmp(last->package, package) &&
		    str_eq(last->before, before_version) && str_eq(last->after, after_version))
			ev = m->last_event;
		else if (event_find(m, package, before_version, after_version, &ev) < 0)
			return -ENOMEM;
		m->last_event = ev;
		m->events[ev - 1].findings++;
		if (kind == ENTRY_FILE)
			m->events[ev - 1].files++;
	}
	memcpy(m->arena + m->arena_len, key, key_len);
	f = &m->f[m->n++];
	*f = (struct tui_finding){ .seq = seq,
				   .key_len = (uint32_t)key_len,
				   .key_off = m->arena_len,
				   .event = ev,
				   .changed = changed,
				   .kind = (uint8_t)kind,
				   .change = (uint8_t)change,
				   .class = (uint8_t)(judged ? cls : CLASS_DRIFT),
				   .class0 = (uint8_t)(judged ? cls : CLASS_DRIFT),
				   .severity = (uint8_t)(judged ? sev : SEVERITY_INFO),
				   .flags = judged ? TUI_F_JUDGED : 0 };
	m->arena_len += key_len;
	return 0;
}

static int event_labels(struct tui_model *m)
{
	for (size_t i = 0; i < m->nevents; i++) {
		struct event *e = &m->events[i];
		struct strbuf sb = STRBUF_INIT;
		int r;

		if (e->before && e->after)
			r = strbuf_addf(&sb, "%s %s \xe2\x86\x92 %s", e->package, e->before,
					e->after);
		else if (e->after)
			r = strbuf_addf(&sb, "%s %s installed", e->package, e->after);
		else
			r = strbuf_addf(&sb, "%s %s removed", e->package, e->before);
		if (r >= 0) {
			if (e->files == e->findings)
				r = strbuf_addf(&sb, ", %u file%s", e->files,
						e->files == 1 ? "" : "s");
			else
				r = strbuf_addf(&sb, ", %u finding%s", e->findings,
						e->findings == 1 ? "" : "s");
		}
		if (r < 0) {
			strbuf_release(&sb);
			return -ENOMEM;
		}
		free(e->label);
		e->label = strbuf_detach(&sb, NULL);
	}
	return 0;
}

size_t tui_model_count(const struct tui_model *m)
{
	return m->n;
}

const struct tui_finding *tui_model_finding(const struct tui_model *m, size_t i)
{
	return i < m->n ? &m->f[i] : NULL;
}

const char *tui_model_key(const struct tui_model *m, const struct tui_finding *f)
{
	return m->arena + f->key_off;
}

const char *tui_model_event_label(const struct tui_model *m, uint32_t event)
{
	return event && event <= m->nevents ? m->events[event - 1].label : NULL;
}

const char *tui_model_event_package(const struct tui_model *m, uint32_t event)
{
	return event && event <= m->nevents ? m->events[event - 1].package : NULL;
}

/* ---- names ---- */

static const char *const view_names[TUI_VIEW__COUNT] = { "directories", "kinds", "events", "list" };
static const char *const sort_names[TUI_SORT__COUNT] = { "severity", "path", "kind", "change" };

const char *tui_view_name(enum tui_view view)
{
	return (unsigned)view < TUI_VIEW__COUNT ? view_names[view] : "unknown";
}

const char *tui_sort_name(enum tui_sort sort)
{
	return (unsigned)sort < TUI_SORT__COUNT ? sort_names[sort] : "unknown";
}

const char *tui_class_name(unsigned cls)
{
	if (cls == TUI_CLASS_ACCEPTED)
		return "accepted";
	return class_name((enum verdict_class)cls);
}

static const char *kind_plural(unsigned kind)
{
	static const char *const names[] = { "?",        "/",       "packages", "users", "groups",
					     "services", "sysctls", "modules",  "ports", "mounts" };
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "other";
}

/* ---- the tree ---- */

static int node_new(struct tui_model *m, uint32_t parent, const char *name, size_t len,
		    uint32_t *ret)
{
	struct node *n;
	uint32_t id;

	if (grow((void **)&m->nodes, &m->nodes_alloc, m->nnodes + 1, sizeof(*m->nodes)) < 0)
		return -ENOMEM;
	id = (uint32_t)m->nnodes;
	n = &m->nodes[m->nnodes++];
	*n = (struct node){ .parent = parent,
			    .first_child = NONE,
			    .last_child = NONE,
			    .next_sibling = NONE,
			    .first_f = NONE,
			    .last_f = NONE,
			    .name_off = m->names.len,
			    .name_len = (uint32_t)len };
	if (strbuf_add(&m->names, name, len) < 0)
		return -ENOMEM;
	if (parent != NONE) {
		struct node *p = &m->nodes[parent];

		n->depth = parent ? p->depth + 1 : 0;
		if (p->last_child == NONE)
			p->first_child = id;
		else
			m->nodes[p->last_child].next_sibling = id;
		p->last_child = id;
	}
	*ret = id;
	return 0;
}

static void node_add_finding(struct tui_model *m, uint32_t node, uint32_t i)
{
	struct node *n = &m->nodes[node];

	m->fnode[i] = node;
	m->fnext[i] = NONE;
	if (n->last_f == NONE)
		n->first_f = i;
	else
		m->fnext[n->last_f] = i;
	n->last_f = i;
}

/*
 * Files by directory. The run's files come in key order, so the files of
 * one directory are together: a stack of the open directories' nodes
 * suffices, no lookup. (Out of order keys would give a directory twice,
 * never lose a finding.)
 */
static int build_dir(struct tui_model *m)
{
	uint32_t *stack = NULL, slash = NONE, kinds[ENTRY__KIND_MAX + 2], prev_dir = NONE;
	size_t depth = 0, stack_alloc = 0, prev_len = 0;
	const char *prev_key = NULL;
	int r = 0;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		kinds[k] = NONE;
	for (size_t i = 0; i < m->n; i++) {
		const struct tui_finding *f = &m->f[i];
		const char *key = m->arena + f->key_off, *p, *end;
		size_t level = 0;
		uint32_t parent;

		if (f->kind != ENTRY_FILE) {
			unsigned k = f->kind <= ENTRY__KIND_MAX ? f->kind : ENTRY__KIND_MAX + 1;

			if (kinds[k] == NONE) {
				const char *name = kind_plural(k);

				r = node_new(m, 0, name, strlen(name), &kinds[k]);
				if (r < 0)
					goto out;
			}
			node_add_finding(m, kinds[k], (uint32_t)i);
			continue;
		}
		if (slash == NONE) {
			r = node_new(m, 0, "/", 1, &slash);
			if (r < 0)
				goto out;
		}
		/* The directory components: between the slashes before the last one. */
		end = key + f->key_len;
		while (end > key && end[-1] != '/')
			end--;
		if (end > key)
			end--; /* the last slash */
		/* Most files are in the previous one's directory: one comparison. */
		if (prev_dir != NONE && (size_t)(end - key) == prev_len &&
		    !memcmp(key, prev_key, prev_len)) {
			node_add_finding(m, prev_dir, (uint32_t)i);
			continue;
		}
		p = key;
		parent = slash;
		while (p < end) {
			const char *c, *ce;

			while (p < end && *p == '/')
				p++;
			if (p >= end)
				break;
			c = p;
			ce = memchr(c, '/', (size_t)(end - c));
			if (!ce)
				ce = end;
			p = ce;
			if (level < depth) {
				const struct node *n = &m->nodes[stack[level]];

				if (n->name_len == (size_t)(ce - c) &&
				    !memcmp(m->names.buf + n->name_off, c, n->name_len)) {
					parent = stack[level++];
					continue;
				}
				depth = level;
			}
			if (grow((void **)&stack, &stack_alloc, level + 1, sizeof(*stack)) < 0) {
				r = -ENOMEM;
				goto out;
			}
			r = node_new(m, parent, c, (size_t)(ce - c), &stack[level]);
			if (r < 0)
				goto out;
			parent = stack[level++];
			depth = level;
		}
		depth = level;
		node_add_finding(m, parent, (uint32_t)i);
		prev_dir = parent;
		prev_key = key;
		prev_len = (size_t)(end - key);
	}
out:
	free(stack);
	return r;
}

static int build_kind(struct tui_model *m)
{
	uint32_t kinds[ENTRY__KIND_MAX + 2];
	int r;

	/* Files first (as the run orders them), then the kinds in their order. */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		kinds[k] = NONE;
	for (size_t i = 0; i < m->n; i++) {
		unsigned k = m->f[i].kind <= ENTRY__KIND_MAX ? m->f[i].kind : ENTRY__KIND_MAX + 1;

		if (kinds[k] == NONE) {
			const char *name = k == ENTRY_FILE ? "files" : kind_plural(k);

			r = node_new(m, 0, name, strlen(name), &kinds[k]);
			if (r < 0)
				return r;
		}
		node_add_finding(m, kinds[k], (uint32_t)i);
	}
	return 0;
}

static int build_event(struct tui_model *m)
{
	uint32_t none = NONE, first;
	int r;

	first = (uint32_t)m->nnodes;
	for (size_t e = 0; e < m->nevents; e++) {
		uint32_t id;

		r = node_new(m, 0, m->events[e].label, strlen(m->events[e].label), &id);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (m->f[i].event) {
			node_add_finding(m, first + m->f[i].event - 1, (uint32_t)i);
			continue;
		}
		if (none == NONE) {
			r = node_new(m, 0, "no package event", strlen("no package event"), &none);
			if (r < 0)
				return r;
		}
		node_add_finding(m, none, (uint32_t)i);
	}
	return 0;
}

static int build_tree(struct tui_model *m)
{
	uint32_t root;
	int r;

	m->nnodes = 0;
	strbuf_reset(&m->names);
	if (!m->fnode) {
		m->fnode = malloc((m->n ? m->n : 1) * sizeof(*m->fnode));
		m->fnext = malloc((m->n ? m->n : 1) * sizeof(*m->fnext));
		if (!m->fnode || !m->fnext)
			return -ENOMEM;
	}
	r = node_new(m, NONE, "", 0, &root);
	if (r < 0)
		return r;
	m->nodes[root].expanded = true;
	switch (m->view) {
	case TUI_VIEW_DIR:
		r = build_dir(m);
		break;
	case TUI_VIEW_KIND:
		r = build_kind(m);
		break;
	case TUI_VIEW_EVENT:
		r = build_event(m);
		break;
	case TUI_VIEW_LIST:
		break;
	}
	if (r < 0)
		return r;
	/*
	 * The top level starts open (but for events), and so does a chain of directories that
	 * holds only one directory each (/ → var → lib → app), down to where
	 * the tree branches.
	 */
	for (uint32_t c = m->nodes[0].first_child; c != NONE; c = m->nodes[c].next_sibling) {
		uint32_t n = c;

		/* Events start closed: one line per package transaction is the point. */
		if (m->view == TUI_VIEW_EVENT)
			break;

		m->nodes[n].expanded = true;
		while (m->nodes[n].first_f == NONE && m->nodes[n].first_child != NONE &&
		       m->nodes[n].first_child == m->nodes[n].last_child) {
			n = m->nodes[n].first_child;
			m->nodes[n].expanded = true;
		}
	}
	return 0;
}

/* ---- filters and counts ---- */

bool tui_model_passes(const struct tui_model *m, const struct tui_finding *f)
{
	const struct tui_filter *fl = &m->filter;

	return f->severity >= fl->min_severity && f->class < TUI_CLASS_BITS &&
	       (fl->classes & (1u << f->class)) &&
	       (!fl->changes || (fl->changes & (1u << f->change))) &&
	       (!fl->kinds || (f->kind < 32 && (fl->kinds & (1u << f->kind))));
}

static void recount(struct tui_model *m)
{
	m->visible = 0;
	memset(m->class_counts, 0, sizeof(m->class_counts));
	for (size_t i = 0; i < m->nnodes; i++) {
		m->nodes[i].count = 0;
		m->nodes[i].marked = 0;
		m->nodes[i].worst = 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct tui_finding *f = &m->f[i];

		if (!tui_model_passes(m, f))
			continue;
		m->visible++;
		m->class_counts[f->class]++;
		if (m->view != TUI_VIEW_LIST) {
			struct node *n = &m->nodes[m->fnode[i]];

			n->count++;
			n->marked += (f->flags & TUI_F_MARKED) != 0;
			if (f->severity > n->worst)
				n->worst = f->severity;
		}
	}
	/* Children come after their parents: one pass from the end adds them up. */
	for (size_t i = m->nnodes; i-- > 1;) {
		struct node *n = &m->nodes[i], *p = &m->nodes[n->parent];

		p->count += n->count;
		p->marked += n->marked;
		if (n->count && n->worst > p->worst)
			p->worst = n->worst;
	}
}

/* ---- sort orders ---- */

static const struct tui_model *cmp_model;

static int cmp_path(const void *a, const void *b)
{
	const struct tui_finding *x = &cmp_model->f[*(const uint32_t *)a];
	const struct tui_finding *y = &cmp_model->f[*(const uint32_t *)b];
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(cmp_model->arena + x->key_off, cmp_model->arena + y->key_off, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A stable counting sort of the findings by a small value. */
static void counting_sort(const struct tui_model *m, uint32_t *out, unsigned nvals,
			  unsigned (*val)(const struct tui_finding *f))
{
	size_t start[256] = { 0 };

	for (size_t i = 0; i < m->n; i++)
		start[val(&m->f[i]) + 1]++;
	for (unsigned v = 1; v <= nvals; v++)
		start[v] += start[v - 1];
	for (size_t i = 0; i < m->n; i++)
		out[start[val(&m->f[i])]++] = (uint32_t)i;
}

static unsigned val_severity(const struct tui_finding *f)
{
	return SEVERITY__COUNT - 1 - (f->severity < SEVERITY__COUNT ? f->severity : 0);
}

static unsigned val_kind(const struct tui_finding *f)
{
	return f->kind;
}

static unsigned val_change(const struct tui_finding *f)
{
	return f->change < CHANGE__COUNT ? f->change : CHANGE__COUNT;
}

static int make_perm(struct tui_model *m, enum tui_sort sort)
{
	uint32_t *p;
	bool sorted = true;

	if (m->perm[sort])
		return 0;
	p = malloc((m->n ? m->n : 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	switch (sort) {
	case TUI_SORT_SEVERITY:
		counting_sort(m, p, SEVERITY__COUNT, val_severity);
		break;
	case TUI_SORT_KIND:
		counting_sort(m, p, 255, val_kind);
		break;
	case TUI_SORT_CHANGE:
		counting_sort(m, p, CHANGE__COUNT + 1, val_change);
		break;
	case TUI_SORT_PATH:
		for (size_t i = 0; i < m->n; i++) {
			p[i] = (uint32_t)i;
			if (i && sorted) {
				cmp_model = m;
				sorted = cmp_path(&p[i - 1], &p[i]) < 0;
			}
		}
		/* The run is in key order within a kind; sort only when it is not sorted. */
		if (!sorted) {
			cmp_model = m;
			qsort(p, m->n, sizeof(*p), cmp_path);
		}
		break;
	}
	m->perm[sort] = p;
	return 0;
}

/* ---- rows ---- */

static int row_push(struct tui_model *m, uint32_t v)
{
	if (m->nrows == m->rows_alloc &&
	    grow((void **)&m->rows, &m->rows_alloc, m->nrows + 1, sizeof(*m->rows)) < 0)
		return -ENOMEM;
	m->rows[m->nrows++] = v;
	return 0;
}

static int rows_of_node(struct tui_model *m, uint32_t id)
{
	const struct node *n = &m->nodes[id];
	int r;

	for (uint32_t c = n->first_child; c != NONE; c = m->nodes[c].next_sibling) {
		if (!m->nodes[c].count)
			continue;
		r = row_push(m, c | ROW_NODE);
		if (r < 0)
			return r;
		if (m->nodes[c].expanded) {
			r = rows_of_node(m, c);
			if (r < 0)
				return r;
		}
	}
	for (uint32_t i = n->first_f; i != NONE; i = m->fnext[i]) {
		if (!tui_model_passes(m, &m->f[i]))
			continue;
		r = row_push(m, i);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint32_t cursor_item(const struct tui_model *m)
{
	return m->cursor < m->nrows ? m->rows[m->cursor] : NONE;
}

/* Recompute the rows; the cursor goes back to @item, or stays near its row. */
static int rebuild_rows(struct tui_model *m, uint32_t item)
{
	size_t old = m->cursor;
	int r;

	recount(m);
	m->nrows = 0;
	if (m->view == TUI_VIEW_LIST) {
		r = make_perm(m, m->sort);
		if (r < 0)
			return r;
		if (grow((void **)&m->rows, &m->rows_alloc, m->n, sizeof(*m->rows)) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < m->n; i++)
			if (tui_model_passes(m, &m->f[m->perm[m->sort][i]]))
				m->rows[m->nrows++] = m->perm[m->sort][i];
	} else {
		r = rows_of_node(m, 0);
		if (r < 0)
			return r;
	}
	m->cursor = old < m->nrows ? old : (m->nrows ? m->nrows - 1 : 0);
	if (item == NONE)
		return 0;
	for (size_t i = 0; i < m->nrows; i++)
		if (m->rows[i] == item) {
			m->cursor = i;
			return 0;
		}
	/* A finding hidden in a closed node: the nearest visible node above it. */
	if (!(item & ROW_NODE) && m->view != TUI_VIEW_LIST && item < m->n) {
		for (uint32_t n = m->fnode[item]; n && n != NONE; n = m->nodes[n].parent)
			for (size_t i = 0; i < m->nrows; i++)
				if (m->rows[i] == (n | ROW_NODE)) {
					m->cursor = i;
					return 0;
				}
	}
	return 0;
}

/* Open the nodes above finding @i so that it has a row. */
static void reveal(struct tui_model *m, uint32_t i)
{
	if (m->view == TUI_VIEW_LIST)
		return;
	for (uint32_t n = m->fnode[i]; n != NONE; n = m->nodes[n].parent)
		m->nodes[n].expanded = true;
}

int tui_model_finish(struct tui_model *m)
{
	int r = event_labels(m);

	if (r < 0)
		return r;
	m->view = TUI_VIEW_DIR;
	m->sort = TUI_SORT_SEVERITY;
	r = build_tree(m);
	return r < 0 ? r : rebuild_rows(m, NONE);
}

int tui_model_set_view(struct tui_model *m, enum tui_view view)
{
	uint32_t item = cursor_item(m);
	int r;

	if ((unsigned)view >= TUI_VIEW__COUNT)
		return -EINVAL;
	m->view = view;
	r = build_tree(m);
	if (r < 0)
		return r;
	/* Node numbers do not survive a new tree; a finding does. */
	if (item != NONE && (item & ROW_NODE))
		item = NONE;
	if (item != NONE)
		reveal(m, item);
	m->cursor = 0;
	m->top = 0;
	return rebuild_rows(m, item);
}

enum tui_view tui_model_view(const struct tui_model *m)
{
	return m->view;
}

int tui_model_set_sort(struct tui_model *m, enum tui_sort sort)
{
	if ((unsigned)sort >= TUI_SORT__COUNT)
		return -EINVAL;
	m->sort = sort;
	return rebuild_rows(m, cursor_item(m));
}

enum tui_sort tui_model_sort(const struct tui_model *m)
{
	return m->sort;
}

int tui_model_set_filter(struct tui_model *m, const struct tui_filter *f)
{
	m->filter = *f;
	return rebuild_rows(m, cursor_item(m));
}

void tui_model_filter(const struct tui_model *m, struct tui_filter *ret)
{
	*ret = m->filter;
}

uint64_t tui_model_visible(const struct tui_model *m)
{
	return m->visible;
}

void tui_model_class_counts(const struct tui_model *m, uint64_t ret[TUI_CLASS_BITS])
{
	memcpy(ret, m->class_counts, sizeof(m->class_counts));
}

size_t tui_model_nrows(const struct tui_model *m)
{
	return m->nrows;
}

size_t tui_model_rows(const struct tui_model *m, size_t first, size_t height,
		      struct tui_row *ret_rows)
{
	size_t k = 0;

	for (size_t i = first; i < m->nrows && k < height; i++, k++) {
		uint32_t v = m->rows[i];
		struct tui_row *row = &ret_rows[k];

		*row = (struct tui_row){ 0 };
		if (v & ROW_NODE) {
			const struct node *n = &m->nodes[v & ~ROW_NODE];

			row->node = true;
			row->index = v & ~ROW_NODE;
			row->depth = n->depth;
			row->expanded = n->expanded;
			row->count = n->count;
			row->marked = n->marked;
			row->worst = (enum severity)n->worst;
			row->name = m->names.buf + n->name_off;
			row->name_len = n->name_len;
		} else {
			row->index = v;
			row->f = &m->f[v];
			row->key = m->arena + m->f[v].key_off;
			row->key_len = m->f[v].key_len;
			row->depth = m->view == TUI_VIEW_LIST ? 0 : m->nodes[m->fnode[v]].depth + 1;
		}
	}
	return k;
}

size_t tui_model_cursor(const struct tui_model *m)
{
	return m->cursor;
}

void tui_model_move_to(struct tui_model *m, size_t row)
{
	m->cursor = !m->nrows ? 0 : row >= m->nrows ? m->nrows - 1 : row;
}

void tui_model_move(struct tui_model *m, long delta)
{
	if (delta < 0 && (size_t)-delta > m->cursor)
		tui_model_move_to(m, 0);
	else
		tui_model_move_to(m, m->cursor + (size_t)delta);
}

const struct tui_finding *tui_model_current(const struct tui_model *m)
{
	uint32_t v = cursor_item(m);

	return v == NONE || (v & ROW_NODE) ? NULL : &m->f[v];
}

size_t tui_model_scroll(struct tui_model *m, size_t height)
{
	if (!height)
		return m->top;
	if (m->cursor < m->top)
		m->top = m->cursor;
	else if (m->cursor >= m->top + height)
		m->top = m->cursor - height + 1;
	if (m->nrows <= height)
		m->top = 0;
	else if (m->top > m->nrows - height)
		m->top = m->nrows - height;
	return m->top;
}

int tui_model_expand(struct tui_model *m, int how)
{
	uint32_t v = cursor_item(m);
	struct node *n;

	if (v == NONE || m->view == TUI_VIEW_LIST)
		return 0;
	if (!(v & ROW_NODE)) {
		if (how != 0)
			return 0;
		/* On a finding, "collapse" goes to the node it is in and closes it. */
		v = m->fnode[v] | ROW_NODE;
		if ((v & ~ROW_NODE) == 0)
			return 0;
	} else if (how == 0 && !m->nodes[v & ~ROW_NODE].expanded) {
		/* Already closed: go to the parent, as in a file manager. */
		uint32_t p = m->nodes[v & ~ROW_NODE].parent;

		return p && p != NONE ? rebuild_rows(m, p | ROW_NODE) : 0;
	}
	n = &m->nodes[v & ~ROW_NODE];
	n->expanded = how < 0 ? !n->expanded : how > 0;
	return rebuild_rows(m, v);
}

int tui_model_expand_all(struct tui_model *m, bool expand)
{
	uint32_t v = cursor_item(m);

	for (size_t i = 1; i < m->nnodes; i++)
		m->nodes[i].expanded = expand;
	if (!expand && v != NONE && !(v & ROW_NODE)) {
		/* The cursor goes to the top-level node it was in. */
		uint32_t n = m->fnode[v];

		while (m->nodes[n].parent && m->nodes[n].parent != NONE)
			n = m->nodes[n].parent;
		v = n | ROW_NODE;
	}
	return rebuild_rows(m, v);
}

/* ---- search ---- */

static bool key_has(const char *s, size_t n, const char *pat, size_t len)
{
	static unsigned char fold[256];
	unsigned char c0;

	if (!fold['A'])
		for (unsigned c = 0; c < 256; c++)
			fold[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	if (!len)
		return true;
	if (len > n)
		return false;
	c0 = fold[(unsigned char)pat[0]];
	for (size_t i = 0; i + len <= n; i++) {
		size_t j;

		if (fold[(unsigned char)s[i]] != c0)
			continue;
		for (j = 1; j < len; j++)
			if (fold[(unsigned char)s[i + j]] != fold[(unsigned char)pat[j]])
				break;
		if (j == len)
			return true;
	}
	return false;
}

int tui_model_search(struct tui_model *m, const char *pat, size_t len, bool forward,
		     bool include_current)
{
	uint32_t cur = cursor_item(m);
	size_t total, start;

	if (m->view == TUI_VIEW_LIST) {
		total = m->nrows;
		start = m->cursor;
	} else {
		/* In a tree: every finding, in run order, opening the nodes above the match. */
		total = m->n;
		start = cur != NONE && !(cur & ROW_NODE) ? cur : 0;
	}
	for (size_t k = include_current ? 0 : 1; k <= total && total; k++) {
		size_t i = forward ? (start + k) % total : (start + total - k % total) % total;
		uint32_t fi = m->view == TUI_VIEW_LIST ? m->rows[i] : (uint32_t)i;
		const struct tui_finding *f = &m->f[fi];

		if (!include_current && k == total)
			break;
		if (!tui_model_passes(m, f) ||
		    !key_has(m->arena + f->key_off, f->key_len, pat, len))
			continue;
		if (m->view == TUI_VIEW_LIST) {
			m->cursor = i;
			return 1;
		}
		reveal(m, fi);
		return rebuild_rows(m, fi) < 0 ? -ENOMEM : 1;
	}
	return 0;
}

/* ---- marks and selection ---- */

static void set_mark(struct tui_model *m, uint32_t i, bool on)
{
	struct tui_finding *f = &m->f[i];

	if (((f->flags & TUI_F_MARKED) != 0) == on)
		return;
	f->flags ^= TUI_F_MARKED;
	m->nmarked += on ? 1 : (size_t)-1;
	if (m->view != TUI_VIEW_LIST && tui_model_passes(m, f))
		for (uint32_t n = m->fnode[i]; n != NONE; n = m->nodes[n].parent)
			m->nodes[n].marked += on ? 1 : (uint64_t)-1;
}

typedef void node_visit_fn(struct tui_model *m, uint32_t i, void *userdata);

static void node_walk(struct tui_model *m, uint32_t id, node_visit_fn *fn, void *userdata)
{
	for (uint32_t c = m->nodes[id].first_child; c != NONE; c = m->nodes[c].next_sibling)
		node_walk(m, c, fn, userdata);
	for (uint32_t i = m->nodes[id].first_f; i != NONE; i = m->fnext[i])
		if (tui_model_passes(m, &m->f[i]))
			fn(m, i, userdata);
}

static void visit_mark(struct tui_model *m, uint32_t i, void *userdata)
{
	set_mark(m, i, *(bool *)userdata);
}

void tui_model_toggle_mark(struct tui_model *m)
{
	uint32_t v = cursor_item(m);

	if (v == NONE)
		return;
	if (!(v & ROW_NODE)) {
		set_mark(m, v, !(m->f[v].flags & TUI_F_MARKED));
		return;
	}
	{
		const struct node *n = &m->nodes[v & ~ROW_NODE];
		bool on = n->marked < n->count;

		node_walk(m, v & ~ROW_NODE, visit_mark, &on);
	}
}

void tui_model_clear_marks(struct tui_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		m->f[i].flags &= (uint8_t)~TUI_F_MARKED;
	m->nmarked = 0;
	for (size_t i = 0; i < m->nnodes; i++)
		m->nodes[i].marked = 0;
}

size_t tui_model_marked(const struct tui_model *m)
{
	return m->nmarked;
}

struct seqs {
	int64_t *v;
	size_t n, alloc;
	bool fail;
};

static void visit_collect(struct tui_model *m, uint32_t i, void *userdata)
{
	struct seqs *s = userdata;

	if (s->fail || grow((void **)&s->v, &s->alloc, s->n + 1, sizeof(*s->v)) < 0) {
		s->fail = true;
		return;
	}
	s->v[s->n++] = m->f[i].seq;
}

int tui_model_selection(const struct tui_model *m, int64_t **ret, size_t *ret_n)
{
	struct tui_model *mm = (struct tui_model *)(uintptr_t)m; /* node_walk reads only */
	struct seqs s = { 0 };
	uint32_t v = cursor_item(m);

	if (m->nmarked) {
		for (size_t i = 0; i < m->n; i++)
			if (m->f[i].flags & TUI_F_MARKED)
				visit_collect(mm, (uint32_t)i, &s);
	} else if (v != NONE && !(v & ROW_NODE)) {
		visit_collect(mm, v, &s);
	} else if (v != NONE) {
		node_walk(mm, v & ~ROW_NODE, visit_collect, &s);
	}
	if (s.fail) {
		free(s.v);
		return -ENOMEM;
	}
	*ret = s.v;
	*ret_n = s.n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int tui_model_set_accepted(struct tui_model *m, const int64_t *seqs, size_t n)
{
	/* seqs are in run order as added, so a finding is found by binary search. */
	for (size_t k = 0; k < n; k++) {
		uint32_t want = (uint32_t)seqs[k];
		size_t lo = 0, hi = m->n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cmp_u32(&m->f[mid].seq, &want) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < m->n && m->f[lo].seq == want)
			m->f[lo].class = TUI_CLASS_ACCEPTED;
	}
	tui_model_clear_marks(m);
	return rebuild_rows(m, cursor_item(m));
}

static int key_cmp(uint8_t ak, const char *a, size_t alen, uint8_t bk, const char *b, size_t blen)
{
	int c;

	if (ak != bk)
		return ak < bk ? -1 : 1;
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int tui_key_cmp(const void *x, const void *y)
{
	const struct tui_key *a = x, *b = y;

	return key_cmp(a->kind, a->key, a->key_len, b->kind, b->key, b->key_len);
}

int tui_model_set_accepted_keys(struct tui_model *m, struct tui_key *keys, size_t n, bool accepted)
{
	int changed = 0;

	if (!n)
		return 0;
	qsort(keys, n, sizeof(*keys), tui_key_cmp);
	/* One pass over the findings, a binary search each: O(findings log keys). */
	for (size_t i = 0; i < m->n; i++) {
		struct tui_finding *f = &m->f[i];
		const char *k = m->arena + f->key_off;
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = key_cmp(keys[mid].kind, keys[mid].key, keys[mid].key_len, f->kind,
					k, f->key_len);

			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n ||
		    key_cmp(keys[lo].kind, keys[lo].key, keys[lo].key_len, f->kind, k, f->key_len))
			continue;
		if (accepted && f->class != TUI_CLASS_ACCEPTED) {
			f->class = TUI_CLASS_ACCEPTED;
			changed++;
		} else if (!accepted && f->class == TUI_CLASS_ACCEPTED) {
			f->class = f->class0;
			changed++;
		}
	}
	if (!changed)
		return 0;
	return rebuild_rows(m, cursor_item(m)) < 0 ? -ENOMEM : changed;
}

/* ---- text ---- */

/* The next character of @s: its length in bytes and columns. Invalid bytes: 1 and 1. */
static size_t next_char(const char *s, size_t len, size_t *ret_cols)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;
	int w;

	if (p[0] < 0x80) {
		*ret_cols = p[0] >= 0x20 && p[0] != 0x7f ? 1 : 1;
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		*ret_cols = 1;
		return 1;
	}
	if (n > len) {
		*ret_cols = 1;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*ret_cols = 1;
			return 1;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	w = wcwidth((wchar_t)cp);
	*ret_cols = w < 0 ? 1 : (size_t)w;
	return n;
}

size_t tui_text_width(const char *s, size_t len)
{
	size_t cols = 0, w;

	for (size_t i = 0; i < len; i += next_char(s + i, len - i, &w), cols += w)
		;
	return cols;
}

int tui_text_fit(struct strbuf *out, const char *s, size_t len, size_t cols, size_t *ret_cols)
{
	struct strbuf esc = STRBUF_INIT;
	size_t width, start = 0, w;
	int r;

	r = escape_display(&esc, s, len);
	if (r < 0)
		goto out;
	width = tui_text_width(esc.buf, esc.len);
	if (width > cols) {
		if (cols == 0) {
			width = 0;
			start = esc.len;
		} else {
			/* Drop characters from the front until the rest and "…" fit. */
			while (start < esc.len && width + 1 > cols) {
				start += next_char(esc.buf + start, esc.len - start, &w);
				width -= w;
			}
			r = strbuf_adds(out, "\xe2\x80\xa6");
			width++;
		}
	}
	if (r >= 0)
		r = strbuf_add(out, esc.buf + start, esc.len - start);
	if (r >= 0 && ret_cols)
		*ret_cols = width;
out:
	strbuf_release(&esc);
	return r;
}

void tui_format_mode(char buf[11], uint32_t mode)
{
	static const char rwx[] = "rwxrwxrwx";
	char t = '?';

	switch (mode & 0170000) {
	case 0100000:
		t = '-';
		break;
	case 0040000:
		t = 'd';
		break;
	case 0120000:
		t = 'l';
		break;
	case 0010000:
		t = 'p';
		break;
	case 0140000:
		t = 's';
		break;
	case 0020000:
		t = 'c';
		break;
	case 0060000:
		t = 'b';
		break;
	}
	buf[0] = t;
	for (int i = 0; i < 9; i++)
		buf[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		buf[3] = buf[3] == 'x' ? 's' : 'S';
	if (mode & 02000)
		buf[6] = buf[6] == 'x' ? 's' : 'S';
	if (mode & 01000)
		buf[9] = buf[9] == 'x' ? 't' : 'T';
	buf[10] = '\0';
}

void tui_format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	unsigned u = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}
