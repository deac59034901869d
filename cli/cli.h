#ifndef DRIFT_CLI_CLI_H
#define DRIFT_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/verdict.h"
#include "report/report.h"
#include "rules/rules.h"
#include "scanner/scanner.h"
#include "store/store.h"

/**
 * The command line: `drift <command> [options] [args]`, git style, one file
 * per command. This header is cli/'s own; nothing below cli/ includes it.
 */

/**
 * Exit codes. The deviation bits are AIDE's, so that scripts written for
 * AIDE keep working: 0 nothing, +1 added, +2 removed, +4 modified, 8 is
 * kept for policy violations. Failures are distinct values from 16 up and
 * never collide with the bit mask.
 */
enum drift_exit {
	DRIFT_EXIT_CLEAN = 0,
	DRIFT_EXIT_ADDED = 1,
	DRIFT_EXIT_REMOVED = 2,
	DRIFT_EXIT_MODIFIED = 4,
	DRIFT_EXIT_VIOLATION = 8,    /**< reserved for the policy's violations */
	DRIFT_EXIT_USAGE = 16,       /**< bad command line, unknown snapshot, refused request */
	DRIFT_EXIT_POLICY = 17,      /**< reserved: malformed policy */
	DRIFT_EXIT_SCAN = 18,        /**< a root cannot be scanned, the walk failed */
	DRIFT_EXIT_DATABASE = 19,    /**< database missing parts, corrupt, foreign, locked */
	DRIFT_EXIT_INTERRUPTED = 20, /**< SIGINT/SIGTERM: stopped cleanly */
	DRIFT_EXIT_NO_BASELINE = 21, /**< check without a database or baseline */
	DRIFT_EXIT_OUTPUT = 22,      /**< the report could not be written */
	DRIFT_EXIT_INTERNAL = 23,    /**< out of memory, threads, other internal failures */
	DRIFT_EXIT_STALE = 24,       /**< remedy: a stale plan; nothing changed */
	DRIFT_EXIT_INCOMPLETE = 25,  /**< remedy: some actions failed or were skipped */
	DRIFT_EXIT_TAMPERED = 26,    /**< snapshots --verify: a seal does not hold */
};

/** Where an error came from, for exit_code_for_error(). */
enum cli_stage {
	CLI_STAGE_SCAN,
	CLI_STAGE_STORE,
	CLI_STAGE_OUTPUT,
};

/** The exit code for the deviations counted by a report. */
int exit_code_for_counts(const struct report_counts *counts);
/** The exit code for error @r (negative errno) that happened in @stage. */
int exit_code_for_error(enum cli_stage stage, int r);

/** Options of every command; each command accepts a subset. */
enum cli_opt {
	OPT_DB = 1 << 0,
	OPT_THREADS = 1 << 1,
	OPT_EXCLUDE = 1 << 2,
	OPT_HASH = 1 << 3,
	OPT_CROSS_MOUNTS = 1 << 4,
	OPT_FORMAT = 1 << 5,
	OPT_OUTPUT = 1 << 6,
	OPT_QUIET = 1 << 7,
	OPT_COLOR = 1 << 8,
	OPT_ALL_CHANGES = 1 << 9,
	OPT_KEEP = 1 << 10,
	OPT_LABEL = 1 << 11,
	OPT_REPLACE = 1 << 12,
	OPT_FORCE = 1 << 13,
	OPT_POLICY = 1 << 14,
	OPT_ALLOW_INSECURE = 1 << 15,
	OPT_COUNT_EXPECTED = 1 << 16,
	OPT_TRUST_CTIME = 1 << 17,
	OPT_ROOT = 1 << 18,
	OPT_PROBES = 1 << 19,
	OPT_UPGRADE = 1 << 20,
	OPT_LAST_UPGRADE = 1 << 21,
	OPT_UNOWNED = 1 << 22,
	OPT_NARROWER = 1 << 23,
	OPT_PRUNE = 1 << 24, /**< --delete, --prune, --keep-upgrades, --dry-run, --vacuum */
	/** Commands that write reports: every format, --report, --min-severity, --fail-on,
	 * --verbose, --journal. */
	OPT_REPORTS = 1 << 25,
	OPT_SINCE_LAST = 1 << 26,
	OPT_WAIVERS = 1 << 27, /**< --waivers FILE */
	OPT_WAIVE = 1 << 28,   /**< --reason, --expires, --run, --dry-run (drift waive) */
	OPT_SEALS = 1 << 29,   /**< --verify, --head, --new-key (drift snapshots) */
};

