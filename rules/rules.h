#ifndef DRIFT_RULES_RULES_H
#define DRIFT_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/entry.h"
#include "common/verdict.h"

struct diag;

/**
 * The policy: what to scan, which attributes matter where, how much a
 * deviation matters, and which changes are expected. Loaded from YAML
 * (libyaml); the format is documented in docs/policy.md and drift-policy(5).
 *
 *     struct rule_set *rs;
 *     r = rule_set_load_file("/etc/drift/policy.yaml", report_problem, NULL, &rs, &diag);
 *     ...
 *     const struct rule *rule = rule_set_match(rs, path, len);   // NULL: not covered
 *     unsigned want = rule ? rule_attrs(rule) : 0;               // ATTR_* bits to collect
 *     ...
 *     rule = rule_set_match_kind(rs, e->kind, e->key, e->key_len);  // a probe's entry
 *     ...
 *     struct rule_verdict v;
 *     if (rule_set_classify(rs, CHANGE_MODIFIED, old, new, attrs, NULL, &v))
 *             report it, with v.class, v.severity, v.rule, v.reason
 *     rule_set_free(rs);
 *
 * A rule set is immutable after loading and may be used from any number of
 * threads at once (the walker's decide callback calls rule_set_match() on
 * worker threads).
 */
struct rule_set;
struct rule;

/**
 * Called once per problem found while loading, in file order: @d has the
 * message, the file, and the 1-based line and column. Loading goes on after
 * a problem so that every problem is reported in one run.
 */
typedef void rule_problem_fn(const struct diag *d, void *userdata);

/**
 * Load and compile the policy in @path. Every problem (YAML syntax, unknown
 * key, wrong type, bad pattern, unknown attribute or group, duplicate id...)
 * is passed to @problem (may be NULL). Returns 0 and *ret_set (free with
 * rule_set_free()), -EBADMSG when there was any problem (@reterr then says
 * how many), -ENOENT / -EACCES... when the file cannot be read, or -ENOMEM.
 * *ret_set is untouched on failure.
 */
int rule_set_load_file(const char *path, rule_problem_fn *problem, void *userdata,
		       struct rule_set **ret_set, struct diag *reterr);

/**
 * Called before a file that the policy extends or includes is read, with
 * its path as it will be opened: return 0 to read it, or a negative errno
 * with a message in @reterr (reported as a problem where the file is
 * named) to refuse it. As root, cli/ refuses files that others could have
 * written, as it does for the policy itself.
 */
typedef int rule_file_check_fn(const char *path, struct diag *reterr, void *userdata);

/** What rule_set_load_file_full() tells its caller, and asks it. */
struct rule_load_opts {
	rule_problem_fn *problem;       /**< every problem; may be NULL */
	rule_file_check_fn *check_file; /**< every file extended or included; may be NULL */
	void *userdata;                 /**< passed to both */
};

/**
 * rule_set_load_file() with every option. The policy may build on others
 * (`extends:`, `include:`, see docs/policy.md): their problems are reported
 * with their own file names and positions, and a cycle, nesting deeper
 * than 16 files, a file that goes in twice, a file that cannot be read or
 * that @opts->check_file refuses are problems where the file is named.
 */
int rule_set_load_file_full(const char *path, const struct rule_load_opts *opts,
			    struct rule_set **ret_set, struct diag *reterr);

/**
 * The same from memory; @name is used as the file name in problems, and
 * files it extends or includes by a relative path are found next to it.
 */
int rule_set_load_buffer(const char *name, const char *text, size_t len, rule_problem_fn *problem,
			 void *userdata, struct rule_set **ret_set, struct diag *reterr);

/** The built-in default policy (the text of dist/policy/default.yaml, compiled in). */
int rule_set_load_default(struct rule_set **ret_set, struct diag *reterr);

/** Free; accepts NULL. */
void rule_set_free(struct rule_set *rs);

