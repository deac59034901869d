/*
 * Loading a policy: YAML text -> struct rule_set.
 *
 * libyaml's document API parses the whole text into a node tree that keeps
 * every node's position, so the loader can walk it in any order and still
 * point at the right line and column. The walk:
 *
 *     top level   version, scan, groups, rules, packages (unknown or duplicate
 *                 keys: problems)
 *     scan        roots, exclude, probes (names checked against scanner/probe.h)...
 *     groups      registered first, then resolved depth-first with a stack,
 *                 so that a group using itself is reported with its chain
 *     rules       each mapping checked key by key; its kind first, since the
 *                 kind decides how its pattern is compiled and which
 *                 attributes it may check; ids made unique at the end
 *     packages    attribution settings and the unowned-file scope
 *
 * Every problem is collected (never printed) with its position; loading
 * goes on after one, and at the end the problems are sorted into file order
 * and handed to the caller's callback. A set with any problem is not
 * returned. The digest is SHA-256 over the exact bytes loaded.
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
#include "common/pattern.h"
#include "common/strbuf.h"
#include "rules/internal.h"
#include "scanner/probe.h"
#include "common/banned.h"

#define POLICY_MAX_BYTES (16u << 20)
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
	size_t seq;
	char *key; /* owned: "line:col:message", for problem_seen() */
};

enum group_state { GROUP_NEW, GROUP_VISITING, GROUP_DONE };

struct group {
	const char *name; /* borrowed from the document */
	const yaml_node_t *value;
	uint32_t mask;
	enum group_state state;
};

#define GROUP_STACK_MAX 64

struct loader {
	const char *file;
	yaml_document_t *doc;
	struct rule_set *rs;
	struct problem *problems;
	size_t nproblems, aproblems;
	struct group *groups;
	size_t ngroups;
	struct name_table group_names; /* name -> index in groups */
	struct name_table seen;        /* problems already reported: see problem() */
	size_t suggest_budget;         /* group names left to try for "did you mean" */
	const char *stack[GROUP_STACK_MAX];
	size_t depth;
	bool probes_given;   /* scan.probes was in the policy */
	bool unowned_given;  /* packages.unowned was */
	bool unowned_xgiven; /* packages.unowned_exclude was */
	int err;             /* -ENOMEM, sticky */
};

/*
 * Whether the problem just formatted in ld->problems[ld->nproblems] was
 * reported before: same message, same place. That happens when YAML
 * aliases (`*name`) use one node in many places: a faulty anchored node
 * referred to 100,000 times is one problem, not 100,000. The table holds
 * the problems' texts by "line:col:message"; it is rebuilt twice as large
 * when half full.
 */
