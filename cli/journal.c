/*
 * Findings as structured journal records (cli/journal.h).
 *
 * Components:
 * - the field builder: journal_fields_finding() and journal_fields_summary()
 *   turn a finding, or a run's counts, into "NAME=value" fields in a fixed
 *   buffer, each escaped and cut below JOURNAL_FIELD_MAX. Pure, so the
 *   unit tests check every byte without a journal;
 * - the journal object: which findings are wanted, and the send through the
 *   seam of cli/journal_sys.c (sd_journal_sendv()), latching its first
 *   failure so that a broken journal costs one warning, not one per finding;
 * - cli_journal_open(): --journal LEVEL, and the one warning when this host
 *   has no journal.
 *
 * Why fields are cut at all: journald takes fields far larger than 1 KB,
 * but a path can be 32 KiB here, and a journal that mail filters, log
 * shippers and `journalctl -o json` read is better served by records of a
 * known, small size. The exact path is in the stored run and the reports.
 */
#include "cli/journal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/entry.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "compare/compare.h"
#include "report/report.h"
#include "common/banned.h"

/* The part of the MESSAGE a key may take, so that the rule after it still shows. */
#define MESSAGE_KEY_MAX 600

static const char cut_mark[] = "...";

struct journal {
	enum severity min;
	bool connected; /* the socket was there at open */
	bool failed;    /* a record failed: send nothing more */
	char *command;
	struct journal_fields fields;
};

int journal_priority(enum severity sev)
{
	switch (sev) {
	case SEVERITY_CRITICAL:
		return 2; /* LOG_CRIT */
	case SEVERITY_HIGH:
		return 3; /* LOG_ERR */
	case SEVERITY_MEDIUM:
		return 4; /* LOG_WARNING */
	case SEVERITY_LOW:
		return 5; /* LOG_NOTICE */
	case SEVERITY_INFO:
		break;
	}
	return 6; /* LOG_INFO */
}

/*
 * The length of the longest prefix of @s[0..len) that is at most @max bytes
 * and does not end inside a UTF-8 sequence: the cut backs off over
 * continuation bytes (10xxxxxx) to the start of the character they belong to.
 */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t cut;

	if (len <= max)
		return len;
	cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

/*
 * Append @s[0..len) to @out, cut (with "...") to at most @max bytes.
 * Returns 0 or -ENOMEM.
 */
static int add_cut(struct strbuf *out, const char *s, size_t len, size_t max)
{
	size_t keep;

	if (len <= max)
		return strbuf_add(out, s, len);
	keep = utf8_cut(s, len, max - (sizeof(cut_mark) - 1));
	if (strbuf_add(out, s, keep) < 0 || strbuf_adds(out, cut_mark) < 0)
		return -ENOMEM;
	return 0;
}

/* Add the field NAME=@value[0..len), cut to fit below JOURNAL_FIELD_MAX. */
static void field_add(struct journal_fields *jf, const char *name, const char *value, size_t len)
{
	char *buf = jf->buf[jf->n];
	size_t nlen = strlen(name), room, keep;

	/* Every name is a literal of this file and far shorter than a field. */
	if (jf->n >= JOURNAL_FIELDS_MAX || nlen + 1 + sizeof(cut_mark) >= JOURNAL_FIELD_MAX)
		return;
	memcpy(buf, name, nlen);
	buf[nlen] = '=';
	/* What the value may take: the field stays below JOURNAL_FIELD_MAX, NUL aside. */
	room = JOURNAL_FIELD_MAX - 1 - (nlen + 1);
	if (len <= room) {
		keep = len;
		memcpy(buf + nlen + 1, value, keep);
	} else {
		keep = utf8_cut(value, len, room - (sizeof(cut_mark) - 1));
		memcpy(buf + nlen + 1, value, keep);
		memcpy(buf + nlen + 1 + keep, cut_mark, sizeof(cut_mark) - 1);
		keep += sizeof(cut_mark) - 1;
	}
	buf[nlen + 1 + keep] = '\0';
	jf->iov[jf->n] = (struct iovec){ .iov_base = buf, .iov_len = nlen + 1 + keep };
	jf->n++;
}

static void field_adds(struct journal_fields *jf, const char *name, const char *value)
{
	field_add(jf, name, value, strlen(value));
}

__attribute__((format(printf, 3, 4))) static void field_addf(struct journal_fields *jf,
							     const char *name, const char *fmt, ...)
{
	char value[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n >= 0)
		field_add(jf, name, value, strlen(value));
}

