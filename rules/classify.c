/*
 * Classification: how much one deviation matters under the policy.
 *
 *     rule_set_match()          the rule covering the path (none: not reported)
 *     attrs & rule->attrs       what changed that the rule checks (none: not reported)
 *     grow, expect              class: expected when they explain every change
 *     escalations               setuid, world-writable, executables: at least high
 *     reason                    one short phrase; the report shows the details
 *
 * Entries of system state (packages, users, ports...) go the same way under
 * the rules of their kind, with their props compared here to name what
 * changed, and their own escalations: accounts with uid 0 or without a
 * password, new listening ports, new kernel modules.
 *
 * Also the small accessors of struct rule.
 */
#include "rules/rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include "common/pattern.h"
#include "rules/internal.h"
#include "common/banned.h"

uint32_t rule_attrs(const struct rule *rule)
{
	return rule->attrs;
}

uint32_t rule_set_attrs(const struct rule_set *rs)
{
	uint32_t attrs = 0;

	for (size_t i = 0; i < rs->nrules; i++)
		attrs |= rs->rules[i].attrs;
	return attrs;
}

const char *rule_remediate_name(enum rule_remediate r)
{
	switch (r) {
	case RULE_REMEDIATE_NO:
		return "no";
	case RULE_REMEDIATE_PLAN:
		return "plan";
	case RULE_REMEDIATE_AUTO:
		return "auto";
	}
	return "no";
}

enum rule_remediate rule_remediate(const struct rule *rule)
{
	return rule ? rule->remediate : RULE_REMEDIATE_NO;
}

bool rule_magic(const struct rule *rule)
{
	return rule->magic;
}

const char *rule_id(const struct rule *rule)
{
	return rule->id;
}

const char *rule_title(const struct rule *rule)
{
	return rule->title;
}

const char *rule_file(const struct rule *rule)
{
	return rule->file;
}

unsigned rule_line(const struct rule *rule)
{
	return rule->line;
}

enum severity rule_severity(const struct rule *rule)
{
	return rule->severity;
}

enum entry_kind rule_kind(const struct rule *rule)
{
	return rule->kind;
}

unsigned rule_column(const struct rule *rule)
{
	return rule->col;
}

enum severity rule_when_added(const struct rule *rule)
{
	return rule->when_added;
}

bool rule_exclude(const struct rule *rule)
{
	return rule->exclude;
}

const char *rule_pattern(const struct rule *rule)
{
	return rule->text ? rule->text : pattern_text(rule->pat);
}

size_t rule_list_names(const struct rule *rule, enum rule_list which, const char **ret_names,
		       size_t max)
{
	uint32_t mask = which == RULE_LIST_CHECK    ? rule->check & ~rule->ignore
			: which == RULE_LIST_IGNORE ? rule->ignore
						    : rule->expect;
	size_t n = 0;

	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (n < max)
			ret_names[n] = entry_attr_name((enum entry_attr)(1u << i));
		n++;
	}
	if (mask & RULE_GROW) {
		if (n < max)
			ret_names[n] = "grow";
		n++;
	}
	return n;
}

/* /bin, /sbin, /lib*, /usr, /etc, /boot and what is below them. */
static bool in_system_dir(const char *path, size_t len)
{
	static const char *const dirs[] = { "bin", "sbin", "usr", "etc", "boot" };
	const char *c = path + 1, *end;
	size_t n;

	if (len < 2 || path[0] != '/')
		return false;
	end = memchr(c, '/', len - 1);
	n = end ? (size_t)(end - c) : len - 1;
	if (n >= 3 && memcmp(c, "lib", 3) == 0)
		return true;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (n == strlen(dirs[i]) && memcmp(c, dirs[i], n) == 0)
			return true;
	return false;
}

enum exec_kind { EXEC_NONE, EXEC_ELF, EXEC_LIB, EXEC_SCRIPT };

/* What libmagic's MIME type (maybe with "; charset=...") says about running it. */
static enum exec_kind mime_exec_kind(const char *mime)
{
	static const char *const elf[] = { "application/x-executable",
					   "application/x-pie-executable" };
	static const char *const scripts[] = { "text/x-shellscript", "text/x-perl", "text/x-python",
					       "text/x-ruby",        "text/x-php",  "text/x-lua",
					       "text/x-tcl",         "text/x-awk" };
	size_t n;

