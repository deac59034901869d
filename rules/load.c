/*
 * Loading a policy: YAML text -> struct rule_set.
 *
 * libyaml's document API parses the whole text into a node tree that keeps
 * every node's position, so the loader can walk it in any order and still
 * point at the right line and column. The walk:
 *
 *     top level   version, extends, include, scan, groups, rules, packages
 *                 (unknown or duplicate keys: problems)
 *     extends     the policy it builds on, loaded first and the same way (its
 *                 rules first, its scan and packages the defaults)
 *     scan        roots, exclude, probes (names checked against scanner/probe.h)...
 *     groups      registered first, then resolved depth-first with a stack,
 *                 so that a group using itself is reported with its chain
 *     rules       each mapping checked key by key; its kind first, since the
 *                 kind decides how its pattern is compiled and which
 *                 attributes it may check; appended to the set's
 *     packages    attribution settings and the unowned-file scope
 *     include     more files of groups and rules, loaded last, in order
 *
 * Every file of the set has its own loader (its YAML document, its groups)
 * over one build (the set, the problems, the files being read, for
 * cycles). Rule ids are made unique over all files at the end.
 *
 * Every problem is collected (never printed) with its file and position;
 * loading goes on after one, and at the end the problems are sorted into
 * file order and handed to the caller's callback. A set with any problem is
 * not returned. The digest is SHA-256 over the exact bytes loaded (over the
 * list of every file's SHA-256 for a policy of several files).
 */
#include "rules/rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "common/diag.h"
#include "common/suggest.h"
#include "common/pattern.h"
#include "common/strbuf.h"
#include "rules/internal.h"
#include "scanner/probe.h"
#include "common/banned.h"

#define POLICY_MAX_BYTES (16u << 20)
#define BUILTIN_NAME     "(built-in)" /* the built-in policy's name, in problems and reports */
#define MAX_THREADS      1024
#define MAX_PATH_MIN     4096     /* scan.max_path: PATH_MAX at least */
#define MAX_PATH_MAX     16777216 /* and at most 16 MiB */

/* Group names tried for "did you mean", over a whole policy. */
#define SUGGEST_BUDGET 100000

/* Every group has rdev beside type: a device's number is what it opens, as
 * much a part of what it is as its type (and 0 for anything but a device). */
const struct rule_builtin_group rule_builtin_groups[] = {
	{ "all", ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE | ATTR_MTIME | ATTR_INODE |
			 ATTR_DEVICE | ATTR_RDEV | ATTR_NLINK | ATTR_TARGET | ATTR_HASH |
			 ATTR_ERROR },
	{ "static", ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE | ATTR_MTIME |
			    ATTR_HASH | ATTR_TARGET | ATTR_RDEV },
	{ "perms", ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_RDEV },
	{ "log", ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_RDEV | RULE_GROW },
	{ "dir", ATTR_TYPE | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_RDEV },
};
const size_t rule_nbuiltin_groups = sizeof(rule_builtin_groups) / sizeof(rule_builtin_groups[0]);

/* The defaults of the packages section. */
static const char *const default_unowned[] = { "/usr",   "/bin",   "/sbin",   "/lib",
					       "/lib32", "/lib64", "/libx32", "/boot" };
static const char *const default_unowned_excl[] = { "/usr/local", "**/__pycache__" };
/*
 * What dpkg's triggers (and the tools they run) rewrite: caches and
 * databases built from what packages install.
 */
static const char *const default_trigger_outputs[] = {
	"/etc/ld.so.cache",
	"/etc/udev/hwdb.bin",
	"/usr/lib/udev/hwdb.bin",
	"/usr/lib/*/gtk-2.0/*/immodules.cache",
	"/usr/lib/*/gtk-3.0/*/immodules.cache",
	"/usr/lib/*/gdk-pixbuf-2.0/*/loaders.cache",
	"/usr/lib/*/gio/modules/giomodule.cache",
	"/usr/lib/*/gconv/gconv-modules.cache",
	"/usr/lib/locale/locale-archive",
	"/usr/share/icons/*/icon-theme.cache",
	"/usr/share/mime",
	"/usr/share/glib-2.0/schemas/gschemas.compiled",
	"/usr/share/applications/mimeinfo.cache",
	"/usr/share/info/dir",
	"/etc/ssl/certs/ca-certificates.crt",
	"/var/cache/man",
	"/var/cache/fontconfig",
	"/var/cache/ldconfig/aux-cache",
};

uint32_t rule_attr_parse(const char *name)
{
	if (!strcmp(name, "grow"))
		return RULE_GROW;
	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		const char *n = entry_attr_name((enum entry_attr)(1u << i));
		if (n && !strcmp(n, name))
			return 1u << i;
	}
	return 0;
}

/* ---- a table of names ---- */

/*
 * Names (borrowed) to numbers, by open addressing: what was a linear
 * search per name, and so quadratic over a policy, is one probe or two.
 * A policy of 100,000 rules or groups loads in time proportional to it.
 */
struct name_slot {
	const char *name; /* NULL: an empty slot */
	size_t value;
};

struct name_table {
	struct name_slot *slots;
	size_t mask; /* slots - 1: a power of two, at least twice the names */
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return h;
}

/* Room for @n names. Returns 0 or -ENOMEM. */
static int name_table_init(struct name_table *t, size_t n)
{
	size_t nslots = 16;

	while (nslots < 2 * n)
		nslots *= 2;
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = nslots - 1;
	return 0;
}

static void name_table_release(struct name_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->mask = 0;
}

/* The slot of @name: its own, or the empty one where it would go. NULL for no table. */
static struct name_slot *name_table_slot(const struct name_table *t, const char *name)
{
	if (!t->slots)
		return NULL;
	for (size_t i = name_hash(name) & t->mask;; i = (i + 1) & t->mask)
		if (!t->slots[i].name || !strcmp(t->slots[i].name, name))
			return &t->slots[i];
}

/* ---- the loader's state and problems ---- */

struct problem {
	struct diag d;
	unsigned fileno; /* the file's place in rs->files: problems come out in file order */
	size_t seq;
	char *key; /* owned: "fileno:line:col:message", for problem_seen() */
};

enum group_state { GROUP_NEW, GROUP_VISITING, GROUP_DONE };

struct group {
	const char *name; /* borrowed from the document */
	const yaml_node_t *value;
	uint32_t mask;
	enum group_state state;
	unsigned line; /* of its name */
};

/*
 * The groups a file may use beside its own: those of the policy it extends
 * (and of what that one extends), or, for an included file, those the
 * including file could use. Each file that defines groups adds a scope
 * over its parent's; the scopes live as long as the build.
 */
struct scoped_group {
	char *name; /* owned */
	uint32_t mask;
	unsigned line;
};

struct group_scope {
	const struct group_scope *parent;
	const char *file; /* borrowed from rs->files */
	struct scoped_group *groups;
	size_t n;
	struct name_table names; /* name -> index in groups */
};

/*
 * Which file a policy file is, to find cycles and files read twice: its
 * device and inode once opened; the built-in policy and a text handed over
 * as a buffer have neither and are told apart by name.
 */
struct file_id {
	dev_t dev;
	ino_t ino;
	bool on_disk;
	const char *name; /* borrowed from rs->files */
};

#define GROUP_STACK_MAX 64
/* How deeply policy files may extend or include one another, and how many. */
#define FILE_DEPTH_MAX 16
#define FILES_MAX      256

/* The state of loading one rule set, over every file that goes into it. */
struct build {
	struct rule_set *rs;
	const struct rule_load_opts *opts;
	struct problem *problems;
	size_t nproblems, aproblems;
	struct name_table seen;                   /* problems already reported: see problem() */
	size_t suggest_budget;                    /* group names left to try for "did you mean" */
	size_t arules;                            /* room in rs->rules */
	struct file_id stack[FILE_DEPTH_MAX + 1]; /* the files being loaded, outermost first */
	size_t depth;
	struct file_id *loaded; /* every file read, in order (fileno) */
	struct strbuf digests;  /* "sha256-hex\n" of every file read, in order */
	struct group_scope **scopes;
	size_t nscopes;
	bool probes_given;   /* scan.probes was in the policy */
	bool unowned_given;  /* packages.unowned was */
	bool unowned_xgiven; /* packages.unowned_exclude was */
	bool triggers_given; /* packages.trigger_outputs was */
	int err;             /* -ENOMEM, sticky */
};

/* What a file is to the policy: what it may hold, and whose rules are its. */
enum file_role {
	FILE_TOP,      /* the policy itself */
	FILE_BASE,     /* extended (`extends:`) by the top file or by another base */
	FILE_INCLUDED, /* included (`include:`): groups and rules only */
};

/* The state of loading one file of the set. */
struct loader {
	struct build *b;
	struct rule_set *rs; /* b->rs */
	const char *file;    /* borrowed from rs->files */
	unsigned fileno;
	enum file_role role;
	bool inherited; /* its rules come from an extended policy (rule->inherited) */
	yaml_document_t *doc;
	unsigned nrules; /* rules of this file so far, for default ids */
	struct group *groups;
	size_t ngroups;
	struct name_table group_names;   /* name -> index in groups */
	const struct group_scope *scope; /* groups of other files that this one may use */
	const char *stack[GROUP_STACK_MAX];
	size_t depth;
};