/** The report options of --help, for every command that writes findings. */
#define CLI_REPORT_OPTIONS_HELP                                                           \
	"  --format FORMAT    text (default), json, ndjson, html, junit or prometheus\n"  \
	"  --report FORMAT:FILE\n"                                                        \
	"                     also write a report in FORMAT to FILE (repeatable); each\n" \
	"                     file is replaced only when the run succeeds\n"              \
	"  --min-severity LEVEL\n"                                                        \
	"                     show only findings at or above LEVEL (info, low, medium,\n" \
	"                     high, critical); the summary still counts them all\n"       \
	"  --fail-on LEVEL    only drift at or above LEVEL sets the exit code's bits\n"   \
	"  --verbose          list every entry of a package or account event\n"

/** The formats a report command takes, for messages. */
#define REPORT_FORMAT_NAMES "text, json, ndjson, html, junit or prometheus"

/** One --report FORMAT:FILE. */
struct cli_report_dest {
	enum report_format format;
	const char *path; /**< borrowed argv */
};

enum cli_color {
	CLI_COLOR_AUTO,
	CLI_COLOR_ALWAYS,
	CLI_COLOR_NEVER,
};

struct cli_args {
	const char *db;
	unsigned threads; /**< 0 = one per CPU */
	const char **excludes;
	size_t nexcludes;
	bool have_hash; /**< --hash given */
	enum hash_algo hash;
	bool cross_mounts;
	enum report_format format;
	const char *output;
	bool quiet;
	enum cli_color color;
	bool all_changes;
	unsigned keep;
	const char *label;
	bool replace;
	bool force;
	char **operands; /**< what follows the options: paths, snapshot names (borrowed argv) */
	size_t noperands;
	char *db_default;     /**< owned: the default database path, when --db was not given */
	const char *policy;   /**< --policy FILE ("builtin": the built-in default) */
	char *policy_default; /**< owned: the default policy path */
	bool allow_insecure;  /**< --allow-insecure: skip the StrictModes checks */
	bool count_expected;  /**< --count-expected: expected deviations count in the exit code */
	bool trust_ctime;     /**< --trust-ctime: reuse the baseline's hash of unchanged files */
	unsigned sample;      /**< --sample PERCENT: re-hash this share anyway (default 1) */
	const char *root;     /**< --root DIR: the host's files and state are under DIR */
	const char *probes;   /**< --probes LIST: "all", "none" or names, comma-separated */
	const char *upgrade;  /**< --upgrade pre|post: the apt hook's snapshots */
	bool last_upgrade;    /**< --last-upgrade: diff the newest apt pre/post pair */
	bool unowned;         /**< --unowned: verify also lists files no package owns */
	bool narrower;        /**< --narrower: a baseline may cover less than the one it replaces */
	bool have_keep;       /**< --keep given (not the default) */
	bool delete_;         /**< --delete: the operands name snapshots to delete */
	bool prune;           /**< --prune: delete what the keep rules leave */
	unsigned keep_upgrades; /**< --keep-upgrades N (default 30) */
	bool have_keep_upgrades;
	bool dry_run; /**< --dry-run: say what would go, delete nothing */
	bool vacuum;  /**< --vacuum: a full VACUUM of a database that cannot shrink by itself */
	const char *seal_key; /**< --key FILE: the sealing (or, with --verify, verification) key */
	bool verify_seals;    /**< --verify: recompute every seal */
	bool head;            /**< --head[=SEQ:HEX] */
	const char *head_arg; /**< the SEQ:HEX of --head=..., or NULL */
	const char *new_key;  /**< --new-key FILE */
	struct cli_report_dest *reports; /**< owned array: --report FORMAT:FILE, in order */
	size_t nreports;
	bool have_min_severity; /**< --min-severity LEVEL */
	enum severity min_severity;
	bool have_fail_on; /**< --fail-on LEVEL */
	enum severity fail_on;
	bool since_last;   /**< --since-last */
	bool verbose;      /**< --verbose */
	bool have_journal; /**< --journal LEVEL: records in the journal */
	enum severity journal_severity;
	char *root_real;     /**< owned: --root resolved by cli_root_open(); "" for "/" */
	int root_fd;         /**< owned: the root (O_PATH), opened by cli_root_open(); -1 before */
	const char *waivers; /**< --waivers FILE */
	char *waivers_default;         /**< owned: the default waivers path */
	struct waiver_set *waiver_set; /**< owned: loaded by cli_waivers_load(); NULL: none */
	const char *reason;            /**< --reason TEXT */
	const char *expires;           /**< --expires DATE|+Nd */
	const char *run;               /**< --run RUN */
};