	if (!mime)
		return EXEC_NONE;
	n = strcspn(mime, "; ");
	for (size_t i = 0; i < sizeof(elf) / sizeof(elf[0]); i++)
		if (n == strlen(elf[i]) && !memcmp(mime, elf[i], n))
			return EXEC_ELF;
	if (n == strlen("application/x-sharedlib") && !memcmp(mime, "application/x-sharedlib", n))
		return EXEC_LIB;
	if (n > strlen("text/x-script.") && !memcmp(mime, "text/x-script.", 14))
		return EXEC_SCRIPT;
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		if (n == strlen(scripts[i]) && !memcmp(mime, scripts[i], n))
			return EXEC_SCRIPT;
	return EXEC_NONE;
}

static const char *type_word(uint32_t mode)
{
	const char *t = entry_type_name(mode);

	return strcmp(t, "dir") ? t : "directory";
}

/* The phrase for the most telling attribute in @d, plus how many more. */
static void describe(uint32_t d, const struct entry *before, const struct entry *after, char *buf,
		     size_t size)
{
	/* A device's number is its content: what opening it reaches. */
	static const uint32_t order[] = {
		ATTR_ERROR, ATTR_TYPE, ATTR_TARGET, ATTR_HASH, ATTR_RDEV,
		ATTR_MODE,  ATTR_UID,  ATTR_GID,    ATTR_SIZE, ATTR_INODE
	};
	uint32_t primary = 0, rest;
	const char *s;
	int n = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !primary; i++)
		if (d & order[i])
			primary = order[i];
	for (unsigned i = 0; i < ATTR__COUNT && !primary; i++)
		if (d & (1u << i))
			primary = 1u << i;

	switch (primary) {
	case ATTR_ERROR:
		s = after->err ? strerrordesc_np(after->err) : NULL;
		if (after->err)
			n = snprintf(buf, size, "cannot read: %s", s ? s : "unknown error");
		else
			n = snprintf(buf, size, "readable again");
		break;
	case ATTR_TYPE:
		n = snprintf(buf, size, "type changed %s -> %s", type_word(before->mode),
			     type_word(after->mode));
		break;
	case ATTR_TARGET:
		n = snprintf(buf, size, "symlink target changed");
		break;
	case ATTR_HASH:
		n = snprintf(buf, size, "content changed");
		break;
	case ATTR_RDEV:
		n = snprintf(buf, size, "device number changed %u,%u -> %u,%u",
			     major((dev_t)before->rdev), minor((dev_t)before->rdev),
			     major((dev_t)after->rdev), minor((dev_t)after->rdev));
		break;
	case ATTR_MODE:
		n = snprintf(buf, size, "mode changed %04o -> %04o",
			     (unsigned)(before->mode & 07777), (unsigned)(after->mode & 07777));
		break;
	case ATTR_UID:
		n = snprintf(buf, size, "owner changed %u -> %u", (unsigned)before->uid,
			     (unsigned)after->uid);
		break;
	case ATTR_GID:
		n = snprintf(buf, size, "group changed %u -> %u", (unsigned)before->gid,
			     (unsigned)after->gid);
		break;
	case ATTR_SIZE:
		n = snprintf(buf, size, "size changed");
		break;
	case ATTR_INODE:
		n = snprintf(buf, size, "replaced (new inode)");
		break;
	default:
		s = entry_attr_name((enum entry_attr)primary);
		n = snprintf(buf, size, "%s changed", s ? s : "attribute");
		break;
	}

	/* A content change brings its size and times along: not news. */
	rest = d & ~primary & ~(uint32_t)ATTR_CTIME;
	if (primary == ATTR_HASH)
		rest &= ~(uint32_t)(ATTR_SIZE | ATTR_MTIME);
	if (rest && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (+%d more)", __builtin_popcount(rest));
}