/* Add NAME= the display form of @s[0..len) (common/escape.h). */
static int field_add_escaped(struct journal_fields *jf, struct strbuf *tmp, const char *name,
			     const char *s, size_t len)
{
	strbuf_reset(tmp);
	if (escape_display(tmp, s, len) < 0)
		return -ENOMEM;
	field_add(jf, name, tmp->buf, tmp->len);
	return 0;
}

static void fields_start(struct journal_fields *jf, const char *message_id, int priority,
			 const char *command)
{
	/* MESSAGE goes first: its slot 0 is filled last, once it is built. */
	jf->n = 1;
	field_adds(jf, "MESSAGE_ID", message_id);
	field_addf(jf, "PRIORITY", "%d", priority);
	field_adds(jf, "SYSLOG_IDENTIFIER", "drift");
	field_adds(jf, "DRIFT_COMMAND", command);
}

/* Fill slot 0, kept free by fields_start(), with MESSAGE=@msg. */
static void fields_message(struct journal_fields *jf, const char *msg, size_t len)
{
	size_t n = jf->n;

	jf->n = 0;
	field_add(jf, "MESSAGE", msg, len);
	jf->n = n;
}

/* The attributes a report shows for @f: the rule's, else what changed. */
static uint32_t finding_attrs(const struct finding *f)
{
	if (f->change != CHANGE_MODIFIED)
		return 0;
	if (f->judged && f->attrs)
		return f->attrs;
	return f->changed;
}

/* @attrs' names joined by @sep: "mode,hash". */
static int add_attr_names(struct strbuf *out, uint32_t attrs, const char *sep)
{
	bool first = true;

	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		const char *name = entry_attr_name((enum entry_attr)(1u << i));

		if (!(attrs & (1u << i)) || !name)
			continue;
		if ((!first && strbuf_adds(out, sep) < 0) || strbuf_adds(out, name) < 0)
			return -ENOMEM;
		first = false;
	}
	return 0;
}

bool journal_wants(const struct finding *f, enum severity min)
{
	if (f->novelty == NOVELTY_RESOLVED)
		return false;
	if (!f->judged)
		return min == SEVERITY_INFO;
	if (f->class == CLASS_EXPECTED || f->class == CLASS_WAIVED)
		return false;
	return f->severity >= min;
}

int journal_fields_finding(struct journal_fields *jf, const char *command, const struct finding *f)
{
	const struct entry *e = f->change == CHANGE_REMOVED ? f->before : f->after;
	struct strbuf msg = STRBUF_INIT, tmp = STRBUF_INIT;
	uint32_t attrs = finding_attrs(f);
	const char *kind;
	int r = -ENOMEM;

	if (!e)
		return -EINVAL;
	kind = entry_kind_name(e->kind);
	if (!kind)
		kind = "unknown";

	fields_start(jf, JOURNAL_MESSAGE_ID_FINDING,
		     f->judged ? journal_priority(f->severity) : journal_priority(SEVERITY_INFO),
		     command);

	/* MESSAGE=drift: high: /usr/bin/foo modified (mode, hash): rule ID: REASON */
	if (strbuf_adds(&msg, "drift: ") < 0 ||
	    (f->judged && strbuf_addf(&msg, "%s: ", severity_name(f->severity)) < 0) ||
	    (e->kind != ENTRY_FILE && strbuf_addf(&msg, "%s ", kind) < 0))
		goto out;
	if (escape_display(&tmp, e->key, e->key_len) < 0 ||
	    add_cut(&msg, tmp.buf, tmp.len, MESSAGE_KEY_MAX) < 0)
		goto out;
	if (strbuf_addf(&msg, " %s", change_name(f->change)) < 0)
		goto out;
	if (attrs && (strbuf_adds(&msg, " (") < 0 || add_attr_names(&msg, attrs, ", ") < 0 ||
		      strbuf_addch(&msg, ')') < 0))
		goto out;
	if (f->rule_id && (strbuf_adds(&msg, ": rule ") < 0 ||
			   escape_display(&msg, f->rule_id, strlen(f->rule_id)) < 0))
		goto out;
	if (f->judged && f->reason && *f->reason &&
	    (strbuf_adds(&msg, ": ") < 0 || escape_display(&msg, f->reason, strlen(f->reason)) < 0))
		goto out;
	fields_message(jf, msg.buf, msg.len);

	if (field_add_escaped(jf, &tmp, e->kind == ENTRY_FILE ? "DRIFT_PATH" : "DRIFT_KEY", e->key,
			      e->key_len) < 0)
		goto out;
	field_adds(jf, "DRIFT_KIND", kind);
	field_adds(jf, "DRIFT_CHANGE", change_name(f->change));
	if (f->judged) {
		field_adds(jf, "DRIFT_SEVERITY", severity_name(f->severity));
		field_adds(jf, "DRIFT_CLASS", class_name(f->class));
	}
	if (f->rule_id &&
	    field_add_escaped(jf, &tmp, "DRIFT_RULE", f->rule_id, strlen(f->rule_id)) < 0)
		goto out;
	if (f->judged && f->reason && *f->reason &&
	    field_add_escaped(jf, &tmp, "DRIFT_REASON", f->reason, strlen(f->reason)) < 0)
		goto out;
	if (f->package.name && field_add_escaped(jf, &tmp, "DRIFT_PACKAGE", f->package.name,
						 strlen(f->package.name)) < 0)
		goto out;
	if (f->package.unowned)
		field_adds(jf, "DRIFT_UNOWNED", "1");
	if (attrs) {
		strbuf_reset(&tmp);
		if (add_attr_names(&tmp, attrs, ",") < 0)
			goto out;
		field_add(jf, "DRIFT_ATTRS", tmp.buf, tmp.len);
	}
	if (f->novelty == NOVELTY_NEW)
		field_adds(jf, "DRIFT_NOVELTY", "new");
	else if (f->novelty == NOVELTY_PERSISTING)
		field_adds(jf, "DRIFT_NOVELTY", "persisting");
	r = 0;
out:
	strbuf_release(&msg);
	strbuf_release(&tmp);
	return r;
}