/** A command: its name, one-line summary, usage text and entry point. */
struct cli_command {
	const char *name;
	const char *summary;
	const char *usage; /**< full --help text */
	unsigned opts;     /**< enum cli_opt accepted */
	int (*run)(struct cli_args *args);
	/** A command that parses its own options (argv[0] is its name): called instead of @run. */
	int (*main)(int argc, char **argv);
	/**
	 * What it prints confirms a change it made (init, accept, remedy...): a
	 * name printed as "(out of memory)" then only warns, since the change
	 * stands; elsewhere the output is the product, and that fails the command.
	 */
	bool confirms;
};

extern const struct cli_command cmd_init_def, cmd_check_def, cmd_scan_def, cmd_diff_def,
	cmd_verify_def, cmd_runs_def, cmd_report_def, cmd_snapshots_def, cmd_baseline_def,
	cmd_policy_def, cmd_show_def, cmd_help_def, cmd_accept_def, cmd_browse_def, cmd_remedy_def;
extern const struct cli_command cmd_waive_def, cmd_waivers_def;
/** Every command, NULL-terminated, in help order. */
extern const struct cli_command *const cli_commands[];
const struct cli_command *cli_command_find(const char *name);
/** The command @typed is a typo of ("chek": "check"), or NULL. */
const char *cli_command_suggest(const char *typed);

/**
 * Parse argv (argv[0] is the command name) for @cmd into @ret_args.
 * Returns 0, a negative value when --help was printed (exit 0), or a
 * DRIFT_EXIT_USAGE after printing the problem.
 */
int cli_args_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *ret_args);
void cli_args_release(struct cli_args *args);

/**
 * The quarantine of drift remedy beside the database @db ("quarantine/" in
 * its directory: /var/lib/drift/quarantine as root), malloc()ed; NULL when
 * the database's directory cannot be resolved or out of memory.
 */
char *cli_quarantine_default(const char *db);

/** The database path: --db, or the default for this user (root: /var/lib/drift/drift.db). */
const char *cli_db_path(struct cli_args *args);
/**
 * Seal what @st writes with the key file @path (--key), else $DRIFT_SEAL_KEY,
 * else no key. 0, or an exit code after saying why the key cannot be used.
 */
int cli_store_seal_key(struct snap_store *st, const char *path);

/* ---- waivers (cli/cmd_waive.c) ---- */