/** Where the policy came from: its path, or "(built-in)". Borrowed. */
const char *rule_set_source(const struct rule_set *rs);

/**
 * A digest of the policy's text (SHA-256, lowercase hex, 64 characters),
 * stored with each snapshot, so a check can tell that its baseline was
 * taken under another policy. For a policy that extends or includes other
 * files, it covers the text of every one of them (the SHA-256 of the list
 * of their SHA-256s). Borrowed.
 */
const char *rule_set_digest(const struct rule_set *rs);

/** The `scan:` section, with defaults filled in. Borrowed from the set. */
struct rule_scan {
	const char *const *roots; /**< absolute paths */
	size_t nroots;
	const char *const *excludes; /**< patterns, as --exclude takes them */
	size_t nexcludes;
	bool cross_mounts;
	unsigned threads; /**< 0 = one per CPU */
	/** `max_path`: the longest path recorded, in bytes (0 = the scanner's default) */
	size_t max_path;
	enum hash_algo hash;
	/**
	 * The probes to run (`probes:`; absent = every probe): names from
	 * scanner/probe.h, in probe_list order, without duplicates; none when
	 * nprobes is 0. The strings are the probes' own names (static).
	 */
	const char *const *probes;
	size_t nprobes;
};
const struct rule_scan *rule_set_scan(const struct rule_set *rs);

/** The `packages:` section (package attribution), with defaults filled in. */
struct rule_packages {
	/** Explain file changes by package upgrades (`attribution`, default true). */
	bool attribution;
	/** Severity of a conffile modified locally (`conffile_severity`, default low). */
	enum severity conffile_severity;
	/** Severity of a file owned by no package (`unowned_severity`, default medium). */
	enum severity unowned_severity;
	/**
	 * Which records make a package installed, upgraded or removed between
	 * two snapshots expected (`history`): apt's history (the default), or
	 * dpkg's log too, or none (the package rule's verdict stands).
	 */
	enum rule_history { RULE_HISTORY_APT, RULE_HISTORY_DPKG, RULE_HISTORY_NONE } history;
};

/** The `packages:` section. Borrowed from the set. */
const struct rule_packages *rule_set_packages(const struct rule_set *rs);

/**
 * Whether a file owned by no package at @path (absolute, @len bytes) is
 * reported: @path or one of its ancestors matches a pattern of
 * `packages.unowned` (default /usr, /bin, /sbin, /lib, /lib32, /lib64,
 * /libx32, /boot), and neither it nor an ancestor matches one of
 * `packages.unowned_exclude` (default /usr/local and every __pycache__
 * directory).
 */
bool rule_set_unowned_scope(const struct rule_set *rs, const char *path, size_t len);

/**
 * Whether the file at @path (absolute, @len bytes) is one that dpkg's
 * triggers rewrite (`packages.trigger_outputs`, default ld.so.cache, udev's
 * hwdb.bin, the GTK, gdk-pixbuf and GIO module caches, icon caches, the
 * MIME and GSettings databases, info's dir, locale-archive...): @path or
 * one of its ancestors matches one of the patterns.
 */
bool rule_set_trigger_output(const struct rule_set *rs, const char *path, size_t len);

/**
 * The rule of files that covers @path (absolute, @len bytes): the LAST rule
 * of files in the file whose pattern matches (see docs/policy.md for why;
 * rules with another `kind` are never considered), or NULL when no
 * rule covers it or the path is excluded (rule_set_excluded(): then it is
 * not scanned). Patterns are indexed by their literal prefix, so a path is
 * not tested against every rule.
 */
const struct rule *rule_set_match(const struct rule_set *rs, const char *path, size_t len);