int journal_fields_summary(struct journal_fields *jf, const char *command, const char *summary_line,
			   const struct report_counts *c, int exit_code)
{
	struct strbuf msg = STRBUF_INIT;
	uint64_t counted = c->counted_added + c->counted_removed + c->counted_modified;
	int priority = exit_code >= DRIFT_EXIT_USAGE ? 3 : exit_code || counted ? 4 : 6;

	fields_start(jf, JOURNAL_MESSAGE_ID_SUMMARY, priority, command);
	/* The line may hold display forms already: escape_message() keeps them as they are. */
	if (escape_message(&msg, summary_line, strlen(summary_line)) < 0) {
		strbuf_release(&msg);
		return -ENOMEM;
	}
	fields_message(jf, msg.buf, msg.len);
	strbuf_release(&msg);
	field_addf(jf, "DRIFT_EXIT_STATUS", "%d", exit_code);
	field_addf(jf, "DRIFT_ADDED", "%" PRIu64, c->added);
	field_addf(jf, "DRIFT_REMOVED", "%" PRIu64, c->removed);
	field_addf(jf, "DRIFT_MODIFIED", "%" PRIu64, c->modified);
	field_addf(jf, "DRIFT_COUNTED", "%" PRIu64, counted);
	field_addf(jf, "DRIFT_EXPECTED", "%" PRIu64, c->expected);
	field_addf(jf, "DRIFT_UNREADABLE", "%" PRIu64, c->errors);
	return 0;
}

int journal_open(struct journal **ret, enum severity min, const char *command)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->command = strdup(command ? command : "");
	if (!j->command) {
		free(j);
		return -ENOMEM;
	}
	j->min = min;
	j->connected = journal_sys_available();
	*ret = j;
	return 0;
}

bool journal_connected(const struct journal *j)
{
	return j && j->connected;
}

/* Send what @jf holds, unless there is no journal or it failed before. */
static int journal_send(struct journal *j)
{
	int r;

	if (!j->connected || j->failed)
		return 0;
	r = journal_sys_sendv(j->fields.iov, (int)j->fields.n);
	if (r < 0) {
		j->failed = true;
		return r;
	}
	return 0;
}

int journal_finding(struct journal *j, const struct finding *f)
{
	int r;

	if (!j || !j->connected || j->failed || !journal_wants(f, j->min))
		return 0;
	r = journal_fields_finding(&j->fields, j->command, f);
	if (r < 0) {
		j->failed = true;
		return r;
	}
	return journal_send(j);
}

int journal_summary(struct journal *j, const char *summary_line, const struct report_counts *c,
		    int exit_code)
{
	int r;

	if (!j || !j->connected || j->failed)
		return 0;
	r = journal_fields_summary(&j->fields, j->command, summary_line, c, exit_code);
	if (r < 0) {
		j->failed = true;
		return r;
	}
	return journal_send(j);
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	free(j->command);
	free(j);
}

int cli_journal_open(const struct cli_args *args, const char *command, struct journal **ret)
{
	struct journal *j = NULL;

	if (!args->have_journal) {
		*ret = NULL;
		return 0;
	}
	if (journal_open(&j, args->journal_severity, command) < 0) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (!journal_connected(j))
		cli_warn("--journal: no systemd journal on this host ('%s' is not a socket), "
			 "skipping",
			 JOURNAL_SOCKET);
	*ret = j;
	return 0;
}