struct waiver_set;
/** The waivers file: --waivers, or the default (root: /etc/drift/waivers.yaml). */
/** A positive decimal id (a run, an acceptance) in @s: 0, or -EINVAL. */
int cli_parse_id(const char *s, int64_t *ret);
/**
 * The newest stored check run of @st into *@ret_id (0: there is none),
 * what accept and remedy work on by default. 0 or a store error.
 */
int cli_newest_check(struct snap_store *st, int64_t *ret_id, struct diag *reterr);
/** @ns as "YYYY-MM-DD HH:MM:SS" UTC into @buf; "-" for 0 or a time gmtime() refuses. */
void cli_format_utc(char *buf, size_t size, int64_t ns);
/** The default path of configuration file @name (policy.yaml, waivers.yaml), cached in *@cache. */
const char *cli_config_default(const char *name, char **cache);
const char *cli_waivers_path(struct cli_args *args);
/**
 * Load and validate the waivers into args->waiver_set, before a scan: a
 * missing default file is no waivers, a missing --waivers file an error.
 * Returns 0, or DRIFT_EXIT_POLICY after printing each problem as
 * FILE:LINE:COLUMN: MESSAGE.
 */
int cli_waivers_load(struct cli_args *args);

/* ---- the policy (cli/policy.c) ---- */

/** The policy file: --policy, or the default for this user (root: /etc/drift/policy.yaml). */
const char *cli_policy_path(struct cli_args *args);

/**
 * Load the policy a command uses: --policy FILE; else the default path if
 * the file exists; else the built-in default. Problems are printed as
 * FILE:LINE:COLUMN: MESSAGE. Returns 0 or an exit code.
 */
int cli_policy_load(struct cli_args *args, struct rule_set **ret_set);
/** Load @path, printing every problem. Returns 0 or an exit code. */
int cli_policy_load_file(const char *path, struct rule_set **ret_set);

/**
 * As root (unless @allow_insecure), refuse @path when it, or a directory
 * above it, is not owned by root or is writable by others (sshd's
 * StrictModes). @what names it in the message ("policy", "database").
 * Returns 0 or an exit code after printing why.
 */
int cli_check_secure_path(const char *path, const char *what, bool parent_may_be_sticky,
			  bool allow_insecure);

/* ---- output helpers (cli/output.c) ---- */

/** Print "drift: MESSAGE\n" to stderr. */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);
/** Print "drift: warning: MESSAGE\n" to stderr. */
__attribute__((format(printf, 1, 2))) void cli_warn(const char *fmt, ...);
/**
 * A path in escaped display form, in a static-per-slot buffer (slot 0..3).
 * Out of memory, "(out of memory)" instead, and cli_out_of_memory() says so.
 */
const char *cli_path(const char *path, size_t len, unsigned slot);
/**
 * Whether a name or a message was printed as "(out of memory)" (cli_path(),
 * cli_error()): main() then fails the command with DRIFT_EXIT_INTERNAL, so
 * that no listing with a name missing passes for a complete one (only warns
 * after a command that cli_command.confirms).
 */
bool cli_out_of_memory(void);

/**
 * The report's destination: stdout (`-`, or a --output FILE that is drift's
 * own stdout, such as /dev/stdout); a regular FILE (or none yet) written to
 * a temporary file beside it and renamed into place by cli_output_close(),
 * so that a failed run never leaves half a report over a good one; or a
 * device or FIFO written directly, never replaced. A symlink is refused
 * unless it leads to drift's stdout or stderr, or (owned by root or the
 * user) to a device or FIFO. See cli/output.c and drift(1).
 */
struct cli_output {
	FILE *fp;
	char *path;     /**< FILE as given, or NULL for stdout */
	char *tmp_path; /**< temporary file to rename over @path; NULL when written directly */
	bool color;
};
/** Open the destination of args->output. Returns 0, or an exit code after printing why. */
int cli_output_open(struct cli_output *out, const struct cli_args *args);
/** The same for @path ("-": stdout), as a --report FILE. */
int cli_output_open_path(struct cli_output *out, const struct cli_args *args, const char *path);
/**
 * A report held back in an unlinked temporary file until
 * cli_output_deliver() copies it to its destination: a check writes its
 * report while its snapshot's transaction is open, and must not hold the
 * database's lock while a pipe, pager or FIFO reads it. The caller sets
 * out->color from the destination. Returns 0 or an exit code after
 * printing why.
 */