/*
 * Whether the problem just formatted in b->problems[b->nproblems] was
 * reported before: same message, same place. That happens when YAML
 * aliases (`*name`) use one node in many places: a faulty anchored node
 * referred to 100,000 times is one problem, not 100,000. The table holds
 * the problems' texts by "fileno:line:col:message"; it is rebuilt twice as
 * large when half full.
 */
static bool problem_seen(struct build *b)
{
	struct problem *p = &b->problems[b->nproblems];
	struct name_slot *slot;
	char *key;

	if (asprintf(&key, "%u:%u:%u:%s", p->fileno, p->d.line, p->d.col, p->d.msg) < 0) {
		b->err = -ENOMEM;
		return true;
	}
	if (!b->seen.slots || 2 * (b->nproblems + 1) > b->seen.mask + 1) {
		struct name_table bigger;
		if (name_table_init(&bigger, 2 * (b->nproblems + 1)) < 0) {
			free(key);
			b->err = -ENOMEM;
			return true;
		}
		for (size_t i = 0; b->seen.slots && i <= b->seen.mask; i++)
			if (b->seen.slots[i].name)
				*name_table_slot(&bigger, b->seen.slots[i].name) = b->seen.slots[i];
		name_table_release(&b->seen);
		b->seen = bigger;
	}
	slot = name_table_slot(&b->seen, key);
	if (slot->name) {
		free(key);
		return true;
	}
	slot->name = p->key = key;
	return false;
}

static void problems_free(struct problem *problems, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(problems[i].key);
	free(problems);
}

/* A problem at 1-based @line and @col of file number @fileno, called @file. */
__attribute__((format(printf, 6, 0))) static void problem_va(struct build *b, const char *file,
							     unsigned fileno, unsigned line,
							     unsigned col, const char *fmt,
							     va_list ap)
{
	if (b->nproblems == b->aproblems) {
		size_t n = b->aproblems ? 2 * b->aproblems : 8;
		struct problem *p = realloc(b->problems, n * sizeof(*p));
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->problems = p;
		b->aproblems = n;
	}
	struct problem *p = &b->problems[b->nproblems];
	memset(p, 0, sizeof(*p));
	vsnprintf(p->d.msg, sizeof(p->d.msg), fmt, ap);
	p->d.file = file;
	p->d.line = line;
	p->d.col = col;
	p->fileno = fileno;
	if (problem_seen(b))
		return;
	p->seq = b->nproblems++;
}

__attribute__((format(printf, 6, 7))) static void problem_at(struct build *b, const char *file,
							     unsigned fileno, unsigned line,
							     unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	problem_va(b, file, fileno, line, col, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void problem(struct loader *ld, const yaml_mark_t *m,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	problem_va(ld->b, ld->file, ld->fileno, (unsigned)m->line + 1, (unsigned)m->column + 1, fmt,
		   ap);
	va_end(ap);
}

static int problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->fileno != y->fileno)
		return x->fileno < y->fileno ? -1 : 1;
	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct rule_pos mark_pos(const struct loader *ld, const yaml_mark_t *m)
{
	return (struct rule_pos){ ld->file, (unsigned)m->line + 1, (unsigned)m->column + 1 };
}

static char *xstrdup(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ld->b->err = -ENOMEM;
	return d;
}

/* ---- "did you mean" ---- */

/* Writes " (did you mean 'x'?)" or "" into buf. */
static const char *suggest_text(const struct suggest *s, char *buf, size_t size)
{
	if (!s->best)
		return "";
	snprintf(buf, size, " (did you mean '%s'?)", s->best);
	return buf;
}

/* ---- node helpers ---- */

static const yaml_node_t *node_at(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

static const char *scalar_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A string value: a scalar without NUL bytes; NULL (and a problem) otherwise. */
static const char *get_string(struct loader *ld, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		problem(ld, &n->start_mark, "'%s' must be a string", what);
		return NULL;
	}
	if (strlen(scalar_text(n)) != n->data.scalar.length) {
		problem(ld, &n->start_mark, "'%s' must not contain a NUL byte", what);
		return NULL;
	}
	return scalar_text(n);
}

static bool get_bool(struct loader *ld, const yaml_node_t *n, const char *what, bool *ret)
{
	if (is_plain(n) && !strcmp(scalar_text(n), "true")) {
		*ret = true;
		return true;
	}
	if (is_plain(n) && !strcmp(scalar_text(n), "false")) {
		*ret = false;
		return true;
	}
	problem(ld, &n->start_mark, "'%s' must be true or false", what);
	return false;
}

/*
 * Check the keys of mapping @map against @allowed (n names): report
 * unknown and duplicate keys, and store each known key's key and value
 * nodes (NULL when absent).
 */
static void get_keys(struct loader *ld, const yaml_node_t *map, const char *where,
		     const char *const *allowed, size_t n, const yaml_node_t **ret_keys,
		     const yaml_node_t **ret_values)
{
	for (size_t i = 0; i < n; i++)
		ret_keys[i] = ret_values[i] = NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
		size_t i;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			problem(ld, &k->start_mark, "keys in %s must be strings", where);
			continue;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(scalar_text(k), allowed[i]))
				break;
		if (i == n) {
			struct strbuf sb = STRBUF_INIT;
			struct suggest s = { scalar_text(k), NULL, SIZE_MAX };
			char buf[64];

			for (size_t j = 0; j < n; j++) {
				if (strbuf_addf(&sb, "%s%s", j ? ", " : "", allowed[j]) < 0)
					ld->b->err = -ENOMEM;
				suggest_try(&s, allowed[j]);
			}
			problem(ld, &k->start_mark, "unknown key '%s' in %s%s (allowed: %s)",
				scalar_text(k), where, suggest_text(&s, buf, sizeof(buf)), sb.buf);
			strbuf_release(&sb);
			continue;
		}
		if (ret_keys[i]) {
			problem(ld, &k->start_mark, "duplicate key '%s' in %s (first at line %u)",
				allowed[i], where, (unsigned)ret_keys[i]->start_mark.line + 1);
			continue;
		}
		ret_keys[i] = k;
		ret_values[i] = v;
	}
}

/*
 * The items of a list value: a sequence of scalars, or one scalar standing
 * for a list of one. Returns the number of items stored in ret (at most
 * max), reporting anything else.
 */