/**
 * The rule that covers the entry (@kind, @key, @len bytes): for ENTRY_FILE
 * the same as rule_set_match(). For the other kinds, only the rules of that
 * kind (`kind:` in the policy) are considered, the last matching one wins,
 * and NULL is returned when none matches or the key is excluded
 * (rule_set_excluded_kind()). Keys of mounts are paths and are matched as
 * such; any other key is matched as "/" + key against "/" + the rule's
 * pattern, so `net.ipv4.*` matches "net.ipv4.ip_forward" and `*` never
 * crosses a '/' ("tcp/ *:22", without the space, matches "tcp/0.0.0.0:22").
 * NULL also for a kind that does not exist.
 */
const struct rule *rule_set_match_kind(const struct rule_set *rs, enum entry_kind kind,
				       const char *key, size_t len);

/**
 * Whether the entry (@kind, @key, @len bytes) is excluded: for ENTRY_FILE
 * the same as rule_set_excluded(); for the other kinds, whether a rule of
 * that kind with `exclude: true` matches the key or an ancestor of it (a
 * mount below an excluded mount point is excluded; the scan section's
 * `exclude` applies to files only).
 */
bool rule_set_excluded_kind(const struct rule_set *rs, enum entry_kind kind, const char *key,
			    size_t len);

/**
 * Whether any rule might cover something strictly below the directory
 * @path: when false, the walker prunes the directory's contents.
 */
bool rule_set_may_match_below(const struct rule_set *rs, const char *path, size_t len);

/**
 * Whether @path is excluded (an exclude of the scan section, or a rule of
 * files with `exclude: true`): it is not scanned, nor is anything below it. True
 * also for a path below an excluded one. Exclusions win over every rule,
 * whatever their order.
 */
bool rule_set_excluded(const struct rule_set *rs, const char *path, size_t len);

/**
 * ATTR_* bits the rule checks (what the scanner must collect for its paths):
 * its check list minus its ignores, plus ATTR_ERROR always, plus ATTR_SIZE
 * and ATTR_INODE when it checks `grow`. For a rule of another kind than
 * files: ATTR_PROPS (unless ignored) and ATTR_ERROR.
 */
uint32_t rule_attrs(const struct rule *rule);
/** The kind of entries the rule covers (`kind:`, default ENTRY_FILE). */
enum entry_kind rule_kind(const struct rule *rule);
/** ATTR_* bits that some rule of the set checks (exclude rules check none). */
uint32_t rule_set_attrs(const struct rule_set *rs);
/** Whether the rule asks for libmagic escalation (`magic: true`). */
bool rule_magic(const struct rule *rule);
const char *rule_id(const struct rule *rule);    /**< never NULL ("rule-N" when not given) */
const char *rule_title(const struct rule *rule); /**< NULL when not given */
const char *rule_file(const struct rule *rule);  /**< the policy file */
unsigned rule_line(const struct rule *rule);     /**< 1-based line of the rule */
enum severity rule_severity(const struct rule *rule);

unsigned rule_column(const struct rule *rule);          /**< 1-based column of the rule */
enum severity rule_when_added(const struct rule *rule); /**< the severity of an added entry */
bool rule_exclude(const struct rule *rule);             /**< `exclude: true` */
/** The rule's pattern (`path:` or `key:`) as written in the policy. Borrowed. */
const char *rule_pattern(const struct rule *rule);

/** What becomes of a file's content: rule_set_content(). */
enum rule_content {
	RULE_CONTENT_NONE,   /**< not kept */
	RULE_CONTENT_KEEP,   /**< kept (regular files up to 64 KiB, read while hashing) */
	RULE_CONTENT_SECRET, /**< never kept, never shown (`secret: true`) */
};

/**
 * Whether the content of the file at @path (absolute, @len bytes) is kept:
 * RULE_CONTENT_SECRET when a rule with `secret: true` matches @path or an
 * ancestor of it, wherever that rule is (secret wins over keep_content);
 * else RULE_CONTENT_KEEP when the last rule that matches @path and states
 * `keep_content` says true; else RULE_CONTENT_NONE. *ret_rule (if
 * non-NULL) is the rule that decided, or NULL. Thread-safe, like
 * rule_set_match(). The size limit (64 KiB) and the need for a hash are the
 * scanner's (scanner/scanner.h, SCAN_KEEP).
 */