int cli_output_spool(struct cli_output *out, const struct cli_args *args);
/**
 * Copy the spool @out (if any) to @dest (opened by cli_output_open()) when
 * @ok, close @dest (keeping the report only then) and free @out. Returns 0
 * or an exit code after printing why.
 */
int cli_output_deliver(struct cli_output *out, struct cli_output *dest, bool ok);
/**
 * Finish: flush, rename into place (if @ok) or remove the temporary file,
 * close a device or FIFO. Returns 0 or an exit code after printing why.
 */
int cli_output_close(struct cli_output *out, bool ok);
/**
 * Close @out, keeping the report when @code (the run's exit code so far) is
 * not a failure. Returns @code, or the output's failure when closing failed.
 */
int cli_output_finish(struct cli_output *out, int code);
/** Finish @rep: the exit code for its counts, or the output failure (printed). */
int cli_report_finish(struct report *rep);
struct cli_report_sink;
/**
 * The journal's summary record of the finished report @rep with the
 * command's exit @code, and close rs->journal (nothing without one).
 */
void cli_report_journal_close(struct cli_report_sink *rs, int code);
/** Verify runs kept in the database (they belong to no snapshot that would prune them). */
#define CLI_VERIFY_RUNS_KEPT 30

/**
 * The report as the sink of findings (cli/report.c), recording them as a
 * stored run too when the database can be written.
 */
/** The most --report destinations one command writes. */
#define CLI_REPORTS_MAX 16

/**
 * The --report FORMAT:FILE destinations of a command: one report each,
 * given the same findings as the main one, each file replaced only when
 * the command succeeded (cli/report.c).
 */
struct cli_reports {
	struct report *rep[CLI_REPORTS_MAX];
	struct cli_output out[CLI_REPORTS_MAX];
	size_t n;
	/** cli_reports_write() could not write one of them (a full disk): none is replaced,
	 * but the run and the main report stand. */
	bool failed;
};
/**
 * Open every destination of args->reports (before the work, so that a bad
 * one fails early). Returns 0 or an exit code after printing why (what was
 * opened is closed, nothing replaced).
 */
int cli_reports_open(struct cli_reports *reps, const struct cli_args *args);
/** Start each destination's report on a copy of @meta. Returns 0 or an exit code (printed). */
int cli_reports_start(struct cli_reports *reps, const struct report_meta *meta,
		      const struct cli_args *args);
/** Write every report (after the findings); @code: the run's exit code so far. Returns @code or an
 * output failure (then @reps->failed is set). */
int cli_reports_write(struct cli_reports *reps, int code);
/** Close the destinations, replacing the files only when @code is not a failure; free. Returns
 * @code or an output failure. */
int cli_reports_close(struct cli_reports *reps, int code);
/** The report options of @args (--min-severity, --fail-on, --verbose) into @meta. */
void cli_report_meta_args(struct report_meta *meta, const struct cli_args *args);