/* The escalation that applies, if any: its reason into buf. */
static bool escalation(const struct rule *rule, enum change change, const struct entry *before,
		       const struct entry *after, uint32_t attrs, const char *mime, char *buf,
		       size_t size)
{
	const uint32_t suid = S_ISUID | S_ISGID;
	bool added = change == CHANGE_ADDED ||
		     (before && (before->mode & S_IFMT) != (after->mode & S_IFMT));

	if (S_ISREG(after->mode) && (after->mode & suid)) {
		const char *what = after->mode & S_ISUID ? "setuid" : "setgid";
		if (added) {
			snprintf(buf, size, "new %s file", what);
			return true;
		}
		if (after->mode & suid & ~before->mode) {
			what = after->mode & S_ISUID & ~before->mode ? "setuid" : "setgid";
			snprintf(buf, size, "%s bit added", what);
			return true;
		}
	}
	if (!S_ISLNK(after->mode) && (after->mode & S_IWOTH) && !(after->mode & S_ISVTX) &&
	    in_system_dir(after->key, after->key_len) &&
	    (added || !(before->mode & S_IWOTH) || (before->mode & S_ISVTX))) {
		snprintf(buf, size, "world-writable in a system directory");
		return true;
	}
	if (rule->magic && S_ISREG(after->mode) &&
	    (added || (attrs & (ATTR_HASH | ATTR_SIZE | ATTR_TYPE | ATTR_MIME)))) {
		static const char *const names[] = { NULL, "ELF executable", "ELF shared library",
						     "script" };
		enum exec_kind k = mime_exec_kind(mime);
		if (k != EXEC_NONE) {
			snprintf(buf, size, "%s %s", added ? "new" : "changed", names[k]);
			return true;
		}
	}
	return false;
}

/* ---- system state ---- */

/* Whether the prop @name of @e is exactly @value. */
static bool prop_is(const struct entry *e, const char *name, const char *value)
{
	const uint8_t *v;
	size_t vl;

	return e && entry_xattrs_get(e->props, e->props_len, name, &v, &vl) == 1 &&
	       vl == strlen(value) && memcmp(v, value, vl) == 0;
}

/* The next pair of a props blob, or false at its end (or where it is malformed). */
static bool prop_next(const struct entry *e, size_t *pos, const char **name, size_t *nl,
		      const uint8_t **value, size_t *vl)
{
	return entry_xattrs_next(e->props, e->props_len, pos, name, nl, value, vl) > 0;
}

static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

/*
 * The properties that say most, named first when several changed: a
 * changed password also changes its last_change date, and a package
 * upgrade its size. Any other property ranks after these, by name.
 */
static const char *const telling_props[] = { "uid",     "gid",   "password", "password_digest",
					     "version", "value", "state",    "status" };
#define NTELLING (sizeof(telling_props) / sizeof(telling_props[0]))

static size_t prop_rank(const char *name, size_t len)
{
	for (size_t i = 0; i < NTELLING; i++)
		if (len == strlen(telling_props[i]) && !memcmp(name, telling_props[i], len))
			return i;
	return NTELLING;
}

/*
 * "version changed", "value changed"...: the most telling property that
 * differs between @before and @after (telling_props, then by name), "added" or
 * "removed" when only one side has it, plus how many more differ. Both
 * blobs are sorted, so one merge pass finds them.
 */
