/*
 * apt's history and dpkg's log: which package changes were made between two
 * snapshots, by which command, at whose request.
 *
 *  - var/log/apt/history.log: one stanza per apt run ("Start-Date:",
 *    "Commandline:", "Requested-By:", "Install:", "Upgrade:", "Remove:",
 *    "Purge:", "Downgrade:", "Reinstall:", "End-Date:"); its package lists
 *    read "name:arch (version[, automatic])" or, for an upgrade or
 *    downgrade, "name:arch (old, new)".
 *  - var/log/dpkg.log: one line per action, "DATE TIME ACTION PKG OLD NEW"
 *    for install, upgrade, remove and purge ("<none>" where there is no
 *    version), and "DATE TIME status STATE PKG VERSION", "startup" and
 *    "trigproc" lines that say only that dpkg ran.
 *
 * Both are read with their first rotation (.1, uncompressed); older,
 * compressed rotations are not read. Times are the host's local time, as
 * both write them. An apt run counts when it overlaps the window (the
 * apt hook's pre snapshot is taken inside the run); a dpkg line when it
 * lies in it.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "scanner/probe.h"
#include "common/banned.h"

enum act { ACT_INSTALL, ACT_UPGRADE, ACT_REMOVE };

/* One package change of a log. */
struct pkg_change {
	char *key; /* "name:arch", as both logs write it */
	char *to;  /* the version installed; NULL: removed */
	size_t event;
};

struct history {
	struct history_event *events;
	size_t nevents, aevents;
	char **strings; /* owned by the history: command lines, users */
	size_t nstrings, astrings;
	struct pkg_change *changes;
	size_t nchanges, achanges;
	bool dpkg_ran;
	int64_t from_s, to_s;
};