struct journal;
struct cli_report_sink {
	struct report *rep;
	struct journal *journal;    /**< --journal: a record per finding at or above its level */
	struct cli_reports *extra;  /**< NULL or the --report destinations, fed the same findings */
	int err;                    /**< a report_add_*() failed */
	struct compare_record *rec; /**< NULL: the run is not stored */
	bool with_sides;            /**< verify: the findings' sides are in no snapshot */
	int rec_err;                /**< recording failed: @rec_diag says why */
	struct diag rec_diag;
	/*
	 * Content diffs (cli_report_sink_diffs()): the store holding both
	 * snapshots' kept content, the policy in force (its secrets are never
	 * diffed), the snapshots; NULL store: no diffs.
	 */
	struct snap_store *st;
	const struct rule_set *rules;
	const struct snap_info *before, *after;
	bool diff_warned;     /* a content that could not be read was warned about */
	char after_name[160]; /* the after snapshot's label or id, for `drift show` */
};
struct compare_sink;
struct compare_record_info;
/** Point @sink at @rs (whose rep and rec the caller sets). */
void cli_report_sink_init(struct cli_report_sink *rs, struct compare_sink *sink);
/**
 * Have the findings of modified files whose content both snapshots kept
 * carry its diff (common/udiff.h), read from @st; @rules (may be NULL) is
 * the policy in force, whose secrets are never diffed.
 */
void cli_report_sink_diffs(struct cli_report_sink *rs, struct snap_store *st,
			   const struct rule_set *rules, const struct snap_info *before,
			   const struct snap_info *after);
/** Start recording the run into @st when it is writable. Returns 0 or an exit code. */
int cli_record_begin(struct cli_report_sink *rs, struct snap_store *st,
		     const struct compare_record_info *info);
/**
 * Store the run with the command's exit code @code (dropped when @code is a
 * failure). Returns @code, or the store's exit code when storing failed.
 */
int cli_record_finish(struct cli_report_sink *rs, int code, uint64_t checked);

/**
 * The exit code of a comparison into @rep that failed with @r: when the
 * report itself failed (@report_err), finish it for its message (an output
 * failure); an interruption; else what @d says, an error of @stage.
 */
int cli_compare_failed(struct report *rep, int r, int report_err, enum cli_stage stage,
		       struct diag *d);

/* ---- the database, signals, roots and scans (cli/scan.c, signals.c, roots.c) ---- */

/**
 * Open the database (--db or the default) after the StrictModes check.
 * Returns 0 and *ret_st, or an exit code after printing why (a missing
 * database opened read-only: DRIFT_EXIT_NO_BASELINE).
 */
int cli_store_open(struct cli_args *args, enum snap_open_flags flags, struct snap_store **ret_st);

/**
 * Open the database to read snapshots from and store runs in: for writing
 * when the user may write it, else read-only (the run is then not
 * stored). Without @must_exist, a missing database is no error: *ret_st is
 * NULL. Returns 0 or an exit code.
 */
int cli_store_open_for_runs(struct cli_args *args, bool must_exist, struct snap_store **ret_st);

/** Fill the hash, mount and policy fields of @params from the policy and the options. */
void cli_params_from_policy(struct snap_new *params, const struct rule_set *rules,
			    const struct cli_args *args);

/** Installs SIGINT/SIGTERM handlers that set a flag; idempotent. */
void cli_signals_install(void);
/** Ignores SIGXFSZ, so that a write past RLIMIT_FSIZE fails with EFBIG; main() calls it first. */
void cli_signals_ignore_fsize(void);
/** Whether SIGINT or SIGTERM arrived. */
bool cli_interrupted(void);
/** The flag itself, for code that polls it on other threads (scan_verify()). */
volatile sig_atomic_t *cli_interrupted_flag(void);

/**
 * Run by cli_scan_into() on the new snapshot @info, complete but not yet
 * committed (readable on @st only). Returns an exit code; or an exit code
 * negated to refuse the snapshot: it is rolled back (left incomplete, as
 * by an interruption), and cli_scan_into() returns the code.
 */
typedef int cli_scan_finished_fn(struct snap_store *st, const struct snap_info *info,
				 void *userdata);