static size_t get_items(struct loader *ld, const yaml_node_t *n, const char *what,
			const char *what_items, const yaml_node_t ***ret)
{
	size_t count = 0, total;
	const yaml_node_t **items;

	if (n->type != YAML_SEQUENCE_NODE && n->type != YAML_SCALAR_NODE) {
		problem(ld, &n->start_mark, "'%s' must be a list of %s", what, what_items);
		return 0;
	}
	total = n->type == YAML_SCALAR_NODE
			? 1
			: (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	items = calloc(total ? total : 1, sizeof(*items));
	if (!items) {
		ld->b->err = -ENOMEM;
		return 0;
	}
	if (n->type == YAML_SCALAR_NODE) {
		items[0] = n;
		*ret = items;
		return 1;
	}
	for (size_t i = 0; i < total; i++) {
		const yaml_node_t *it = node_at(ld, n->data.sequence.items.start[i]);
		if (!it)
			continue;
		if (it->type != YAML_SCALAR_NODE) {
			problem(ld, &it->start_mark, "'%s' must be a list of %s", what, what_items);
			continue;
		}
		items[count++] = it;
	}
	*ret = items;
	return count;
}

/* ---- groups and attribute lists ---- */

static struct group *group_find(struct loader *ld, const char *name)
{
	const struct name_slot *slot = name_table_slot(&ld->group_names, name);

	return slot && slot->name ? &ld->groups[slot->value] : NULL;
}

/* A group of another file that @ld may use, or NULL. */
static const struct scoped_group *scope_find(const struct group_scope *scope, const char *name,
					     const struct group_scope **ret_scope)
{
	for (; scope; scope = scope->parent) {
		const struct name_slot *slot = name_table_slot(&scope->names, name);
		if (slot && slot->name) {
			*ret_scope = scope;
			return &scope->groups[slot->value];
		}
	}
	return NULL;
}

static uint32_t group_resolve(struct loader *ld, struct group *g);

static void unknown_name(struct loader *ld, const yaml_node_t *it, const char *name)
{
	struct suggest s = { name, NULL, SIZE_MAX };
	char buf[64];

	for (unsigned i = 0; i < ATTR__COUNT; i++)
		suggest_try(&s, entry_attr_name((enum entry_attr)(1u << i)));
	suggest_try(&s, "grow");
	for (size_t i = 0; i < rule_nbuiltin_groups; i++)
		suggest_try(&s, rule_builtin_groups[i].name);
	/* Bounded: a policy of many groups and many unknown names is not quadratic. */
	for (size_t i = 0; i < ld->ngroups && ld->b->suggest_budget > 0;
	     i++, ld->b->suggest_budget--)
		suggest_try(&s, ld->groups[i].name);
	for (const struct group_scope *sc = ld->scope; sc; sc = sc->parent)
		for (size_t i = 0; i < sc->n && ld->b->suggest_budget > 0;
		     i++, ld->b->suggest_budget--)
			suggest_try(&s, sc->groups[i].name);
	problem(ld, &it->start_mark, "unknown attribute or group '%s'%s", name,
		suggest_text(&s, buf, sizeof(buf)));
}

/* One name of an attribute list: an attribute, grow, or a group. */
static uint32_t name_mask(struct loader *ld, const yaml_node_t *it)
{
	const char *name = scalar_text(it);
	uint32_t bit = rule_attr_parse(name);
	struct group *g;

	if (bit)
		return bit;
	for (size_t i = 0; i < rule_nbuiltin_groups; i++)
		if (!strcmp(name, rule_builtin_groups[i].name))
			return rule_builtin_groups[i].mask;
	g = group_find(ld, name);
	if (!g) {
		const struct group_scope *sc;
		const struct scoped_group *sg = scope_find(ld->scope, name, &sc);
		if (sg)
			return sg->mask;
		unknown_name(ld, it, name);
		return 0;
	}
	if (g->state == GROUP_VISITING) {
		struct strbuf chain = STRBUF_INIT;
		size_t from = 0;

		while (from < ld->depth && strcmp(ld->stack[from], name))
			from++;
		for (size_t i = from; i < ld->depth; i++)
			if (strbuf_addf(&chain, "%s -> ", ld->stack[i]) < 0)
				ld->b->err = -ENOMEM;
		if (strbuf_adds(&chain, name) < 0)
			ld->b->err = -ENOMEM;
		problem(ld, &it->start_mark, "group '%s' refers to itself (%s)", name, chain.buf);
		strbuf_release(&chain);
		return 0;
	}
	return group_resolve(ld, g);
}

/*
 * The attributes of a list. @kind is the kind of the rule it belongs to (0
 * for a group's own list, checked where the group is used): a rule of
 * system state checks only `props` (`all` means props there), a rule of
 * files never does.
 */
static uint32_t attr_list(struct loader *ld, const yaml_node_t *n, const char *what,
			  enum entry_kind kind)
{
	const yaml_node_t **items = NULL;
	size_t count = get_items(ld, n, what, "attribute and group names", &items);
	uint32_t mask = 0;

	for (size_t i = 0; i < count; i++) {
		const char *name = scalar_text(items[i]);
		bool attr = rule_attr_parse(name) != 0;
		uint32_t m;

		if (kind && kind != ENTRY_FILE && !strcmp(name, "all")) {
			mask |= ATTR_PROPS;
			continue;
		}
		m = name_mask(ld, items[i]);
		if (kind && kind != ENTRY_FILE && (m & ~(uint32_t)ATTR_PROPS)) {
			if (attr)
				problem(ld, &items[i]->start_mark,
					"'%s' is not an attribute of kind '%s' (only 'props' is)",
					name, entry_kind_name(kind));
			else
				problem(ld, &items[i]->start_mark,
					"group '%s' has attributes of files, not of kind '%s' (only "
					"'props' is)",
					name, entry_kind_name(kind));
			m &= ATTR_PROPS;
		} else if (kind == ENTRY_FILE && (m & ATTR_PROPS)) {
			problem(ld, &items[i]->start_mark,
				"%s'%s'%s not an attribute of files (it is for the kinds of system "
				"state: give the rule a 'kind')",
				attr ? "" : "group ", name, attr ? " is" : " has 'props',");
			m &= ~(uint32_t)ATTR_PROPS;
		}
		mask |= m;
	}
	free(items);
	return mask;
}

static uint32_t group_resolve(struct loader *ld, struct group *g)
{
	char what[80];

	if (g->state == GROUP_DONE)
		return g->mask;
	if (ld->depth == GROUP_STACK_MAX) {
		problem(ld, &g->value->start_mark, "groups nest too deeply (more than %d levels)",
			GROUP_STACK_MAX);
		return 0;
	}
	g->state = GROUP_VISITING;
	ld->stack[ld->depth++] = g->name;
	snprintf(what, sizeof(what), "%s", g->name);
	g->mask = attr_list(ld, g->value, what, 0);
	ld->depth--;
	g->state = GROUP_DONE;
	return g->mask;
}

static void load_groups(struct loader *ld, const yaml_node_t *n)
{
	size_t total;

	if (n->type != YAML_MAPPING_NODE) {
		problem(ld, &n->start_mark,
			"'groups' must be a mapping of group names to attribute lists");
		return;
	}
	total = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	ld->groups = calloc(total ? total : 1, sizeof(*ld->groups));
	if (!ld->groups || name_table_init(&ld->group_names, total) < 0) {
		ld->b->err = -ENOMEM;
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = node_at(ld, p->key), *v = node_at(ld, p->value);
		const char *name;
		bool ok = true;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			problem(ld, &k->start_mark, "group names must be strings");
			continue;
		}
		name = scalar_text(k);
		for (const char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
				ok = false;
		if (!ok || !*name) {
			problem(ld, &k->start_mark,
				"bad group name '%s': use letters, digits, '_' and '-'", name);
			continue;
		}
		if (rule_attr_parse(name)) {
			problem(ld, &k->start_mark, "group '%s' has the name of an attribute",
				name);
			continue;
		}
		for (size_t i = 0; i < rule_nbuiltin_groups; i++)
			if (!strcmp(name, rule_builtin_groups[i].name))
				ok = false;
		if (!ok) {
			problem(ld, &k->start_mark,
				"group '%s' is built in and cannot be redefined (choose another name)",
				name);
			continue;
		}
		struct name_slot *slot = name_table_slot(&ld->group_names, name);
		if (slot->name) {
			problem(ld, &k->start_mark, "duplicate group '%s' (first at line %u)", name,
				ld->groups[slot->value].line);
			continue;
		}
		/* One name, one meaning, in every file of the policy. */
		const struct group_scope *sc;
		const struct scoped_group *sg = scope_find(ld->scope, name, &sc);
		if (sg) {
			problem(ld, &k->start_mark,
				"group '%s' is defined already, in '%s' at line %u (choose another "
				"name)",
				name, sc->file, sg->line);
			continue;
		}
		*slot = (struct name_slot){ name, ld->ngroups };
		ld->groups[ld->ngroups++] =
			(struct group){ name, v, 0, GROUP_NEW, (unsigned)k->start_mark.line + 1 };
	}
	for (size_t i = 0; i < ld->ngroups; i++)
		group_resolve(ld, &ld->groups[i]);
}

static void scope_free(struct group_scope *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++)
		free(sc->groups[i].name);
	free(sc->groups);
	name_table_release(&sc->names);
	free(sc);
}

/*
 * The groups of the file @ld loads, resolved, as a scope over the ones it
 * could use itself: what the files it includes, and the files that extend
 * it, may use. The scope is @ld's own when the file defines no group.
 */
static const struct group_scope *scope_export(struct loader *ld)
{
	struct build *b = ld->b;
	struct group_scope *sc, **scopes;

	if (ld->ngroups == 0)
		return ld->scope;
	scopes = realloc(b->scopes, (b->nscopes + 1) * sizeof(*scopes));
	if (!scopes) {
		b->err = -ENOMEM;
		return ld->scope;
	}
	b->scopes = scopes;
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		b->err = -ENOMEM;
		return ld->scope;
	}
	b->scopes[b->nscopes++] = sc;
	sc->parent = ld->scope;
	sc->file = ld->file;
	sc->groups = calloc(ld->ngroups, sizeof(*sc->groups));
	if (!sc->groups || name_table_init(&sc->names, ld->ngroups) < 0) {
		b->err = -ENOMEM;
		return ld->scope;
	}
	for (size_t i = 0; i < ld->ngroups; i++) {
		const struct group *g = &ld->groups[i];
		char *name = xstrdup(ld, g->name);
		if (!name)
			return ld->scope;
		sc->groups[sc->n] = (struct scoped_group){ name, g->mask, g->line };
		*name_table_slot(&sc->names, name) = (struct name_slot){ name, sc->n };
		sc->n++;
	}
	return sc;
}

/* ---- the scan section ---- */

/* Why a policy pattern is refused, or NULL. */
static const char *policy_pattern_error(const char *text)
{
	const char *why = pattern_error(text);

	if (why)
		return why;
	if (text[0] != '/' && text[0] != '=' && strncmp(text, "**/", 3) && strchr(text, '/'))
		return "a pattern starts with '/', '=/' or '**/', or is a name glob without '/'";
	return NULL;
}

static struct pattern *compile(struct loader *ld, const yaml_node_t *n, const char *text)
{
	const char *why = policy_pattern_error(text);
	struct pattern *pat = NULL;

	if (why) {
		problem(ld, &n->start_mark, "bad pattern '%s': %s", text, why);
		return NULL;
	}
	if (pattern_new(text, &pat) < 0)
		ld->b->err = -ENOMEM;
	return pat;
}

/*
 * A rule's pattern for entries of @kind. Files and mounts have paths as
 * keys: the pattern is a path pattern. Any other key is matched as "/" +
 * key, so the pattern is compiled as "/" + text ("=" + "/" + the rest for
 * an exact one): `net.ipv4.*` becomes "/net.ipv4.*", a glob over the whole
 * key whose '*' stops at a '/'. Such a pattern must not start with '/'.
 * In a port's key a '[' is literal (it is the bracket of an IPv6 address,
 * "udp6/[::]:53", never a class). *ret_text gets a copy of @text when the
 * compiled text differs from it.
 */
