#ifndef DRIFT_CLI_JOURNAL_H
#define DRIFT_CLI_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "common/verdict.h"

/**
 * Findings as structured records in the systemd journal (`--journal LEVEL`):
 * one record per finding of drift at or above LEVEL, and one summary record
 * per run, sent with sd_journal_sendv() so that every field is its own
 * journal field (`journalctl -t drift DRIFT_SEVERITY=critical`).
 *
 *     struct journal *j;
 *     r = journal_open(&j, SEVERITY_HIGH, "check");
 *     if (r == 0 && !journal_connected(j))
 *             cli_warn("no systemd journal here: ..., skipping");
 *     ... for each finding: journal_finding(j, f) ...
 *     journal_summary(j, "drift check: 3 deviations ...", &counts, code);
 *     journal_close(j);
 *
 * A finding's record (MESSAGE_ID JOURNAL_MESSAGE_ID_FINDING):
 *
 *     MESSAGE=drift: high: /usr/bin/foo modified (mode, hash): rule setuid-binaries
 *     PRIORITY=3                      critical 2, high 3, medium 4, low 5, info 6
 *     SYSLOG_IDENTIFIER=drift
 *     DRIFT_COMMAND=check
 *     DRIFT_PATH=/usr/bin/foo         a file's path; DRIFT_KEY= for the other kinds
 *     DRIFT_KIND=file                 file, package, user, group, service...
 *     DRIFT_CHANGE=modified           added, removed, modified
 *     DRIFT_SEVERITY=high             judged findings only
 *     DRIFT_CLASS=drift               judged findings only
 *     DRIFT_RULE=setuid-binaries      when a rule decided
 *     DRIFT_REASON=setuid bit added   when the verdict gives one
 *     DRIFT_PACKAGE=coreutils:amd64   when a package owns it; DRIFT_UNOWNED=1 when unowned
 *     DRIFT_ATTRS=mode,hash           modified only: the attributes shown in reports
 *     DRIFT_NOVELTY=new               with --since-last: new or persisting
 *
 * The summary's (JOURNAL_MESSAGE_ID_SUMMARY): MESSAGE= the report's
 * summary line, PRIORITY 3 when the run failed (exit code 16 or more), 4
 * when it found drift, 6 when clean; DRIFT_COMMAND, DRIFT_EXIT_STATUS,
 * DRIFT_ADDED, DRIFT_REMOVED, DRIFT_MODIFIED (all classes), DRIFT_DRIFT (the
 * deviations that count in the exit code), DRIFT_EXPECTED, DRIFT_UNREADABLE.
 *
 * Every field, "NAME=value" included, is shorter than JOURNAL_FIELD_MAX
 * bytes: a longer value is cut at a UTF-8 character boundary and ends in
 * "...". Keys, paths, rule ids, reasons and package names are in the
 * display form of common/escape.h (control bytes and invalid UTF-8 as
 * \xHH, invisible characters as \uXXXX), so every value is valid UTF-8
 * text; the form is unambiguous, so an uncut path can be recovered exactly.
 *
 * Which findings get a record: judged ones that are not expected (drift,
 * and the reserved violation class) at or above the journal's minimum; an
 * unjudged one (compared without a policy) has no severity and is taken as
 * info, so it gets a record only when the minimum is info (PRIORITY 6, no
 * DRIFT_SEVERITY or DRIFT_CLASS). Resolved findings (--since-last) get
 * none: they are no deviation of the host any more.
 *
 * Where there is no journal (no socket at /run/systemd/journal/socket: a
 * container without systemd, a chroot), journal_open() still succeeds and
 * the journal writes nothing; journal_connected() says so, and the CLI
 * warns once.
 */

struct finding;
struct report_counts;

/** Whole fields ("NAME=value") are shorter than this. */
#define JOURNAL_FIELD_MAX 1024
/** At most this many fields in a record. */
#define JOURNAL_FIELDS_MAX 20