/**
 * Scan into a new snapshot described by @params, with progress on a TTY.
 * The snapshot records every root of @params; the walk covers those that
 * exist (cli_root_exists()), so that a root that is missing now is
 * compared, and what appears there later is added. With @reuse_base
 * (--trust-ctime), a file whose device, inode, size, mtime and ctime equal
 * the base snapshot's gets the base's hash without being read, except for
 * a rotating sample (--sample) that is always read. With @finished (check:
 * compare and report; init: refuse a narrower baseline), that runs on the
 * finished snapshot before the commit, so that its report is printed even
 * when the commit fails (then the store's exit code, with a message saying
 * that the run was not stored). On success fills *ret_info and *ret_stats
 * and returns 0, or what @finished returned; otherwise prints what went
 * wrong and returns the exit code.
 */
int cli_scan_into(struct snap_store *st, const struct snap_new *params,
		  const struct rule_set *rules, const struct snap_info *reuse_base,
		  const struct cli_args *args, cli_scan_finished_fn *finished, void *userdata,
		  struct snap_info *ret_info, struct scan_stats *ret_stats);

/**
 * Resolve the path operands into absolute roots (malloc()ed array of
 * malloc()ed strings), each once. With no operands, the policy's roots: one
 * that does not exist is warned about and kept as the policy writes it (a
 * snapshot records it, the walk skips it, and every check looks at it
 * again); it is an error when none exists. Warns about a root the policy
 * excludes. Returns 0 or an exit code after printing the problem.
 */
int cli_roots_resolve(char *const *paths, size_t npaths, const struct rule_set *rules,
		      const struct cli_args *args, char ***ret_roots, size_t *ret_nroots);

/*
 * --root DIR: the host's files are under DIR, and keys (paths in
 * snapshots, roots) are what they would be on that host: DIR/etc/passwd is
 * stored as /etc/passwd. Paths the user names are taken as inside DIR.
 */

/**
 * Resolve --root (if given) into args->root_real and open the root (also
 * "/") as args->root_fd, which everything reading under the root shares.
 * Idempotent. Returns 0 or an exit code.
 */
int cli_root_open(struct cli_args *args);
/** The resolved root without a trailing '/': "" when there is none or it is "/". */
const char *cli_root(const struct cli_args *args);
void cli_roots_free(char **roots, size_t nroots);

/**
 * Whether @root (a key, under --root) exists: false only when it, or a
 * directory on the way, is missing; other errors are the walk's to report.
 */
bool cli_root_exists(const struct cli_args *args, const char *root);

/**
 * Copy the roots that still exist (a baseline's roots: one that is gone is
 * reported as removed entries, not as a failure to scan). Returns 0 or an
 * exit code.
 */
int cli_roots_existing(char *const *roots, size_t nroots, const struct cli_args *args,
		       char ***ret_roots, size_t *ret_nroots);

/** Whether the root @root covers @path: @path is @root, or below it. */
bool cli_root_covers(const char *root, const char *path);

/** A note after a root in cli_roots_format() ("no entries"), or NULL for none. */
typedef const char *cli_root_note_fn(const char *root, void *userdata);

struct strbuf;

/**
 * Append @roots to @sb for people: escaped, separated by spaces, each once,
 * and none that another root covers (what is below /usr is in /usr's
 * count). With @note, each root shown is followed by " (NOTE)" when @note
 * says one. With @width (0: no limit), the roots after those that fit in
 * @width bytes (the first always does) are counted, " ... (+N)". Returns 0
 * or -ENOMEM.
 */
int cli_roots_format(struct strbuf *sb, const char *const *roots, size_t nroots, size_t width,
		     cli_root_note_fn *note, void *userdata);

/** Refuse roots that are not at or below one of @base's roots. Returns 0 or an exit code. */
int cli_roots_within(char *const *roots, size_t nroots, const struct snap_info *base);

/**
 * Have the findings layer compare @before with @after (files restricted to
 * @roots, NULL for all) under @rules (NULL: every deviation counts,
 * unjudged) and write its findings as the report to @out (cli/report.c).
 * @live says the after side is the host at args->root_fd as scanned just
 * now. The reports of @extra (opened by the caller, or NULL) get the same
 * findings and are written, not closed. Returns the exit code (the
 * deviation bits of the findings that count, or an error).
 */