static struct pattern *compile_key(struct loader *ld, const yaml_node_t *n, const char *text,
				   enum entry_kind kind, char **ret_text)
{
	struct strbuf sb = STRBUF_INIT;
	struct pattern *pat = NULL;
	const char *why;
	bool exact = text[0] == '=';

	*ret_text = NULL;
	if (rule_kind_is_path(kind))
		return compile(ld, n, text);
	if (text[exact] == '/') {
		problem(ld, &n->start_mark,
			"bad pattern '%s': a key of kind '%s' is a name, not a path: write it "
			"without the leading '/'",
			text, entry_kind_name(kind));
		return NULL;
	}
	if (!text[exact]) {
		problem(ld, &n->start_mark, "bad pattern '%s': empty pattern", text);
		return NULL;
	}
	/*
	 * An escaped '[' makes the text a glob, which '=' refuses; a glob
	 * without wildcards matches that key only anyway.
	 */
	if (strbuf_adds(&sb, exact && !(kind == ENTRY_PORT && strchr(text, '[')) ? "=/" : "/") < 0)
		ld->b->err = -ENOMEM;
	for (const char *c = text + exact; *c && ld->b->err == 0; c++) {
		int r = 0;

		if (*c == '\\' && c[1])
			r = strbuf_addch(&sb, *c++);
		else if (*c == '[' && kind == ENTRY_PORT)
			r = strbuf_addch(&sb, '\\');
		if (r < 0 || strbuf_addch(&sb, *c) < 0)
			ld->b->err = -ENOMEM;
	}
	if (ld->b->err < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	why = pattern_error(sb.buf);
	if (why) {
		problem(ld, &n->start_mark, "bad pattern '%s': %s", text, why);
	} else if (pattern_new(sb.buf, &pat) < 0 || !(*ret_text = xstrdup(ld, text))) {
		ld->b->err = -ENOMEM;
		pattern_free(pat);
		pat = NULL;
	}
	strbuf_release(&sb);
	return pat;
}

static void patterns_release(struct rule_patterns *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->texts[i]);
		pattern_free(pl->pats[i]);
	}
	free(pl->texts);
	free(pl->pats);
	memset(pl, 0, sizeof(*pl));
}

/* Room for @count patterns in @pl, which must be empty. */
static bool patterns_alloc(struct loader *ld, struct rule_patterns *pl, size_t count)
{
	pl->texts = calloc(count + 1, sizeof(*pl->texts));
	pl->pats = calloc(count + 1, sizeof(*pl->pats));
	if (pl->texts && pl->pats)
		return true;
	ld->b->err = -ENOMEM;
	patterns_release(pl);
	return false;
}

/* Append @pat (taken over) and a copy of @text; false when out of memory. */
static bool patterns_add(struct loader *ld, struct rule_patterns *pl, const char *text,
			 struct pattern *pat)
{
	char *copy = xstrdup(ld, text);

	if (!copy) {
		pattern_free(pat);
		return false;
	}
	pl->texts[pl->n] = copy;
	pl->pats[pl->n++] = pat;
	return true;
}

/* A list of path patterns (`what` names it in problems) into @pl, replacing it. */
static void load_patterns(struct loader *ld, const yaml_node_t *n, const char *what,
			  struct rule_patterns *pl)
{
	const yaml_node_t **items = NULL;
	size_t count = get_items(ld, n, what, "patterns", &items);

	patterns_release(pl);
	if (ld->b->err < 0 || !patterns_alloc(ld, pl, count)) {
		free(items);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const char *s = get_string(ld, items[i], what);
		struct pattern *pat = s ? compile(ld, items[i], s) : NULL;
		if (pat)
			patterns_add(ld, pl, s, pat);
	}
	free(items);
}

/* The built-in @texts (valid patterns) into @pl, replacing it. */
static void default_patterns(struct loader *ld, struct rule_patterns *pl, const char *const *texts,
			     size_t count)
{
	patterns_release(pl);
	if (!patterns_alloc(ld, pl, count))
		return;
	for (size_t i = 0; i < count; i++) {
		struct pattern *pat = NULL;
		if (pattern_new(texts[i], &pat) < 0 || !patterns_add(ld, pl, texts[i], pat)) {
			ld->b->err = -ENOMEM;
			return;
		}
	}
}

/* ---- probes ---- */