static int grow(void **p, size_t *alloc, size_t n, size_t size)
{
	if (n < *alloc)
		return 0;
	size_t na = *alloc ? *alloc * 2 : 64;
	void *np = realloc(*p, na * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*alloc = na;
	return 0;
}

static const char *keep(struct history *h, const char *s, size_t len)
{
	char *c;

	if (grow((void **)&h->strings, &h->astrings, h->nstrings, sizeof(*h->strings)) < 0)
		return NULL;
	c = strndup(s, len);
	if (c)
		h->strings[h->nstrings++] = c;
	return c;
}

static int add_event(struct history *h, int64_t t, bool apt, size_t *ret)
{
	if (grow((void **)&h->events, &h->aevents, h->nevents, sizeof(*h->events)) < 0)
		return -ENOMEM;
	h->events[h->nevents] = (struct history_event){ .time_ns = t * 1000000000LL, .apt = apt };
	*ret = h->nevents++;
	return 0;
}

static int add_change(struct history *h, const char *key, size_t klen, const char *to, size_t tolen,
		      size_t event)
{
	struct pkg_change *c;

	if (grow((void **)&h->changes, &h->achanges, h->nchanges, sizeof(*h->changes)) < 0)
		return -ENOMEM;
	c = &h->changes[h->nchanges];
	c->key = strndup(key, klen);
	c->to = to ? strndup(to, tolen) : NULL;
	c->event = event;
	if (!c->key || (to && !c->to)) {
		free(c->key);
		free(c->to);
		return -ENOMEM;
	}
	h->nchanges++;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS" (any run of blanks between) in local time: seconds, or -1. */
static int64_t parse_time(const char *s, const char **end)
{
	struct tm tm = { 0 };
	int n = 0;

	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	if (end)
		*end = s + n;
	return (int64_t)mktime(&tm);
}

/* ---- apt's history ---- */

/*
 * The package list of an "Install:"-like field: "a:amd64 (1.0), b:all
 * (2.0, automatic)"; an upgrade's "(old, new)". @act decides which version
 * is the one installed.
 */
static int apt_list(struct history *h, const char *s, enum act act, size_t event)
{
	while (*s) {
		const char *name, *open, *close;
		size_t nlen;

		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		name = s;
		open = strchr(s, '(');
		if (!open)
			return 0; /* malformed: what was read stands */
		close = strchr(open, ')');
		if (!close)
			return 0;
		nlen = (size_t)(open - name);
		while (nlen && name[nlen - 1] == ' ')
			nlen--;
		if (act == ACT_REMOVE) {
			if (add_change(h, name, nlen, NULL, 0, event) < 0)
				return -ENOMEM;
		} else {
			/* "(1.0)", "(1.0, automatic)" or an upgrade's "(1.0, 1.1)". */
			const char *v = open + 1, *comma = memchr(v, ',', (size_t)(close - v));
			const char *ve = comma ? comma : close;

			if (act == ACT_UPGRADE && comma) {
				v = comma + 1;
				while (*v == ' ')
					v++;
				ve = close;
			}
			if (add_change(h, name, nlen, v, (size_t)(ve - v), event) < 0)
				return -ENOMEM;
		}
		s = close + 1;
	}
	return 0;
}

static int apt_load(struct history *h, const char *buf)
{
	static const struct {
		const char *field;
		enum act act;
	} lists[] = {
		{ "Install: ", ACT_INSTALL }, { "Reinstall: ", ACT_INSTALL },
		{ "Upgrade: ", ACT_UPGRADE }, { "Downgrade: ", ACT_UPGRADE },
		{ "Remove: ", ACT_REMOVE },   { "Purge: ", ACT_REMOVE },
	};
	bool in = false; /* inside a stanza of the window */
	size_t ev = 0;
	size_t mark = 0; /* the changes before the stanza's */
	int64_t start = -1;

	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *l = strndup(line, len);
		int64_t t;

		if (!l)
			return -ENOMEM;
		line = nl ? nl + 1 : NULL;
		if (!strncmp(l, "Start-Date:", 11)) {
			in = false;
			mark = h->nchanges;
			start = parse_time(l + 11 + strspn(l + 11, " "), NULL);
			if (start >= 0 && start <= h->to_s) {
				if (add_event(h, start, true, &ev) < 0) {
					free(l);
					return -ENOMEM;
				}
				in = true;
				if (start >= h->from_s)
					h->dpkg_ran = true;
			}
		} else if (in && !strncmp(l, "Commandline: ", 13)) {
			h->events[ev].commandline = keep(h, l + 13, strlen(l + 13));
		} else if (in && !strncmp(l, "Requested-By: ", 14)) {
			/* "alice (1000)": the name. */
			size_t n = strcspn(l + 14, " (");
			h->events[ev].requested_by = keep(h, l + 14, n);
		} else if (in && !strncmp(l, "End-Date:", 9)) {
			t = parse_time(l + 9 + strspn(l + 9, " "), NULL);
			if (t >= 0 && t < h->from_s) {
				/* Ended before the window: none of its changes are in it. */
				while (h->nchanges > mark) {
					h->nchanges--;
					free(h->changes[h->nchanges].key);
					free(h->changes[h->nchanges].to);
				}
				h->nevents--;
				in = false;
			} else {
				h->dpkg_ran = true;
			}
		}
		if (in) {
			for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
				size_t fl = strlen(lists[i].field);
				if (!strncmp(l, lists[i].field, fl)) {
					if (apt_list(h, l + fl, lists[i].act, ev) < 0) {
						free(l);
						return -ENOMEM;
					}
				}
			}
		}
		free(l);
	}
	return 0;
}

/* ---- dpkg's log ---- */