enum rule_content rule_set_content(const struct rule_set *rs, const char *path, size_t len,
				   const struct rule **ret_rule);
/**
 * What `drift remedy` may do with the drift a rule decides (`remediate:`).
 * Stored with runs (run_rule.remediate): never renumber.
 */
enum rule_remediate {
	RULE_REMEDIATE_NO = 0, /**< `no` (the default): never planned */
	RULE_REMEDIATE_PLAN,   /**< `plan`: planned, applied when an operator says so */
	RULE_REMEDIATE_AUTO,   /**< `auto`: also applied by `drift remedy --apply --auto` */
};
/** "no", "plan", "auto". */
const char *rule_remediate_name(enum rule_remediate r);
/** The rule's `remediate:`; RULE_REMEDIATE_NO for NULL. */
enum rule_remediate rule_remediate(const struct rule *rule);

/** Whether the rule states `keep_content`; then *ret_keep (if non-NULL) is its value. */
bool rule_keep_content(const struct rule *rule, bool *ret_keep);
/** `secret: true`. */
bool rule_secret(const struct rule *rule);

/** The attribute lists of a rule. */
enum rule_list {
	RULE_LIST_CHECK,  /**< `check` without what `ignore` takes out */
	RULE_LIST_IGNORE, /**< `ignore` */
	RULE_LIST_EXPECT, /**< `expect` */
};

/**
 * The names of the attributes in the rule's list @which, groups expanded,
 * in the order reports list attributes, `grow` last: at most @max static
 * strings into @ret_names. Returns how many there are (which may be more
 * than @max).
 */
size_t rule_list_names(const struct rule *rule, enum rule_list which, const char **ret_names,
		       size_t max);

/** The judgement of one deviation. */
struct rule_verdict {
	enum verdict_class class;
	enum severity severity;
	const struct rule *rule; /**< the rule that matched (borrowed from the set) */
	uint32_t attrs;          /**< the changed attributes that matter under the rule */
	char reason[160]; /**< short, human: "content changed", "log grew", "new setuid file"... */
};

/**
 * Classify one deviation of the entry at @before / @after (NULL on the side where
 * it does not exist; same kind and key), whose compare found @attrs changed
 * (ATTR_*, modified only). @mime is libmagic's MIME type of the new content
 * when the caller looked (the rule has magic: true and the entry is an added
 * or modified regular file), else NULL.
 *
 * Entries of any kind are classified, each under the rules of its kind
 * (rule_set_match_kind()).
 *
 * Returns false when the deviation does not matter under the policy (no rule
 * covers the entry, or none of @attrs is checked by its rule, or only ignored
 * attributes changed): it is then not reported at all. Otherwise returns
 * true and fills *ret_verdict:
 *  - attrs: @attrs restricted to what the rule checks, minus its ignores;
 *  - class: CLASS_EXPECTED when the rule's `expect` covers every one of those
 *    attributes, or `grow` explains them (size grew, same inode, no other
 *    change than size/mtime/ctime/hash); CLASS_DRIFT otherwise;
 *  - severity: the rule's, its `when_added` for an added entry, escalated
 *    to at least SEVERITY_HIGH (with the reason saying why) for a new or changed
 *    executable (ELF or shebang script, from @mime) under magic: true, a new
 *    setuid/setgid bit or file, or a world-writable file or directory
 *    (without the sticky bit) in a system directory (/bin, /sbin, /lib*,
 *    /usr, /etc, /boot). For system state: at least SEVERITY_CRITICAL for a new
 *    user with prop uid "0" or group with gid "0", or one whose uid/gid
 *    became "0"; at least SEVERITY_HIGH for a user whose prop password is (or
 *    became) "none", a new listening port on an address that is not
 *    loopback (127.0.0.0/8, ::1), and a new kernel module;
 *  - rule, reason: for a modified entry of system state, the reason names
 *    the first property (by name) that differs between the props of @before
 *    and @after: "version changed", "value changed", "state changed"...
 */