static void unknown_probe(struct loader *ld, const yaml_node_t *it, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	struct suggest s = { name, NULL, SIZE_MAX };
	char buf[64];

	for (size_t i = 0; i < probe_count; i++) {
		if (strbuf_addf(&sb, "%s, ", probe_list[i]->name) < 0)
			ld->b->err = -ENOMEM;
		suggest_try(&s, probe_list[i]->name);
	}
	if (strbuf_adds(&sb, "all, none") < 0)
		ld->b->err = -ENOMEM;
	problem(ld, &it->start_mark, "unknown probe '%s'%s (allowed: %s)", name,
		suggest_text(&s, buf, sizeof(buf)), sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

/*
 * Fill rs->probes from the selection @on (probe_count flags; NULL: all), in
 * probe_list order, and rs->probe_pos from @pos (where each was named; NULL:
 * nowhere, a default).
 */
static void probes_set(struct loader *ld, const bool *on, const struct rule_pos *pos)
{
	struct rule_set *rs = ld->rs;
	const char **names = calloc(probe_count + 1, sizeof(*names));
	struct rule_pos *where = calloc(probe_count + 1, sizeof(*where));
	size_t n = 0;

	if (!names || !where) {
		free(names);
		free(where);
		ld->b->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < probe_count; i++) {
		if (!on || on[i])
			names[n++] = probe_list[i]->name;
		if (pos)
			where[i] = pos[i];
	}
	free(rs->probes);
	rs->probes = names;
	rs->scan.nprobes = n;
	free(rs->probe_pos);
	rs->probe_pos = where;
}

/*
 * `probes:` a list of probe names, `all`, or `none` / [] for no probe.
 * `all` and `none` stand alone.
 */
static void load_probes(struct loader *ld, const yaml_node_t *n)
{
	const yaml_node_t **items = NULL;
	size_t count = get_items(ld, n, "probes", "probe names", &items);
	bool *on = calloc(probe_count + 1, sizeof(*on));
	struct rule_pos *pos = calloc(probe_count + 1, sizeof(*pos));

	ld->b->probes_given = true;
	if (!on || !pos) {
		ld->b->err = -ENOMEM;
		free(on);
		free(pos);
		free(items);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const char *name = get_string(ld, items[i], "probes");
		bool all;
		size_t j;

		if (!name)
			continue;
		all = !strcmp(name, "all");
		if (all || !strcmp(name, "none")) {
			if (count > 1)
				problem(ld, &items[i]->start_mark,
					"'%s' stands alone in 'probes', not in a list of probes",
					name);
			for (j = 0; count == 1 && j < probe_count; j++) {
				on[j] = all;
				pos[j] = mark_pos(ld, &items[i]->start_mark);
			}
			continue;
		}
		const struct probe *probe = probe_find(name);
		if (!probe) {
			unknown_probe(ld, items[i], name);
			continue;
		}
		for (j = 0; j < probe_count && probe_list[j] != probe; j++)
			;
		if (j == probe_count)
			continue; /* not in the list it was found in: cannot happen */
		if (on[j])
			problem(ld, &items[i]->start_mark, "duplicate probe '%s' in 'probes'",
				name);
		on[j] = true;
		pos[j] = mark_pos(ld, &items[i]->start_mark);
	}
	probes_set(ld, on, pos);
	free(on);
	free(pos);
	free(items);
}

static void load_scan(struct loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "roots", "exclude", "cross_mounts", "threads",
					    "hash",  "probes",  "max_path" };
	const yaml_node_t *k[7], *v[7];
	struct rule_set *rs = ld->rs;

	if (n->type != YAML_MAPPING_NODE) {
		problem(ld, &n->start_mark, "'scan' must be a mapping");
		return;
	}
	get_keys(ld, n, "'scan'", keys, 7, k, v);
	if (v[0]) {
		const yaml_node_t **items = NULL;
		size_t count = get_items(ld, v[0], "roots", "absolute paths", &items), out = 0;
		char **roots = calloc(count + 1, sizeof(*roots));

		if (!roots)
			ld->b->err = -ENOMEM;
		for (size_t i = 0; roots && i < count; i++) {
			const char *s = get_string(ld, items[i], "roots");
			if (!s)
				continue;
			if (s[0] != '/') {
				problem(ld, &items[i]->start_mark,
					"scan root '%s' is not an absolute path", s);
				continue;
			}
			if (!(roots[out] = xstrdup(ld, s)))
				continue;
			for (size_t len = strlen(s); len > 1 && roots[out][len - 1] == '/';)
				roots[out][--len] = '\0';
			out++;
		}
		if (roots && count == 0 && v[0]->type == YAML_SEQUENCE_NODE)
			problem(ld, &v[0]->start_mark, "'roots' must not be empty");
		if (roots) {
			for (size_t i = 0; rs->roots[i]; i++)
				free(rs->roots[i]);
			free(rs->roots);
			rs->roots = roots;
			rs->scan.nroots = out;
		}
		free(items);
	}
	if (v[1])
		load_patterns(ld, v[1], "exclude", &rs->scan_excl);
	if (v[2])
		get_bool(ld, v[2], "cross_mounts", &rs->scan.cross_mounts);
	if (v[3]) {
		const char *s = is_plain(v[3]) ? scalar_text(v[3]) : "";
		char *end;
		unsigned long t = strtoul(s, &end, 10);
		if (!*s || *end || s[0] == '-' || s[0] == '+' || t > MAX_THREADS)
			problem(ld, &v[3]->start_mark,
				"'threads' must be a number from 0 to %d (0: one per CPU)",
				MAX_THREADS);
		else
			rs->scan.threads = (unsigned)t;
	}
	if (v[4]) {
		const char *s = get_string(ld, v[4], "hash");
		enum hash_algo algo;
		if (s && hash_algo_parse(s, &algo) < 0)
			problem(ld, &v[4]->start_mark,
				"unknown hash '%s' (allowed: xxh3-128, sha256, none)", s);
		else if (s)
			rs->scan.hash = algo;
	}
	if (v[5])
		load_probes(ld, v[5]);
	if (v[6]) {
		const char *s = is_plain(v[6]) ? scalar_text(v[6]) : "";
		char *end;
		unsigned long long m = strtoull(s, &end, 10);
		if (!*s || *end || s[0] == '-' || s[0] == '+' || m < MAX_PATH_MIN ||
		    m > MAX_PATH_MAX)
			problem(ld, &v[6]->start_mark,
				"'max_path' must be a number of bytes from %d to %d", MAX_PATH_MIN,
				MAX_PATH_MAX);
		else
			rs->scan.max_path = (size_t)m;
	}
}

/* ---- rules ---- */

static bool get_severity(struct loader *ld, const yaml_node_t *n, const char *what,
			 enum severity *ret)
{
	const char *s = get_string(ld, n, what);
	struct suggest sg = { s, NULL, SIZE_MAX };
	char buf[64];

	if (!s)
		return false;
	if (severity_from_name(s, ret) == 0)
		return true;
	for (unsigned i = 0; i < SEVERITY__COUNT; i++)
		suggest_try(&sg, severity_name((enum severity)i));
	problem(ld, &n->start_mark,
		"bad severity '%s'%s (allowed: critical, high, medium, low, info)", s,
		suggest_text(&sg, buf, sizeof(buf)));
	return false;
}

static void get_remediate(struct loader *ld, const yaml_node_t *n, enum rule_remediate *ret)
{
	const char *s = get_string(ld, n, "remediate");

	if (!s)
		return;
	for (unsigned i = RULE_REMEDIATE_NO; i <= RULE_REMEDIATE_AUTO; i++)
		if (!strcmp(s, rule_remediate_name((enum rule_remediate)i))) {
			*ret = (enum rule_remediate)i;
			return;
		}
	if (!strcmp(s, "false")) {
		*ret = RULE_REMEDIATE_NO;
		return;
	}
	problem(ld, &n->start_mark, "bad remediate '%s' (allowed: no, plan, auto)", s);
}

enum {
	K_ID,
	K_TITLE,
	K_KIND,
	K_PATH,
	K_KEY,
	K_CHECK,
	K_IGNORE,
	K_EXPECT,
	K_SEVERITY,
	K_WHEN_ADDED,
	K_MAGIC,
	K_KEEP_CONTENT,
	K_SECRET,
	K_EXCLUDE,
	K_REMEDIATE,
	K__COUNT,
};

static const char *const rule_keys[K__COUNT] = {
	"id",    "title",        "kind",   "path",     "key",
	"check", "ignore",       "expect", "severity", "when_added",
	"magic", "keep_content", "secret", "exclude",  "remediate",
};

static void load_kind(struct loader *ld, const yaml_node_t *n, enum entry_kind *ret)
{
	const char *s = get_string(ld, n, "kind");
	struct strbuf sb = STRBUF_INIT;
	struct suggest sg = { s, NULL, SIZE_MAX };
	char buf[64];

	if (!s || entry_kind_parse(s, ret) == 0)
		return;
	for (int k = 1; k <= ENTRY__KIND_MAX; k++) {
		const char *name = entry_kind_name((enum entry_kind)k);
		if (!name)
			continue;
		if (strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", name) < 0)
			ld->b->err = -ENOMEM;
		suggest_try(&sg, name);
	}
	problem(ld, &n->start_mark, "unknown kind '%s'%s (allowed: %s)", s,
		suggest_text(&sg, buf, sizeof(buf)), sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

/* Fill @rule from @n; the rule's id marks go to ret_id_mark (NULL when defaulted). */
/*
 * The default id of the rule at 0-based @index in its file: "rule-N" in the
 * policy itself (N from 1), "STEM.rule-N" in a file it extends or includes
 * (STEM: the file's name up to its first '.'), so that two files' first
 * rules do not both claim "rule-1".
 */
static void default_id(const struct loader *ld, unsigned index, char *buf, size_t size)
{
	char stem[48];
	const char *base, *c;
	size_t n = 0;

	if (ld->role == FILE_TOP) {
		snprintf(buf, size, "rule-%u", index + 1);
		return;
	}
	base = strrchr(ld->file, '/');
	base = base ? base + 1 : ld->file;
	if (!strcmp(ld->file, BUILTIN_NAME))
		base = "builtin";
	for (c = base; *c && *c != '.' && n + 1 < sizeof(stem); c++)
		stem[n++] = (char)(((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || *c == '-')
					   ? *c
					   : '_');
	stem[n] = '\0';
	snprintf(buf, size, "%s.rule-%u", n ? stem : "policy", index + 1);
}

/* Fill @rule from @n. */
static void load_rule(struct loader *ld, const yaml_node_t *n, struct rule *rule)
{
	const yaml_node_t *k[K__COUNT], *v[K__COUNT];
	char buf[96];

	rule->file = ld->file;
	rule->fileno = ld->fileno;
	rule->inherited = ld->inherited;
	rule->line = (unsigned)n->start_mark.line + 1;
	rule->col = (unsigned)n->start_mark.column + 1;
	rule->check = rule_builtin_groups[1].mask; /* static */
	rule->severity = rule->when_added = SEVERITY_MEDIUM;

	get_keys(ld, n, "a rule", rule_keys, K__COUNT, k, v);

	if (v[K_ID]) {
		const char *s = get_string(ld, v[K_ID], "id");
		bool ok = s && *s;
		for (const char *c = s; ok && *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
				ok = false;
		if (s && !ok)
			problem(ld, &v[K_ID]->start_mark,
				"bad rule id '%s': use letters, digits, '.', '_' and '-'", s);
		else if (s) {
			rule->id = xstrdup(ld, s);
			rule->id_line = (unsigned)v[K_ID]->start_mark.line + 1;
			rule->id_col = (unsigned)v[K_ID]->start_mark.column + 1;
		}
	}
	if (!rule->id) {
		default_id(ld, rule->index, buf, sizeof(buf));
		rule->id = xstrdup(ld, buf);
	}
	if (v[K_TITLE]) {
		const char *s = get_string(ld, v[K_TITLE], "title");
		if (s)
			rule->title = xstrdup(ld, s);
	}
	rule->kind = ENTRY_FILE;
	if (v[K_KIND])
		load_kind(ld, v[K_KIND], &rule->kind);
	if (rule->kind != ENTRY_FILE)
		rule->check = ATTR_PROPS;
	if (v[K_PATH] && v[K_KEY]) {
		const yaml_node_t *second = k[K_PATH]->start_mark.index > k[K_KEY]->start_mark.index
						    ? k[K_PATH]
						    : k[K_KEY];
		problem(ld, &second->start_mark,
			"a rule has 'path' or 'key' (the same thing), not both");
	} else if (v[K_PATH] || v[K_KEY]) {
		int i = v[K_PATH] ? K_PATH : K_KEY;
		const char *s = get_string(ld, v[i], rule_keys[i]);
		if (s)
			rule->pat = compile_key(ld, v[i], s, rule->kind, &rule->text);
	} else if (rule->kind == ENTRY_FILE) {
		problem(ld, &n->start_mark, "rule '%s' has no 'path'", rule->id ? rule->id : "?");
	} else {
		problem(ld, &n->start_mark, "rule '%s' has no 'key' (or 'path')",
			rule->id ? rule->id : "?");
	}
	if (v[K_EXCLUDE] && get_bool(ld, v[K_EXCLUDE], "exclude", &rule->exclude) &&
	    rule->exclude) {
		for (size_t i = K_CHECK; i <= K_SECRET; i++)
			if (k[i])
				problem(ld, &k[i]->start_mark,
					"'%s' has no effect in a rule with 'exclude: true'",
					rule_keys[i]);
		return;
	}
	if (v[K_CHECK])
		rule->check = attr_list(ld, v[K_CHECK], "check", rule->kind);
	if (v[K_IGNORE])
		rule->ignore = attr_list(ld, v[K_IGNORE], "ignore", rule->kind);
	if (v[K_EXPECT])
		rule->expect = attr_list(ld, v[K_EXPECT], "expect", rule->kind);
	if (v[K_SEVERITY])
		get_severity(ld, v[K_SEVERITY], "severity", &rule->severity);
	rule->when_added = rule->severity;
	if (v[K_WHEN_ADDED])
		get_severity(ld, v[K_WHEN_ADDED], "when_added", &rule->when_added);
	if (v[K_MAGIC] && rule->kind != ENTRY_FILE)
		problem(ld, &k[K_MAGIC]->start_mark, "'magic' applies to files, not to kind '%s'",
			entry_kind_name(rule->kind));
	else if (v[K_MAGIC])
		get_bool(ld, v[K_MAGIC], "magic", &rule->magic);
	for (size_t i = K_KEEP_CONTENT; i <= K_SECRET; i++)
		if (v[i] && rule->kind != ENTRY_FILE)
			problem(ld, &k[i]->start_mark, "'%s' applies to files, not to kind '%s'",
				rule_keys[i], entry_kind_name(rule->kind));
	if (v[K_KEEP_CONTENT] && rule->kind == ENTRY_FILE &&
	    get_bool(ld, v[K_KEEP_CONTENT], "keep_content", &rule->keep_content))
		rule->keep_set = true;
	if (v[K_SECRET] && rule->kind == ENTRY_FILE)
		get_bool(ld, v[K_SECRET], "secret", &rule->secret);
	if (v[K_REMEDIATE])
		get_remediate(ld, v[K_REMEDIATE], &rule->remediate);

	/* `error` is always checked; `grow` needs the size and the inode. */
	uint32_t checked = rule->check & ~rule->ignore;
	rule->attrs = (checked & RULE_ATTR_ALL) | ATTR_ERROR;
	if (checked & RULE_GROW)
		rule->attrs |= ATTR_SIZE | ATTR_INODE;
}

/* Room for @more rules in rs->rules. */
static bool rules_reserve(struct build *b, size_t more)
{
	struct rule_set *rs = b->rs;
	struct rule *rules;
	size_t n = b->arules ? b->arules : 16;

	if (rs->nrules + more <= b->arules)
		return true;
	while (n < rs->nrules + more)
		n *= 2;
	rules = realloc(rs->rules, n * sizeof(*rules));
	if (!rules) {
		b->err = -ENOMEM;
		return false;
	}
	memset(rules + b->arules, 0, (n - b->arules) * sizeof(*rules));
	rs->rules = rules;
	b->arules = n;
	return true;
}

/* The rules of one file, appended to the set's. */
static void load_rules(struct loader *ld, const yaml_node_t *n)
{
	struct rule_set *rs = ld->rs;
	size_t total;

	if (n->type != YAML_SEQUENCE_NODE) {
		problem(ld, &n->start_mark, "'rules' must be a list of rules");
		return;
	}
	total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (!rules_reserve(ld->b, total))
		return;
	for (size_t i = 0; i < total; i++) {
		const yaml_node_t *it = node_at(ld, n->data.sequence.items.start[i]);
		struct rule *rule = &rs->rules[rs->nrules];

		if (!it)
			continue;
		if (it->type != YAML_MAPPING_NODE) {
			problem(ld, &it->start_mark,
				"a rule must be a mapping (with 'path', 'check', ...)");
			continue;
		}
		rule->index = ld->nrules++;
		rs->nrules++;
		load_rule(ld, it, rule);
	}
}

/*
 * Unique ids over every file of the set; a defaulted "rule-N" may collide
 * with a given one too. Each id goes into a table the first time, so a
 * duplicate names the first rule that has it.
 */
static void check_ids(struct build *b)
{
	struct rule_set *rs = b->rs;
	struct name_table ids;

	if (name_table_init(&ids, rs->nrules) < 0) {
		b->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *a, *r = &rs->rules[i];
		struct name_slot *slot;
		char where[200];

		if (!r->id)
			continue;
		slot = name_table_slot(&ids, r->id);
		if (!slot->name) {
			*slot = (struct name_slot){ r->id, i };
			continue;
		}
		a = &rs->rules[slot->value];
		if (a->file == r->file)
			snprintf(where, sizeof(where), "line %u", a->line);
		else
			snprintf(where, sizeof(where), "'%s' line %u", a->file, a->line);
		if (r->id_line)
			problem_at(b, r->file, r->fileno, r->id_line, r->id_col,
				   "duplicate rule id '%s' (first at %s)", r->id, where);
		else
			problem_at(
				b, r->file, r->fileno, r->line, r->col,
				"duplicate rule id '%s' (the default id of this rule is taken at "
				"%s: give it an id)",
				r->id, where);
	}
	name_table_release(&ids);
}

/* ---- the packages section ---- */

static void load_packages(struct loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "attribution", "conffile_severity", "unowned_severity",
					    "unowned",     "unowned_exclude",   "trigger_outputs",
					    "history" };
	const yaml_node_t *k[7], *v[7];
	struct rule_packages *pk = &ld->rs->packages;

	if (n->type != YAML_MAPPING_NODE) {
		problem(ld, &n->start_mark, "'packages' must be a mapping");
		return;
	}
	get_keys(ld, n, "'packages'", keys, 7, k, v);
	if (v[0])
		get_bool(ld, v[0], "attribution", &pk->attribution);
	if (v[1])
		get_severity(ld, v[1], "conffile_severity", &pk->conffile_severity);
	if (v[2])
		get_severity(ld, v[2], "unowned_severity", &pk->unowned_severity);
	if (v[3]) {
		load_patterns(ld, v[3], "unowned", &ld->rs->unowned);
		ld->b->unowned_given = true;
	}
	if (v[4]) {
		load_patterns(ld, v[4], "unowned_exclude", &ld->rs->unowned_excl);
		ld->b->unowned_xgiven = true;
	}
	if (v[5]) {
		load_patterns(ld, v[5], "trigger_outputs", &ld->rs->trigger_outputs);
		ld->b->triggers_given = true;
	}
	if (v[6]) {
		static const char *const names[] = { "apt", "dpkg", "none" };
		const char *h = get_string(ld, v[6], "history");
		size_t i = 0;

		while (h && i < 3 && strcmp(h, names[i]))
			i++;
		if (h && i < 3)
			pk->history = (enum rule_history)i;
		else if (h)
			problem(ld, &v[6]->start_mark,
				"bad history '%s' (allowed: apt, dpkg, none)", h);
	}
}

/* ---- the top level ---- */

enum {
	T_VERSION,
	T_EXTENDS,
	T_INCLUDE,
	T_SCAN,
	T_GROUPS,
	T_RULES,
	T_PACKAGES,
	T__COUNT,
};

static const char *const top_keys[T__COUNT] = {
	"version", "extends", "include", "scan", "groups", "rules", "packages",
};

static void load_doc(struct build *b, const char *name, const char *text, size_t len,
		     const struct file_id *id, enum file_role role, bool inherited,
		     const struct group_scope *scope, const struct group_scope **ret_scope);

/* The built-in policy, as a file of the set. */
static const struct file_id builtin_id = { 0, 0, false, BUILTIN_NAME };

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
	if (a->on_disk != b->on_disk)
		return false;
	if (a->on_disk)
		return a->dev == b->dev && a->ino == b->ino;
	return !strcmp(a->name, b->name);
}

/* What a file that is not a regular file is, for messages. */
static const char *file_type_name(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "of an unknown type";
}

/*
 * Read the policy file @path into @sb (emptied first): a regular file of at
 * most POLICY_MAX_BYTES. Returns 0 and *ret_st, or a negative errno with
 * @reterr saying why ("cannot open policy '...': ...").
 */
static int read_policy(const char *path, struct strbuf *sb, struct stat *ret_st,
		       struct diag *reterr)
{
	struct stat st;
	int fd, r = 0;

	strbuf_reset(sb);
	/*
	 * Without O_NONBLOCK, opening a FIFO waits for a writer, forever if
	 * none comes; with it, the open returns and fstat() tells what it is.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		return diag_set(reterr, r, "cannot open policy '%s': %s", path,
				strerrordesc_np(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		diag_set(reterr, r, "cannot read policy '%s': %s", path, strerrordesc_np(-r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = diag_set(reterr, -EISDIR, "cannot read policy '%s': %s", path,
			     strerrordesc_np(EISDIR));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = diag_set(reterr, -EINVAL, "cannot read policy '%s': not a regular file (%s)",
			     path, file_type_name(st.st_mode));
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (sb->len > POLICY_MAX_BYTES) {
			r = diag_set(reterr, -EFBIG, "policy '%s' is too large (more than %u MiB)",
				     path, POLICY_MAX_BYTES >> 20);
			goto out;
		}
		r = strbuf_grow(sb, 65536);
		if (r < 0)
			goto out;
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			diag_set(reterr, r, "cannot read policy '%s': %s", path,
				 strerrordesc_np(-r));
			goto out;
		}
		if (n == 0)
			break;
		strbuf_setlen(sb, sb->len + (size_t)n);
	}
	*ret_st = st;
out:
	close(fd);
	return r;
}

/*
 * @path as written in the file @ld loads: an absolute path as it is, a
 * relative one relative to the directory of that file. Returns a malloc()ed
 * string, or NULL when out of memory.
 */
static char *resolve_path(struct loader *ld, const char *path)
{
	const char *slash = strrchr(ld->file, '/');
	char *s;

	if (path[0] == '/' || !slash)
		s = strdup(path);
	else if (asprintf(&s, "%.*s/%s", (int)(slash - ld->file), ld->file, path) < 0)
		s = NULL;
	if (!s)
		ld->b->err = -ENOMEM;
	return s;
}

/*
 * Load the file @target that @ld's file extends or includes (the node @n
 * names it; @verb is "extend" or "include"): NULL for the built-in policy.
 * Cycles, nesting too deep, a file read twice, a file the caller's check
 * refuses and a file that cannot be read are problems at @n.
 */
static void load_other(struct loader *ld, const yaml_node_t *n, const char *verb,
		       const char *target, enum file_role role, const struct group_scope *scope,
		       const struct group_scope **ret_scope)
{
	struct build *b = ld->b;
	const struct rule_load_opts *opts = b->opts;
	const char *shown = target ? target : "builtin";
	struct strbuf sb = STRBUF_INIT;
	struct file_id id = builtin_id;
	struct diag d = { 0 };
	const char *text;
	size_t len;
	int r;

	if (b->depth > FILE_DEPTH_MAX - 1) {
		problem(ld, &n->start_mark,
			"cannot %s '%s': policy files nest too deeply (more than %d levels)", verb,
			shown, FILE_DEPTH_MAX);
		return;
	}
	if (b->rs->nfiles >= FILES_MAX) {
		problem(ld, &n->start_mark, "cannot %s '%s': a policy has at most %d files", verb,
			shown, FILES_MAX);
		return;
	}
	if (!target) {
		text = (const char *)rule_default_policy;
		len = rule_default_policy_len;
	} else {
		struct stat st;

		if (opts->check_file) {
			r = opts->check_file(target, &d, opts->userdata);
			if (r == -ENOMEM)
				b->err = r;
			if (r < 0) {
				problem(ld, &n->start_mark, "%s",
					d.msg[0] ? d.msg : strerrordesc_np(-r));
				return;
			}
		}
		r = read_policy(target, &sb, &st, &d);
		if (r == -ENOMEM)
			b->err = r;
		if (r < 0) {
			problem(ld, &n->start_mark, "%s", d.msg);
			goto out;
		}
		id = (struct file_id){ st.st_dev, st.st_ino, true, target };
		text = sb.buf;
		len = sb.len;
	}

	/* A file that (indirectly) includes itself, or that is there already. */
	for (size_t i = 0; i < b->depth; i++) {
		struct strbuf chain = STRBUF_INIT;

		if (!file_id_eq(&b->stack[i], &id))
			continue;
		for (size_t j = i; j < b->depth; j++)
			if (strbuf_addf(&chain, "%s -> ", b->stack[j].name) < 0)
				b->err = -ENOMEM;
		if (strbuf_adds(&chain, target ? target : BUILTIN_NAME) < 0)
			b->err = -ENOMEM;
		problem(ld, &n->start_mark, "cannot %s '%s': the policy files form a cycle (%s)",
			verb, shown, chain.buf);
		strbuf_release(&chain);
		goto out;
	}
	for (size_t i = 0; i < b->rs->nfiles; i++) {
		if (!file_id_eq(&b->loaded[i], &id))
			continue;
		problem(ld, &n->start_mark,
			"cannot %s '%s': it is in the policy already (as '%s'): a file goes in "
			"once",
			verb, shown, b->loaded[i].name);
		goto out;
	}
	load_doc(b, target ? target : BUILTIN_NAME, text, len, &id, role,
		 ld->inherited || role == FILE_BASE, scope, ret_scope);
out:
	strbuf_release(&sb);
}

/* `extends: builtin` or `extends: PATH`: the policy this one builds on. */
static void load_extends(struct loader *ld, const yaml_node_t *n)
{
	const char *s = get_string(ld, n, "extends");
	const struct group_scope *scope = NULL;
	char *path = NULL;

	if (!s)
		return;
	if (!*s) {
		problem(ld, &n->start_mark,
			"'extends' names a policy file, or 'builtin' for the built-in policy");
		return;
	}
	if (strcmp(s, "builtin") && !(path = resolve_path(ld, s)))
		return;
	load_other(ld, n, "extend", path, FILE_BASE, NULL, &scope);
	ld->scope = scope;
	free(path);
}

/* `include: [PATH...]`: rule files whose rules come after this file's, in order. */
static void load_includes(struct loader *ld, const yaml_node_t *n, const struct group_scope *scope)
{
	const yaml_node_t **items = NULL;
	size_t count = get_items(ld, n, "include", "policy files", &items);

	for (size_t i = 0; i < count && ld->b->err == 0; i++) {
		const char *s = get_string(ld, items[i], "include");
		char *path;

		if (!s)
			continue;
		if (!*s) {
			problem(ld, &items[i]->start_mark, "'include' names policy files");
			continue;
		}
		path = resolve_path(ld, s);
		if (path)
			load_other(ld, items[i], "include", path, FILE_INCLUDED, scope, NULL);
		free(path);
	}
	free(items);
}

/*
 * The top level of one file. The policy it extends comes first: its rules
 * before this file's, its scan and packages sections the defaults that
 * this file's override key by key. The files it includes come last, their
 * rules after this file's.
 */
static void load_top(struct loader *ld, const yaml_node_t *root,
		     const struct group_scope **ret_scope)
{
	const yaml_node_t *k[T__COUNT], *v[T__COUNT];
	const struct group_scope *scope;

	if (ret_scope)
		*ret_scope = ld->scope;
	if (!root)
		return; /* an empty file: every default, no rules */
	if (root->type != YAML_MAPPING_NODE) {
		if (ld->role == FILE_INCLUDED)
			problem(ld, &root->start_mark,
				"an included policy file must be a mapping (with 'groups', "
				"'rules', 'include')");
		else
			problem(ld, &root->start_mark,
				"a policy must be a mapping (with 'version', 'scan', 'groups', "
				"'rules', 'packages')");
		return;
	}
	get_keys(ld, root, "the policy", top_keys, T__COUNT, k, v);
	if (ld->role == FILE_INCLUDED) {
		/* One place says what is scanned: the policy and what it extends. */
		static const int outside[] = { T_EXTENDS, T_SCAN, T_PACKAGES };
		for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
			if (!k[outside[i]])
				continue;
			problem(ld, &k[outside[i]]->start_mark,
				"'%s' belongs in the policy, not in a file it includes (which has "
				"'groups', 'rules' and 'include')",
				top_keys[outside[i]]);
			v[outside[i]] = NULL;
		}
	}
	if (v[T_VERSION] &&
	    (v[T_VERSION]->type != YAML_SCALAR_NODE || strcmp(scalar_text(v[T_VERSION]), "1")))
		problem(ld, &v[T_VERSION]->start_mark,
			"unsupported policy version '%s' (only 1 is known)",
			v[T_VERSION]->type == YAML_SCALAR_NODE ? scalar_text(v[T_VERSION]) : "...");
	if (v[T_EXTENDS])
		load_extends(ld, v[T_EXTENDS]);
	if (v[T_SCAN])
		load_scan(ld, v[T_SCAN]);
	if (v[T_GROUPS])
		load_groups(ld, v[T_GROUPS]);
	if (v[T_RULES])
		load_rules(ld, v[T_RULES]);
	if (v[T_PACKAGES])
		load_packages(ld, v[T_PACKAGES]);
	scope = scope_export(ld);
	if (ret_scope)
		*ret_scope = scope;
	if (v[T_INCLUDE])
		load_includes(ld, v[T_INCLUDE], scope);
}

/* The defaults of what the policy did not say and that needs memory. */
static void load_defaults(struct loader *ld)
{
	if (!ld->b->probes_given)
		probes_set(ld, NULL, NULL);
	if (!ld->b->unowned_given)
		default_patterns(ld, &ld->rs->unowned, default_unowned,
				 sizeof(default_unowned) / sizeof(default_unowned[0]));
	if (!ld->b->unowned_xgiven)
		default_patterns(ld, &ld->rs->unowned_excl, default_unowned_excl,
				 sizeof(default_unowned_excl) / sizeof(default_unowned_excl[0]));
	if (!ld->b->triggers_given)
		default_patterns(ld, &ld->rs->trigger_outputs, default_trigger_outputs,
				 sizeof(default_trigger_outputs) /
					 sizeof(default_trigger_outputs[0]));
}

static void yaml_problem(struct loader *ld, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR) {
		ld->b->err = -ENOMEM;
		return;
	}
	if (parser->context)
		problem(ld, &parser->problem_mark, "invalid YAML: %s (%s at line %u)",
			parser->problem ? parser->problem : "syntax error", parser->context,
			(unsigned)parser->context_mark.line + 1);
	else
		problem(ld, &parser->problem_mark, "invalid YAML: %s",
			parser->problem ? parser->problem : "syntax error");
}

void rule_set_free(struct rule_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++) {
		pattern_free(rs->rules[i].pat);
		free(rs->rules[i].text);
		free(rs->rules[i].id);
		free(rs->rules[i].title);
	}
	free(rs->rules);
	for (size_t i = 0; rs->roots && rs->roots[i]; i++)
		free(rs->roots[i]);
	free(rs->roots);
	patterns_release(&rs->scan_excl);
	rule_index_release(&rs->rules_index);
	rule_index_release(&rs->excl_index);
	free(rs->rule_pats);
	free(rs->excl_pats);
	for (size_t k = 0; k <= ENTRY__KIND_MAX; k++) {
		free(rs->kinds[k].match);
		free(rs->kinds[k].excl);
	}
	free(rs->content_rules);
	free(rs->probes);
	free(rs->probe_pos);
	patterns_release(&rs->unowned);
	patterns_release(&rs->unowned_excl);
	patterns_release(&rs->trigger_outputs);
	for (size_t i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	free(rs->source);
	free(rs);
}

static int digest_compute(const char *text, size_t len, char ret_hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -ENOMEM; /* only an allocation can fail here */
	for (unsigned i = 0; i < n; i++)
		snprintf(ret_hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/*
 * Add the file @name (@text, @len bytes) to the set: its name to
 * rs->files, its identity to the files read, its digest to the list.
 * Returns its number, or -ENOMEM.
 */
static int file_add(struct build *b, const char *name, const char *text, size_t len,
		    const struct file_id *id)
{
	struct rule_set *rs = b->rs;
	char **files = realloc(rs->files, (rs->nfiles + 1) * sizeof(*files));
	struct file_id *loaded;
	char hex[65];

	if (!files)
		return -ENOMEM;
	rs->files = files;
	loaded = realloc(b->loaded, (rs->nfiles + 1) * sizeof(*loaded));
	if (!loaded)
		return -ENOMEM;
	b->loaded = loaded;
	if (digest_compute(text, len, hex) < 0 || strbuf_addf(&b->digests, "%s\n", hex) < 0)
		return -ENOMEM;
	files[rs->nfiles] = strdup(name);
	if (!files[rs->nfiles])
		return -ENOMEM;
	loaded[rs->nfiles] = *id;
	loaded[rs->nfiles].name = files[rs->nfiles];
	return (int)rs->nfiles++;
}

/*
 * Load one file of the set: @text (@len bytes) read from @name, whose
 * identity is @id, in @role. @scope: the groups it may use beside its own
 * (an included file's: its includer's); *ret_scope (when not NULL) gets
 * the groups the file leaves to those that extend it.
 */
static void load_doc(struct build *b, const char *name, const char *text, size_t len,
		     const struct file_id *id, enum file_role role, bool inherited,
		     const struct group_scope *scope, const struct group_scope **ret_scope)
{
	struct loader ld = { .b = b, .rs = b->rs, .role = role, .inherited = inherited };
	yaml_parser_t parser;
	yaml_document_t doc;
	int fileno = file_add(b, name, text, len, id);

	if (ret_scope)
		*ret_scope = scope;
	if (fileno < 0) {
		b->err = fileno;
		return;
	}
	ld.fileno = (unsigned)fileno;
	ld.file = b->rs->files[fileno];
	ld.scope = scope;
	b->stack[b->depth++] = b->loaded[fileno];

	if (!yaml_parser_initialize(&parser)) {
		b->err = -ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(&ld, &parser);
	} else {
		ld.doc = &doc;
		load_top(&ld, yaml_document_get_root_node(&doc), ret_scope);
		yaml_document_delete(&doc);
		ld.doc = NULL;
		/* A second document would be silently ignored: refuse it. */
		if (!yaml_parser_load(&parser, &doc)) {
			yaml_problem(&ld, &parser);
		} else {
			const yaml_node_t *root = yaml_document_get_root_node(&doc);
			if (root)
				problem(&ld, &doc.start_mark,
					"a policy is one YAML document, found another");
			yaml_document_delete(&doc);
		}
	}
	yaml_parser_delete(&parser);
out:
	free(ld.groups);
	name_table_release(&ld.group_names);
	b->depth--;
}

static struct rule_set *set_new(const char *name)
{
	struct rule_set *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->source = strdup(name);
	rs->roots = calloc(2, sizeof(*rs->roots));
	if (!rs->source || !rs->roots || !(rs->roots[0] = strdup("/"))) {
		rule_set_free(rs);
		return NULL;
	}
	rs->scan.nroots = 1;
	rs->scan.hash = HASH_XXH3_128;
	rs->packages.attribution = true;
	rs->packages.conffile_severity = SEVERITY_LOW;
	rs->packages.unowned_severity = SEVERITY_MEDIUM;
	return rs;
}

/*
 * Load the set whose top file is @name (@text, @len bytes, identity @id).
 * The digest is the SHA-256 of the text when the policy is one file, as it
 * always was; of the list of every file's SHA-256 (hex, one a line, in the
 * order they were read) when it extends or includes others.
 */
static int build_set(const char *name, const char *text, size_t len, const struct file_id *id,
		     const struct rule_load_opts *opts, struct rule_set **ret_set,
		     struct diag *reterr)
{
	static const struct rule_load_opts no_opts = { 0 };
	struct build b = { .opts = opts ? opts : &no_opts, .suggest_budget = SUGGEST_BUDGET };
	struct loader top;
	int r = 0;

	strbuf_init(&b.digests);
	b.rs = set_new(name);
	if (!b.rs)
		return diag_set(reterr, -ENOMEM, "out of memory loading policy '%s'", name);

	load_doc(&b, name, text, len, id, FILE_TOP, false, NULL, NULL);
	if (b.err == 0) {
		top = (struct loader){ .b = &b, .rs = b.rs, .file = b.rs->files[0] };
		check_ids(&b);
		load_defaults(&top);
	}
	if (b.err == 0 && b.rs->nfiles == 1)
		memcpy(b.rs->digest, b.digests.buf, 64);
	else if (b.err == 0 && digest_compute(b.digests.buf, b.digests.len, b.rs->digest) < 0)
		b.err = -ENOMEM;

	if (b.err < 0) {
		r = b.err;
		goto out;
	}
	if (b.nproblems > 0) {
		qsort(b.problems, b.nproblems, sizeof(*b.problems), problem_cmp);
		for (size_t i = 0; b.opts->problem && i < b.nproblems; i++)
			b.opts->problem(&b.problems[i].d, b.opts->userdata);
		r = diag_set(reterr, -EBADMSG, "%zu problem%s in policy '%s'", b.nproblems,
			     b.nproblems == 1 ? "" : "s", name);
		goto out;
	}
	b.rs->scan.roots = (const char *const *)b.rs->roots;
	b.rs->scan.excludes = (const char *const *)b.rs->scan_excl.texts;
	b.rs->scan.nexcludes = b.rs->scan_excl.n;
	b.rs->scan.probes = b.rs->probes;
	r = rule_set_index(b.rs);
	if (r < 0)
		goto out;
	*ret_set = b.rs;
	b.rs = NULL;
out:
	if (r == -ENOMEM)
		diag_set(reterr, r, "out of memory loading policy '%s'", name);
	problems_free(b.problems, b.nproblems);
	name_table_release(&b.seen);
	for (size_t i = 0; i < b.nscopes; i++)
		scope_free(b.scopes[i]);
	free(b.scopes);
	free(b.loaded);
	strbuf_release(&b.digests);
	rule_set_free(b.rs);
	return r;
}

int rule_set_load_buffer(const char *name, const char *text, size_t len,
			 rule_problem_fn *problem_fn, void *userdata, struct rule_set **ret_set,
			 struct diag *reterr)
{
	const struct rule_load_opts opts = { .problem = problem_fn, .userdata = userdata };
	const struct file_id id = { 0, 0, false, name };

	return build_set(name, text, len, &id, &opts, ret_set, reterr);
}

int rule_set_load_file_full(const char *path, const struct rule_load_opts *opts,
			    struct rule_set **ret_set, struct diag *reterr)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int r;

	r = read_policy(path, &sb, &st, reterr);
	if (r == 0)
		r = build_set(path, sb.buf, sb.len,
			      &(struct file_id){ st.st_dev, st.st_ino, true, path }, opts, ret_set,
			      reterr);
	strbuf_release(&sb);
	return r;
}

int rule_set_load_file(const char *path, rule_problem_fn *problem_fn, void *userdata,
		       struct rule_set **ret_set, struct diag *reterr)
{
	const struct rule_load_opts opts = { .problem = problem_fn, .userdata = userdata };

	return rule_set_load_file_full(path, &opts, ret_set, reterr);
}

int rule_set_load_default(struct rule_set **ret_set, struct diag *reterr)
{
	return build_set(BUILTIN_NAME, (const char *)rule_default_policy, rule_default_policy_len,
			 &builtin_id, NULL, ret_set, reterr);
}

const char *rule_set_source(const struct rule_set *rs)
{
	return rs->source;
}

const char *rule_set_digest(const struct rule_set *rs)
{
	return rs->digest;
}

const struct rule_scan *rule_set_scan(const struct rule_set *rs)
{
	return &rs->scan;
}

const struct rule_packages *rule_set_packages(const struct rule_set *rs)
{
	return &rs->packages;
}