static void describe_props(const struct entry *before, const struct entry *after, char *buf,
			   size_t size)
{
	size_t po = 0, pn = 0, ol = 0, nl = 0, ovl = 0, nvl = 0, first_len = 0;
	const char *on = NULL, *nn = NULL, *first = NULL;
	const uint8_t *ov = NULL, *nv = NULL;
	const char *how = "changed";
	size_t first_rank = SIZE_MAX;
	unsigned count = 0;
	bool ho = prop_next(before, &po, &on, &ol, &ov, &ovl);
	bool hn = prop_next(after, &pn, &nn, &nl, &nv, &nvl);
	int n;

	while (ho || hn) {
		int c = !ho ? 1 : !hn ? -1 : name_cmp(on, ol, nn, nl);
		const char *name = c <= 0 ? on : nn;
		size_t len = c <= 0 ? ol : nl;
		bool differs = c != 0 || ovl != nvl || (ovl && memcmp(ov, nv, ovl) != 0);

		if (differs) {
			size_t rank = prop_rank(name, len);
			count++;
			if (rank < first_rank) {
				first = name;
				first_len = len;
				first_rank = rank;
				how = c < 0 ? "removed" : c > 0 ? "added" : "changed";
			}
		}
		if (c <= 0)
			ho = prop_next(before, &po, &on, &ol, &ov, &ovl);
		if (c >= 0)
			hn = prop_next(after, &pn, &nn, &nl, &nv, &nvl);
	}
	if (!first) {
		snprintf(buf, size, "properties changed");
		return;
	}
	if (first_len > 64)
		first_len = 64;
	n = snprintf(buf, size, "%.*s %s", (int)first_len, first, how);
	if (count > 1 && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (+%u more)", count - 1);
}

/* Whether a port key "proto/address:port" listens on a loopback address only. */
static bool port_is_loopback(const char *key, size_t len)
{
	const char *slash = memchr(key, '/', len), *addr, *colon = NULL;
	char text[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	if (!slash)
		return false;
	addr = slash + 1;
	for (const char *c = addr; c < key + len; c++)
		if (*c == ':')
			colon = c;
	if (!colon)
		return false;
	n = (size_t)(colon - addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, addr, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, text, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/*
 * The escalation of an added or modified entry of system state, if any:
 * the severity it raises to (*ret_floor) and its reason into buf.
 */
static bool state_escalation(enum change change, const struct entry *before,
			     const struct entry *after, enum severity *ret_floor, char *buf,
			     size_t size)
{
	bool added = change == CHANGE_ADDED;
	const char *reason = NULL;

	*ret_floor = SEVERITY_HIGH;
	switch (after->kind) {
	case ENTRY_USER:
		if (prop_is(after, "uid", "0") && (added || !prop_is(before, "uid", "0"))) {
			*ret_floor = SEVERITY_CRITICAL;
			reason = added ? "new account with uid 0" : "uid changed to 0";
		} else if (prop_is(after, "password", "none") &&
			   (added || !prop_is(before, "password", "none"))) {
			reason = "account without password";
		}
		break;
	case ENTRY_GROUP:
		if (prop_is(after, "gid", "0") && (added || !prop_is(before, "gid", "0"))) {
			*ret_floor = SEVERITY_CRITICAL;
			reason = added ? "new group with gid 0" : "gid changed to 0";
		}
		break;
	case ENTRY_PORT:
		if (added && !port_is_loopback(after->key, after->key_len))
			reason = "new listening port";
		break;
	case ENTRY_MODULE:
		if (added)
			reason = "new kernel module";
		break;
	default:
		break;
	}
	if (!reason)
		return false;
	snprintf(buf, size, "%s", reason);
	return true;
}

/* rule_set_classify() for an entry of system state, from the common start @v. */
static bool classify_state(const struct rule *rule, enum change change, const struct entry *before,
			   const struct entry *after, struct rule_verdict *ret_verdict,
			   struct rule_verdict *v)
{
	enum severity floor;

	switch (change) {
	case CHANGE_ADDED:
		v->severity = rule->when_added;
		snprintf(v->reason, sizeof(v->reason), "new %s", entry_kind_name(after->kind));
		break;
	case CHANGE_REMOVED:
		snprintf(v->reason, sizeof(v->reason), "removed");
		break;
	case CHANGE_MODIFIED:
		if (!v->attrs)
			return false;
		if (!(v->attrs & ~(rule->expect & RULE_ATTR_ALL)))
			v->class = CLASS_EXPECTED;
		if (v->attrs & ATTR_PROPS)
			describe_props(before, after, v->reason, sizeof(v->reason));
		else
			describe(v->attrs, before, after, v->reason, sizeof(v->reason));
		break;
	}
	if (change != CHANGE_REMOVED &&
	    state_escalation(change, before, after, &floor, v->reason, sizeof(v->reason)) &&
	    v->severity < floor)
		v->severity = floor;
	*ret_verdict = *v;
	return true;
}

/*
 * Whether what changed of a file, @attrs under @rule, is its times alone
 * (and the inode of a rewrite): the content of its type (a regular file's
 * digest, a symlink's target, a device's number), its mode, owner, links
 * and extended attributes are checked by the rule and the same.
 */
static bool times_only(const struct rule *rule, const struct entry *before,
		       const struct entry *after, uint32_t attrs)
{
	uint32_t content;

	if (!attrs || (attrs & ~(ATTR_MTIME | ATTR_CTIME | ATTR_INODE)))
		return false;
	if ((before->mode & S_IFMT) != (after->mode & S_IFMT))
		return false;
	switch (after->mode & S_IFMT) {
	case S_IFREG:
		/* The digests must both be there to say the bytes are the same. */
		if (!before->hash_len || before->hash_len != after->hash_len ||
		    before->hash_algo != after->hash_algo || before->err || after->err)
			return false;
		content = ATTR_HASH | ATTR_SIZE;
		break;
	case S_IFLNK:
		content = ATTR_TARGET;
		break;
	case S_IFCHR:
	case S_IFBLK:
		content = ATTR_RDEV;
		break;
	default:
		content = 0;
		break;
	}
	return (rule->attrs & (content | ATTR_MODE | ATTR_UID | ATTR_GID)) ==
	       (content | ATTR_MODE | ATTR_UID | ATTR_GID);
}

bool rule_set_classify(const struct rule_set *rs, enum change change, const struct entry *before,
		       const struct entry *after, uint32_t attrs, const char *mime,
		       struct rule_verdict *ret_verdict)
{
	const struct entry *e = after ? after : before;

	if (!e)
		return false;
	return rule_classify(rule_set_match_kind(rs, e->kind, e->key, e->key_len), change, before,
			     after, attrs, mime, ret_verdict);
}

bool rule_classify(const struct rule *rule, enum change change, const struct entry *before,
		   const struct entry *after, uint32_t attrs, const char *mime,
		   struct rule_verdict *ret_verdict)
{
	const struct entry *e = after ? after : before;
	struct rule_verdict v;

	if (!rule || !e || (change == CHANGE_ADDED && !after) ||
	    (change == CHANGE_REMOVED && !before) ||
	    (change == CHANGE_MODIFIED && (!before || !after)))
		return false;
	if (before && after && before->kind != after->kind)
		return false;
	if (rule->kind != e->kind)
		return false;

	memset(&v, 0, sizeof(v));
	v.rule = rule;
	v.class = CLASS_DRIFT;
	v.severity = rule->severity;
	v.attrs = attrs & rule->attrs;

	if (e->kind != ENTRY_FILE)
		return classify_state(rule, change, before, after, ret_verdict, &v);

	switch (change) {
	case CHANGE_ADDED:
		v.severity = rule->when_added;
		snprintf(v.reason, sizeof(v.reason), "new %s", type_word(after->mode));
		break;
	case CHANGE_REMOVED:
		snprintf(v.reason, sizeof(v.reason), "removed");
		break;
	case CHANGE_MODIFIED: {
		uint32_t d = v.attrs, explained = 0, rest, expect = rule->expect & RULE_ATTR_ALL;
		bool grow = ((rule->check | rule->expect) & ~rule->ignore & RULE_GROW) != 0;
		bool replaced = grow && before->ino != after->ino;
		bool shrank = grow && (d & ATTR_SIZE) && after->size < before->size;

		if (!d)
			return false;
		if (grow && !replaced && after->size > before->size)
			explained = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_HASH;
		rest = d & ~explained;
		if (!(rest & ~expect))
			v.class = CLASS_EXPECTED;
		if (replaced)
			snprintf(v.reason, sizeof(v.reason), "log replaced");
		else if (shrank)
			snprintf(v.reason, sizeof(v.reason), "log shrank");
		else if (!rest)
			snprintf(v.reason, sizeof(v.reason), "log grew");
		else
			describe(rest & ~expect ? rest & ~expect : rest, before, after, v.reason,
				 sizeof(v.reason));
		break;
	}
	}

	if (change == CHANGE_MODIFIED && v.class == CLASS_DRIFT &&
	    times_only(rule, before, after, v.attrs)) {
		/* Five files rewritten with the same bytes are not five alarms. */
		v.severity = SEVERITY_INFO;
		if (attrs & ATTR_INODE) /* whether or not the rule checks it */
			snprintf(v.reason, sizeof(v.reason), "rewritten with the same content");
		else
			snprintf(v.reason, sizeof(v.reason), "times changed only");
	}
	if (change != CHANGE_REMOVED &&
	    escalation(rule, change, before, after, attrs, mime, v.reason, sizeof(v.reason)) &&
	    v.severity < SEVERITY_HIGH)
		v.severity = SEVERITY_HIGH;

	*ret_verdict = v;
	return true;
}
