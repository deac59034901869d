#ifndef DRIFT_RULES_INTERNAL_H
#define DRIFT_RULES_INTERNAL_H

/*
 * The insides of a rule set, shared by the files of rules/ (load.c,
 * match.c, classify.c, show.c) and by their tests and benchmark. Other
 * modules include only rules/rules.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

struct pattern;

/** The pseudo attribute `grow` in attribute masks (above every ATTR_* bit). */
#define RULE_GROW (UINT32_C(1) << 31)

/** Every ATTR_* bit. */
#define RULE_ATTR_ALL ((UINT32_C(1) << ATTR__COUNT) - 1)

struct rule {
	enum entry_kind kind; /* ENTRY_FILE unless `kind:` says otherwise */
	struct pattern *pat;  /* owned; for keys that are not paths, of "/" + the text */
	char *text;           /* owned: the pattern as written when pat's text differs; else NULL */
	char *id;             /* owned; "rule-N" when not given */
	char *title;          /* owned; NULL when not given */
	const char *file;     /* borrowed from the set's files */
	unsigned fileno;      /* the file's place in rs->files (0: the policy itself) */
	unsigned line, col;   /* 1-based, of the rule's mapping */
	unsigned id_line, id_col; /* of its `id:`; 0 when the id is the default */
	unsigned index;           /* 0-based position in the file */
	bool inherited;           /* from a policy that the policy extends (`extends:`) */
	uint32_t check;           /* ATTR_* bits and RULE_GROW, groups expanded */
	uint32_t ignore;
	uint32_t expect;
	uint32_t attrs; /* what is compared: check minus ignore, plus what grow needs and error */
	enum severity severity;
	enum severity when_added;
	bool magic;
	bool exclude;
	/* `keep_content`: stated (keep_set) and its value; the last rule that states it decides */
	bool keep_set, keep_content;
	bool secret; /* `secret: true`: wins wherever it matches, like an exclusion */
	enum rule_remediate remediate; /* `remediate:` (drift remedy); RULE_REMEDIATE_NO default */
};

/*
 * One index: patterns grouped by their anchor in an open-addressing hash
 * table, plus the patterns without an anchor ("floating": basename globs),
 * which every path is tested against. Each list holds pattern numbers in
 * descending order, so the search for the last match can stop early.
 */
struct rule_bucket {
	const char *key; /* borrowed from the pattern; NULL for an empty slot */
	size_t len;
	uint64_t hash;
	uint32_t *ids;
	size_t n, alloc;
};

struct rule_index {
	struct pattern *const *pats; /* borrowed: pats[id] */
	struct rule_bucket *slots;
	size_t mask; /* slots - 1; slots is a power of two */
	uint32_t *floating;
	size_t nfloating;
	/* Every anchor, sorted bytewise, for "is anything anchored below". */
	const char **keys;
	size_t *key_lens;
	size_t nkeys;
};

/*
 * The rules of one kind other than files, as rule numbers in descending
 * order (so the first match is the last rule): a policy has a handful of
 * them, and they are tested one by one.
 */
struct rule_kind_rules {
	uint32_t *match; /* rules that cover keys */
	size_t nmatch;
	uint32_t *excl; /* exclude rules */
	size_t nexcl;
};

/* A list of patterns with their texts (scan.exclude, packages.unowned...). */
struct rule_patterns {
	char **texts; /* owned, NULL-terminated */
	struct pattern **pats;
	size_t n;
};

/* Where something was said: a file of rs->files and a 1-based position; file NULL: a default. */
struct rule_pos {
	const char *file;
	unsigned line, col;
};

struct rule_set {
	char *source;
	char digest[65];
	/* Every file that went into the set, in the order read: files[0] is the source. */
	char **files;
	size_t nfiles;
	struct rule *rules;
	size_t nrules;

	struct rule_scan scan;
	char **roots;                   /* owned; scan.roots points here */
	struct rule_patterns scan_excl; /* scan.exclude; scan.excludes points here */

	/* For rule_set_match(): pats[i] = rules[i].pat, NULL for exclude rules. */
	struct pattern **rule_pats;
	struct rule_index rules_index;
	/* For rule_set_excluded(): scan excludes, then exclude rules' patterns. */
	struct pattern **excl_pats;
	size_t nexcl;
	struct rule_index excl_index;

	/* For rule_set_match_kind(): kinds[k] for every kind but ENTRY_FILE. */
	struct rule_kind_rules kinds[ENTRY__KIND_MAX + 1];

	const char **probes;        /* scan.probes points here; the names are static */
	struct rule_pos *probe_pos; /* by probe_list index: where scan.probes names it */

	struct rule_packages packages;
	struct rule_patterns unowned, unowned_excl, trigger_outputs;

	/* For rule_set_content(): rules of files that state keep_content or
	 * secret, in descending order (a policy has a handful). */
	uint32_t *content_rules;
	size_t ncontent_rules;
};

/* Whether the policy writes patterns of @kind over paths (files, mounts). */
static inline bool rule_kind_is_path(enum entry_kind kind)
{
	return kind == ENTRY_FILE || kind == ENTRY_MOUNT;
}

/*
 * A key as the patterns of its kind see it: a mount's path as it is, any
 * other key behind a '/'. Short keys are copied into @buf; a long one into
 * *ret_heap (free it), NULL returned when that allocation fails.
 */
const char *rule_kind_key(enum entry_kind kind, const char *key, size_t len, char *buf, size_t size,
			  char **ret_heap, size_t *ret_len);

/** Build the list of content rules (content.c). Returns 0 or -ENOMEM. */
int rule_content_index(struct rule_set *rs);

/** Build the indexes of a loaded set. Returns 0 or -ENOMEM. */
int rule_set_index(struct rule_set *rs);
void rule_index_release(struct rule_index *idx);

/**
 * Reference implementations that test every pattern in order, for tests and
 * the benchmark: they must give the same answers as the indexed ones.
 */
const struct rule *rule_set_match_slow(const struct rule_set *rs, const char *path, size_t len);
bool rule_set_excluded_slow(const struct rule_set *rs, const char *path, size_t len);
bool rule_set_may_match_below_slow(const struct rule_set *rs, const char *path, size_t len);

/** The ATTR_* bit or RULE_GROW for an attribute name; 0 when unknown. */
uint32_t rule_attr_parse(const char *name);

/** The built-in groups, in the order docs/policy.md lists them. */
struct rule_builtin_group {
	const char *name;
	uint32_t mask;
};
extern const struct rule_builtin_group rule_builtin_groups[];
extern const size_t rule_nbuiltin_groups;

/** The text of dist/policy/default.yaml, compiled in (rules/default_policy.c). */
extern const unsigned char rule_default_policy[];
extern const size_t rule_default_policy_len;

#endif /* DRIFT_RULES_INTERNAL_H */