/** The MESSAGE_ID of finding records (`journalctl MESSAGE_ID=...`); made by systemd-id128 new. */
#define JOURNAL_MESSAGE_ID_FINDING "ab8e0555ba5d45a3baa2960653d0ed95"
/** The MESSAGE_ID of the one summary record of a run. */
#define JOURNAL_MESSAGE_ID_SUMMARY "0a9264ac31914732b433ffc9352c34bc"

/** Where journald listens; the record goes nowhere when it is not a socket. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/**
 * One record being built: @n fields in @iov, each pointing into @buf. No
 * allocation; built again for each record.
 */
struct journal_fields {
	struct iovec iov[JOURNAL_FIELDS_MAX];
	size_t n;
	char buf[JOURNAL_FIELDS_MAX][JOURNAL_FIELD_MAX];
};

/** The syslog priority of @sev: critical 2 (crit), high 3 (err), ... info 6 (info). */
int journal_priority(enum severity sev);

/**
 * Whether @f gets a record under the minimum @min: not expected, not
 * resolved, at or above @min (an unjudged finding counts as info).
 */
bool journal_wants(const struct finding *f, enum severity min);

/**
 * Fill @jf with the fields of @f's record (see above) for @command
 * ("check", "diff", "verify"). Pure: sends nothing. Returns 0, or -ENOMEM
 * (escaping), -EINVAL (a finding without the entry its change needs);
 * @jf is then unspecified.
 */
int journal_fields_finding(struct journal_fields *jf, const char *command, const struct finding *f);

/**
 * Fill @jf with the summary record of a run of @command: @summary_line (the
 * report's first line, escaped as messages are) and the counts @c, and the
 * run's @exit_code. Pure. Returns 0 or -ENOMEM.
 */
int journal_fields_summary(struct journal_fields *jf, const char *command, const char *summary_line,
			   const struct report_counts *c, int exit_code);

struct journal;

/**
 * Start writing the records of a run of @command (borrowed only during the
 * call: it is copied), with one record per finding at or above @min.
 * Succeeds also where there is no journal (see journal_connected()).
 * Returns 0 and *@ret (free with journal_close()), or -ENOMEM; *@ret is
 * untouched on failure.
 */
int journal_open(struct journal **ret, enum severity min, const char *command);

/** Whether the records go anywhere: false when there was no journal socket at open. */
bool journal_connected(const struct journal *j);

/**
 * One record for @f when journal_wants() it. Returns 0 (sent, not wanted,
 * or no journal), or the first failure to build or send a record as a
 * negative errno: the journal then stops sending, and every later call
 * returns 0, so that the caller warns once and carries on.
 */
int journal_finding(struct journal *j, const struct finding *f);

/**
 * The one summary record of the run: @summary_line (the report's first
 * line), the counts @c and the run's @exit_code. Returns as
 * journal_finding().
 */
int journal_summary(struct journal *j, const char *summary_line, const struct report_counts *c,
		    int exit_code);

/** Free @j; accepts NULL. */
void journal_close(struct journal *j);

struct cli_args;

/**
 * journal_open() for `--journal LEVEL` of @args: *@ret is NULL when the
 * option was not given. Where there is no journal, warns once on stderr
 * ("no systemd journal ..., skipping") and succeeds. Returns 0, or an exit
 * code after printing why.
 */
int cli_journal_open(const struct cli_args *args, const char *command, struct journal **ret);

/*
 * The seam (cli/journal_sys.c), in a file of its own so that tests can
 * replace it with -Wl,--wrap=journal_sys_available,--wrap=journal_sys_sendv.
 */

/** Whether JOURNAL_SOCKET exists as a socket. */
bool journal_sys_available(void);
/** sd_journal_sendv(): 0 or a negative errno. */
int journal_sys_sendv(const struct iovec *iov, int n);

#endif /* DRIFT_CLI_JOURNAL_H */