static bool problem_seen(struct loader *ld)
{
	struct problem *p = &ld->problems[ld->nproblems];
	struct name_slot *slot;
	char *key;

	if (asprintf(&key, "%u:%u:%s", p->d.line, p->d.col, p->d.msg) < 0) {
		ld->err = -ENOMEM;
		return true;
	}
	if (!ld->seen.slots || 2 * (ld->nproblems + 1) > ld->seen.mask + 1) {
		struct name_table bigger;
		if (name_table_init(&bigger, 2 * (ld->nproblems + 1)) < 0) {
			free(key);
			ld->err = -ENOMEM;
			return true;
		}
		for (size_t i = 0; ld->seen.slots && i <= ld->seen.mask; i++)
			if (ld->seen.slots[i].name)
				*name_table_slot(&bigger, ld->seen.slots[i].name) =
					ld->seen.slots[i];
		name_table_release(&ld->seen);
		ld->seen = bigger;
	}
	slot = name_table_slot(&ld->seen, key);
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

__attribute__((format(printf, 3, 4))) static void problem(struct loader *ld, const yaml_mark_t *m,
							  const char *fmt, ...)
{
	va_list ap;

	if (ld->nproblems == ld->aproblems) {
		size_t n = ld->aproblems ? 2 * ld->aproblems : 8;
		struct problem *p = realloc(ld->problems, n * sizeof(*p));
		if (!p) {
			ld->err = -ENOMEM;
			return;
		}
		ld->problems = p;
		ld->aproblems = n;
	}
	struct problem *p = &ld->problems[ld->nproblems];
	memset(p, 0, sizeof(*p));
	va_start(ap, fmt);
	vsnprintf(p->d.msg, sizeof(p->d.msg), fmt, ap);
	va_end(ap);
	p->d.file = ld->file;
	p->d.line = (unsigned)m->line + 1;
	p->d.col = (unsigned)m->column + 1;
	if (problem_seen(ld))
		return;
	p->seq = ld->nproblems++;
}

static int problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *xstrdup(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ld->err = -ENOMEM;
	return d;
}

/* ---- "did you mean" ---- */

/* Optimal string alignment distance: edits, with a swap of neighbours as one. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

struct suggest {
	const char *name;
	const char *best;
	size_t dist;
};

static void suggest_try(struct suggest *s, const char *candidate)
{
	size_t d = edit_distance(s->name, candidate);

	if (d < s->dist && d <= (strlen(s->name) <= 4 ? 1u : 2u)) {
		s->dist = d;
		s->best = candidate;
	}
}

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
					ld->err = -ENOMEM;
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
		ld->err = -ENOMEM;
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
	for (size_t i = 0; i < ld->ngroups && ld->suggest_budget > 0; i++, ld->suggest_budget--)
		suggest_try(&s, ld->groups[i].name);
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
				ld->err = -ENOMEM;
		if (strbuf_adds(&chain, name) < 0)
			ld->err = -ENOMEM;
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
		ld->err = -ENOMEM;
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
				(unsigned)ld->groups[slot->value].value->start_mark.line + 1);
			continue;
		}
		*slot = (struct name_slot){ name, ld->ngroups };
		ld->groups[ld->ngroups++] = (struct group){ name, v, 0, GROUP_NEW };
	}
	for (size_t i = 0; i < ld->ngroups; i++)
		group_resolve(ld, &ld->groups[i]);
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
		ld->err = -ENOMEM;
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
		ld->err = -ENOMEM;
	for (const char *c = text + exact; *c && ld->err == 0; c++) {
		int r = 0;

		if (*c == '\\' && c[1])
			r = strbuf_addch(&sb, *c++);
		else if (*c == '[' && kind == ENTRY_PORT)
			r = strbuf_addch(&sb, '\\');
		if (r < 0 || strbuf_addch(&sb, *c) < 0)
			ld->err = -ENOMEM;
	}
	if (ld->err < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	why = pattern_error(sb.buf);
	if (why) {
		problem(ld, &n->start_mark, "bad pattern '%s': %s", text, why);
	} else if (pattern_new(sb.buf, &pat) < 0 || !(*ret_text = xstrdup(ld, text))) {
		ld->err = -ENOMEM;
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
	ld->err = -ENOMEM;
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
	if (ld->err < 0 || !patterns_alloc(ld, pl, count)) {
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
			ld->err = -ENOMEM;
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
			ld->err = -ENOMEM;
		suggest_try(&s, probe_list[i]->name);
	}
	if (strbuf_adds(&sb, "all, none") < 0)
		ld->err = -ENOMEM;
	problem(ld, &it->start_mark, "unknown probe '%s'%s (allowed: %s)", name,
		suggest_text(&s, buf, sizeof(buf)), sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

/* Fill rs->probes from the selection @on (probe_count flags; NULL: all), in probe_list order. */
static void probes_set(struct loader *ld, const bool *on)
{
	struct rule_set *rs = ld->rs;
	const char **names = calloc(probe_count + 1, sizeof(*names));
	size_t n = 0;

	if (!names) {
		ld->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < probe_count; i++)
		if (!on || on[i])
			names[n++] = probe_list[i]->name;
	free(rs->probes);
	rs->probes = names;
	rs->scan.nprobes = n;
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

	ld->probes_given = true;
	if (!on) {
		ld->err = -ENOMEM;
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
			for (j = 0; count == 1 && j < probe_count; j++)
				on[j] = all;
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
	}
	probes_set(ld, on);
	free(on);
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
			ld->err = -ENOMEM;
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
	K_EXCLUDE,
	K__COUNT,
};

static const char *const rule_keys[K__COUNT] = {
	"id",     "title",  "kind",     "path",       "key",   "check",
	"ignore", "expect", "severity", "when_added", "magic", "exclude",
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
			ld->err = -ENOMEM;
		suggest_try(&sg, name);
	}
	problem(ld, &n->start_mark, "unknown kind '%s'%s (allowed: %s)", s,
		suggest_text(&sg, buf, sizeof(buf)), sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

/* Fill @rule from @n; the rule's id marks go to ret_id_mark (NULL when defaulted). */
static void load_rule(struct loader *ld, const yaml_node_t *n, struct rule *rule,
		      const yaml_node_t **ret_id_node)
{
	const yaml_node_t *k[K__COUNT], *v[K__COUNT];
	char buf[32];

	rule->file = ld->rs->source;
	rule->line = (unsigned)n->start_mark.line + 1;
	rule->col = (unsigned)n->start_mark.column + 1;
	rule->check = rule_builtin_groups[1].mask; /* static */
	rule->severity = rule->when_added = SEVERITY_MEDIUM;
	*ret_id_node = NULL;

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
			*ret_id_node = v[K_ID];
		}
	}
	if (!rule->id) {
		snprintf(buf, sizeof(buf), "rule-%u", rule->index + 1);
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
		for (size_t i = K_CHECK; i <= K_MAGIC; i++)
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

	/* `error` is always checked; `grow` needs the size and the inode. */
	uint32_t checked = rule->check & ~rule->ignore;
	rule->attrs = (checked & RULE_ATTR_ALL) | ATTR_ERROR;
	if (checked & RULE_GROW)
		rule->attrs |= ATTR_SIZE | ATTR_INODE;
}

static void load_rules(struct loader *ld, const yaml_node_t *n)
{
	struct rule_set *rs = ld->rs;
	const yaml_node_t **id_nodes;
	struct name_table ids;
	size_t total;

	if (n->type != YAML_SEQUENCE_NODE) {
		problem(ld, &n->start_mark, "'rules' must be a list of rules");
		return;
	}
	total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	rs->rules = calloc(total ? total : 1, sizeof(*rs->rules));
	id_nodes = calloc(total ? total : 1, sizeof(*id_nodes));
	if (!rs->rules || !id_nodes) {
		free(id_nodes);
		ld->err = -ENOMEM;
		return;
	}
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
		rule->index = (unsigned)rs->nrules;
		rs->nrules++;
		load_rule(ld, it, rule, &id_nodes[rule->index]);
	}

	/*
	 * Unique ids; a defaulted "rule-N" may collide with a given one too.
	 * Each id goes into a table the first time, so a duplicate names the
	 * first rule that has it.
	 */
	if (name_table_init(&ids, rs->nrules) < 0) {
		ld->err = -ENOMEM;
		free(id_nodes);
		return;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *a, *b = &rs->rules[i];
		struct name_slot *slot;

		if (!b->id)
			continue;
		slot = name_table_slot(&ids, b->id);
		if (!slot->name) {
			*slot = (struct name_slot){ b->id, i };
			continue;
		}
		a = &rs->rules[slot->value];
		if (id_nodes[i])
			problem(ld, &id_nodes[i]->start_mark,
				"duplicate rule id '%s' (first at line %u)", b->id, a->line);
		else
			problem(ld, &(yaml_mark_t){ 0, b->line - 1, b->col - 1 },
				"duplicate rule id '%s' (the default id of this rule is taken "
				"at line %u: give it an id)",
				b->id, a->line);
	}
	name_table_release(&ids);
	free(id_nodes);
}