bool rule_set_classify(const struct rule_set *rs, enum change change, const struct entry *before,
		       const struct entry *after, uint32_t attrs, const char *mime,
		       struct rule_verdict *ret_verdict);

/**
 * rule_set_classify() under the rule @rule, which the caller matched
 * (rule_set_match_kind() for the entry): the findings layer matches each
 * entry once and classifies under that match. False also for a NULL @rule
 * or a rule of another kind than the entry.
 */
bool rule_classify(const struct rule *rule, enum change change, const struct entry *before,
		   const struct entry *after, uint32_t attrs, const char *mime,
		   struct rule_verdict *ret_verdict);

/**
 * What a policy that loads may still get wrong, each passed to @warn (may
 * be NULL) as a diag: the message, the file, and the 1-based line and
 * column it is about (line 0: the file as a whole), in file order:
 *  - an enabled probe (scan.probes, or every probe when it is absent) with
 *    a kind that no rule covers: what it collects of that kind is never
 *    recorded;
 *  - a rule of files that lies outside every scan root (it matches only
 *    below a root given on the command line);
 *  - a rule everything of which is excluded (exclusions win);
 *  - a rule that a later rule of its kind matches wherever it matches (the
 *    last matching rule wins, so it never decides anything).
 * Only sure cases are warned about: a warning is always true, and a rule
 * may be dead without one. Rules of an extended policy (`extends:`) are
 * not warned about. Returns the number of warnings, or -ENOMEM.
 */
int rule_set_lint(const struct rule_set *rs, rule_problem_fn *warn, void *userdata);

/** How the policy treats one entry: the answer of rule_set_explain(). */
struct rule_explanation {
	/**
	 * The rule that covers the entry: the last rule of its kind that
	 * matches (what rule_set_match_kind() returns); NULL when the entry
	 * is excluded or no rule matches.
	 */
	const struct rule *rule;
	/** The earlier rules of the kind that match too, in file order: @rule overrides them. */
	const struct rule **overridden;
	size_t noverridden;
	/**
	 * Excluded (not recorded, nor anything below it): by the rule
	 * @excluded_by (`exclude: true`), or, for files, by the pattern
	 * @excluded_pattern of scan.exclude (the first exclusion that takes it).
	 */
	bool excluded;
	const struct rule *excluded_by;
	const char *excluded_pattern;
	/** When excluded: the rule that would cover it without the exclusions, or NULL. */
	const struct rule *unless_excluded;
	/** Files: whether some rule may cover a path below it (false: surely none). */
	bool below;
	/** Files: whether it is a root of scan.roots or below one. */
	bool in_roots;
	/** Other kinds: the probe that collects the entries of the kind, and whether it runs. */
	const char *probe;
	bool probe_runs;
	/**
	 * Files: whether the content is kept (rule_set_content()), and the
	 * rule that decided (NULL: no rule states keep_content or secret).
	 */
	enum rule_content content;
	const struct rule *content_rule;
};

/**
 * Explain how the policy treats the entry (@kind, @key, @len bytes; for
 * files and mounts an absolute path without a trailing '/'): which rule
 * covers it and which earlier ones it overrides, or what excludes it, or
 * that no rule covers it. Returns 0 and *ret (release with
 * rule_explanation_release()), -EINVAL for a kind that does not exist, or
 * -ENOMEM. *ret is untouched on failure.
 */
int rule_set_explain(const struct rule_set *rs, enum entry_kind kind, const char *key, size_t len,
		     struct rule_explanation *ret);
void rule_explanation_release(struct rule_explanation *ex);

/**
 * Write the effective policy as YAML, with every default filled in and
 * groups expanded to attribute lists, to @out. Returns 0 or -EIO.
 */
int rule_set_show(const struct rule_set *rs, FILE *out);

#endif /* DRIFT_RULES_RULES_H */