int cli_compare_report_to(struct cli_output *out, struct cli_reports *extra, struct snap_store *st,
			  const char *command, const struct snap_info *before,
			  const struct snap_info *after, const char *const *roots, size_t nroots,
			  const struct rule_set *rules, bool live, const struct cli_args *args);
/** The same to the report's destination (--output, or stdout). */
int cli_compare_report(struct snap_store *st, const char *command, const struct snap_info *before,
		       const struct snap_info *after, const char *const *roots, size_t nroots,
		       const struct rule_set *rules, bool live, const struct cli_args *args);

/**
 * 0 when @info may be compared (diff, check), else DRIFT_EXIT_DATABASE after
 * saying that it is incomplete: its scan was interrupted, or a baseline was
 * marked so (cli/cmd_diff.c).
 */
int cli_snapshot_comparable(const struct snap_info *info);

/* ---- probes of system state (cli/probes.c) ---- */

/**
 * Check a --probes list (all, none, or probe names, comma-separated) before
 * anything is opened. Returns 0, or -EINVAL with the complaint in @reterr
 * ("unknown probe 'pakage'; did you mean 'package'?"), or -ENOMEM.
 */
int cli_probes_check(const char *list, struct diag *reterr);

/**
 * The probes a scan runs, as names from probe_list: --probes (all, none, or
 * a comma list); else none when the user named paths (@have_paths); else
 * what @base asked for (a check or scan against a baseline); else the
 * policy's. *ret_names is malloc()ed (the strings are static). Returns 0
 * or an exit code.
 */
int cli_probes_select(const struct cli_args *args, const struct rule_set *rules,
		      const struct snap_info *base, bool have_paths, const char ***ret_names,
		      size_t *ret_n);

/**
 * Run params->probes under --root into @w, entries filtered by @rules, and
 * record package ownership when the package probe ran and attribution is
 * on. Returns 0 or an exit code (the writer failed, or an interruption).
 */
int cli_probes_run(struct snap_store *st, struct snap_writer *w, const struct snap_new *params,
		   const struct rule_set *rules, const struct cli_args *args);

/**
 * Append the probes @info holds, for people: "all" (every probe there is
 * was asked for), "none", or "package,user", then " (unavailable: port)"
 * for those asked for whose source was missing. Returns 0 or -ENOMEM.
 */
int cli_probes_format(struct strbuf *sb, const struct snap_info *info);

/**
 * The guard of 'drift init --force' and 'drift baseline SNAPSHOT': whether
 * a new baseline over @roots, running @probes and holding *@entries
 * entries (@entries NULL: not known yet, before a scan), covers less than
 * the current baseline @cur: a root of @cur that none of @roots covers, a
 * probe @cur ran that @probes lacks, or fewer than half @cur's entries.
 * Returns 0 when it does not, or with --narrower; else DRIFT_EXIT_USAGE
 * after saying old -> new and how to ask for it (DRIFT_EXIT_INTERNAL when
 * out of memory).
 */
int cli_baseline_narrower(const struct snap_info *cur, const char *const *roots, size_t nroots,
			  const char *const *probes, size_t nprobes, const uint64_t *entries,
			  const struct cli_args *args);

/** The one line init and scan print: "drift COMMAND: WHAT 'LABEL' (#ID): N entries, ..." */
void cli_print_scan_summary(const char *command, const char *what, const struct snap_info *info,
			    const struct scan_stats *stats);

/** Human-readable sizes and counts for the one-line summaries. */
void cli_format_bytes(char *buf, size_t size, uint64_t bytes);

/** @one when @n is 1, else @many: "1 entry", "2 entries" (both borrowed). */
const char *cli_plural(uint64_t n, const char *one, const char *many);

#endif /* DRIFT_CLI_CLI_H */