/* ---- the packages section ---- */

static void load_packages(struct loader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "attribution", "conffile_severity", "unowned_severity",
					    "unowned", "unowned_exclude" };
	const yaml_node_t *k[5], *v[5];
	struct rule_packages *pk = &ld->rs->packages;

	if (n->type != YAML_MAPPING_NODE) {
		problem(ld, &n->start_mark, "'packages' must be a mapping");
		return;
	}
	get_keys(ld, n, "'packages'", keys, 5, k, v);
	if (v[0])
		get_bool(ld, v[0], "attribution", &pk->attribution);
	if (v[1])
		get_severity(ld, v[1], "conffile_severity", &pk->conffile_severity);
	if (v[2])
		get_severity(ld, v[2], "unowned_severity", &pk->unowned_severity);
	if (v[3]) {
		load_patterns(ld, v[3], "unowned", &ld->rs->unowned);
		ld->unowned_given = true;
	}
	if (v[4]) {
		load_patterns(ld, v[4], "unowned_exclude", &ld->rs->unowned_excl);
		ld->unowned_xgiven = true;
	}
}

/* ---- the top level ---- */

static void load_top(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = { "version", "scan", "groups", "rules", "packages" };
	const yaml_node_t *k[5], *v[5];

	if (!root)
		return; /* an empty file: every default, no rules */
	if (root->type != YAML_MAPPING_NODE) {
		problem(ld, &root->start_mark,
			"a policy must be a mapping (with 'version', 'scan', 'groups', 'rules', "
			"'packages')");
		return;
	}
	get_keys(ld, root, "the policy", keys, 5, k, v);
	if (v[0] && (v[0]->type != YAML_SCALAR_NODE || strcmp(scalar_text(v[0]), "1")))
		problem(ld, &v[0]->start_mark, "unsupported policy version '%s' (only 1 is known)",
			v[0]->type == YAML_SCALAR_NODE ? scalar_text(v[0]) : "...");
	if (v[1])
		load_scan(ld, v[1]);
	if (v[2])
		load_groups(ld, v[2]);
	if (v[3])
		load_rules(ld, v[3]);
	if (v[4])
		load_packages(ld, v[4]);
}