static int dpkg_load(struct history *h, const char *buf)
{
	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n'), *rest;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *l = strndup(line, len), *f[4] = { 0 }, *save = NULL;
		int64_t t;
		size_t ev;
		int nf = 0;

		if (!l)
			return -ENOMEM;
		line = nl ? nl + 1 : NULL;
		t = parse_time(l, &rest);
		if (t < h->from_s || t > h->to_s) {
			free(l);
			continue;
		}
		h->dpkg_ran = true;
		for (char *tok = strtok_r(l + (rest - l), " ", &save); tok && nf < 4;
		     tok = strtok_r(NULL, " ", &save))
			f[nf++] = tok;
		if (nf == 4 && (!strcmp(f[0], "install") || !strcmp(f[0], "upgrade") ||
				!strcmp(f[0], "remove") || !strcmp(f[0], "purge"))) {
			bool removed = !strcmp(f[3], "<none>");
			if (add_event(h, t, false, &ev) < 0 ||
			    add_change(h, f[1], strlen(f[1]), removed ? NULL : f[3],
				       removed ? 0 : strlen(f[3]), ev) < 0) {
				free(l);
				return -ENOMEM;
			}
		}
		free(l);
	}
	return 0;
}

static int load_file(struct history *h, int rootfd, const char *path, bool apt, struct diag *reterr)
{
	char *buf = NULL;
	size_t len = 0;
	int r = probe_read_file(rootfd, path, &buf, &len);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		/* Unreadable logs explain nothing; the comparison goes on. */
		return 0;
	}
	r = apt ? apt_load(h, buf) : dpkg_load(h, buf);
	free(buf);
	if (r < 0)
		return diag_set(reterr, r, "out of memory");
	return 1;
}

int history_load(int rootfd, int64_t from_ns, int64_t to_ns, struct history **ret,
		 struct diag *reterr)
{
	static const struct {
		const char *path;
		bool apt;
	} logs[] = {
		{ "var/log/apt/history.log.1", true },
		{ "var/log/apt/history.log", true },
		{ "var/log/dpkg.log.1", false },
		{ "var/log/dpkg.log", false },
	};
	struct history *h;
	int found = 0, r;

	*ret = NULL;
	if (rootfd < 0)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return diag_set(reterr, -ENOMEM, "out of memory");
	/* Logs count whole seconds: the window is widened to them. */
	h->from_s = from_ns / 1000000000LL;
	h->to_s = (to_ns + 999999999LL) / 1000000000LL;
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		r = load_file(h, rootfd, logs[i].path, logs[i].apt, reterr);
		if (r < 0) {
			history_free(h);
			return r;
		}
		found += r;
	}
	if (!found) {
		history_free(h);
		return 0;
	}
	*ret = h;
	return 0;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nstrings; i++)
		free(h->strings[i]);
	for (size_t i = 0; i < h->nchanges; i++) {
		free(h->changes[i].key);
		free(h->changes[i].to);
	}
	free(h->strings);
	free(h->changes);
	free(h->events);
	free(h);
}

bool history_dpkg_ran(const struct history *h)
{
	return h && h->dpkg_ran;
}

/* Whether the log's "name:arch" @key is package @name (of @arch, or any). */
static bool key_is(const char *key, const char *name, const char *arch)
{
	size_t n = strlen(name);

	if (strncmp(key, name, n) || (key[n] != ':' && key[n] != '\0'))
		return false;
	/* apt's history names an Architecture: all package with the native architecture. */
	return !arch || (key[n] == ':' && (!strcmp(key + n + 1, arch) || !strcmp(arch, "all")));
}

const struct history_event *history_find(const struct history *h, const char *name,
					 const char *arch, const char *was, const char *now)
{
	const struct history_event *found = NULL;

	(void)was; /* a chain of upgrades in the window ends in @now: the last step decides */
	if (!h)
		return NULL;
	for (int pass = 0; pass < 2 && !found; pass++) {
		bool apt = pass == 0;

		/* The last record in the window is the one that left the package so. */
		for (size_t i = h->nchanges; i-- > 0;) {
			const struct pkg_change *c = &h->changes[i];
			const struct history_event *e = &h->events[c->event];

			if (e->apt != apt || !key_is(c->key, name, arch))
				continue;
			if (now ? (c->to && !strcmp(c->to, now)) : !c->to) {
				found = e;
				break;
			}
		}
	}
	return found;
}