/* The defaults of what the policy did not say and that needs memory. */
static void load_defaults(struct loader *ld)
{
	if (!ld->probes_given)
		probes_set(ld, NULL);
	if (!ld->unowned_given)
		default_patterns(ld, &ld->rs->unowned, default_unowned,
				 sizeof(default_unowned) / sizeof(default_unowned[0]));
	if (!ld->unowned_xgiven)
		default_patterns(ld, &ld->rs->unowned_excl, default_unowned_excl,
				 sizeof(default_unowned_excl) / sizeof(default_unowned_excl[0]));
}

static void yaml_problem(struct loader *ld, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR) {
		ld->err = -ENOMEM;
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
	free(rs->probes);
	patterns_release(&rs->unowned);
	patterns_release(&rs->unowned_excl);
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

int rule_set_load_buffer(const char *name, const char *text, size_t len,
			 rule_problem_fn *problem_fn, void *userdata, struct rule_set **ret_set,
			 struct diag *reterr)
{
	struct loader ld = { .file = NULL, .suggest_budget = SUGGEST_BUDGET };
	yaml_parser_t parser;
	yaml_document_t doc;
	int r;

	ld.rs = set_new(name);
	if (!ld.rs)
		return -ENOMEM;
	ld.file = ld.rs->source;
	r = digest_compute(text, len, ld.rs->digest);
	if (r < 0)
		goto out;

	if (!yaml_parser_initialize(&parser)) {
		r = -ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(&ld, &parser);
	} else {
		ld.doc = &doc;
		load_top(&ld, yaml_document_get_root_node(&doc));
		load_defaults(&ld);
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
	free(ld.groups);
	name_table_release(&ld.group_names);
	name_table_release(&ld.seen);

	if (ld.err < 0) {
		r = ld.err;
		goto out;
	}
	if (ld.nproblems > 0) {
		qsort(ld.problems, ld.nproblems, sizeof(*ld.problems), problem_cmp);
		for (size_t i = 0; problem_fn && i < ld.nproblems; i++)
			problem_fn(&ld.problems[i].d, userdata);
		r = diag_set(reterr, -EBADMSG, "%zu problem%s in policy '%s'", ld.nproblems,
			     ld.nproblems == 1 ? "" : "s", name);
		goto out;
	}
	ld.rs->scan.roots = (const char *const *)ld.rs->roots;
	ld.rs->scan.excludes = (const char *const *)ld.rs->scan_excl.texts;
	ld.rs->scan.nexcludes = ld.rs->scan_excl.n;
	ld.rs->scan.probes = ld.rs->probes;
	r = rule_set_index(ld.rs);
	if (r < 0)
		goto out;
	*ret_set = ld.rs;
	ld.rs = NULL;
out:
	if (r == -ENOMEM)
		diag_set(reterr, r, "out of memory loading policy '%s'", name);
	problems_free(ld.problems, ld.nproblems);
	rule_set_free(ld.rs);
	return r;
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

int rule_set_load_file(const char *path, rule_problem_fn *problem_fn, void *userdata,
		       struct rule_set **ret_set, struct diag *reterr)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int fd, r;

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

		if (sb.len > POLICY_MAX_BYTES) {
			r = diag_set(reterr, -EFBIG, "policy '%s' is too large (more than %u MiB)",
				     path, POLICY_MAX_BYTES >> 20);
			goto out;
		}
		r = strbuf_grow(&sb, 65536);
		if (r < 0)
			goto out;
		n = read(fd, sb.buf + sb.len, sb.alloc - sb.len - 1);
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
		strbuf_setlen(&sb, sb.len + (size_t)n);
	}
	r = rule_set_load_buffer(path, sb.buf, sb.len, problem_fn, userdata, ret_set, reterr);
out:
	close(fd);
	strbuf_release(&sb);
	return r;
}

int rule_set_load_default(struct rule_set **ret_set, struct diag *reterr)
{
	return rule_set_load_buffer("(built-in)", (const char *)rule_default_policy,
				    rule_default_policy_len, NULL, NULL, ret_set, reterr);
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
