/*
 * What package work writes beside the files dpkg lists, explained by the
 * records the system keeps of it.
 *
 * dpkg's own files are attrib.c's: their sums are in the package data of
 * the snapshots. Maintainer scripts and triggers write more: byte-code,
 * configuration through ucf, alternatives, service links, accounts,
 * caches. Each source here explains what it can prove by a record (the
 * .pyc's header and its packaged source, ucf's registry and hashfile,
 * the alternatives database, deb-systemd-helper's state, the maintainer
 * scripts, apt's history and dpkg's log), never by a path or a time
 * alone; what none of them proves stays drift.
 *
 *     explain_deviation()    a deviation the policy and dpkg left as drift
 *       ucf_explain()          configuration ucf installed (ucf.c)
 *       pyc_explain()          Python byte-code (pyc.c)
 *       alternatives_explain() update-alternatives' links (alternatives.c)
 *       enablement_explain()   service links and entries (enablement.c)
 *       accounts_explain()     system accounts and their files (accounts.c)
 *       triggers_explain()     caches dpkg's triggers rewrite (here)
 *       events_explain()       package entries, by apt's history (here)
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/banned.h"

int explain_open(struct explain *x, struct snap_store *st, const struct snap_info *before,
		 const struct snap_info *after, const struct rule_set *rules, int rootfd,
		 struct attrib *a, struct live *live, struct diag *reterr)
{
	int64_t to;

	memset(x, 0, sizeof(*x));
	x->st = st;
	x->before = before;
	x->after = after;
	x->rules = rules;
	x->rootfd = rootfd;
	x->attrib = a;
	x->live = live;
	/* From the start of the older scan to the end of the newer one. */
	to = after->finished_ns ? after->finished_ns : after->started_ns;
	if (to < after->started_ns)
		to = after->started_ns;
	return history_load(rootfd, before->started_ns, to, &x->history, reterr);
}

void explain_close(struct explain *x)
{
	pyc_free(x->pyc);
	ucf_free(x->ucf);
	alternatives_free(x->alt);
	enablement_free(x->enable);
	accounts_free(x->accounts);
	history_free(x->history);
	memset(x, 0, sizeof(*x));
	x->rootfd = -1;
}

/*
 * Trigger outputs: caches and databases that dpkg's triggers rebuild, which
 * no package ships (an owned file is dpkg's to explain), are expected when
 * dpkg ran between the snapshots, and only as data: an executable there is
 * not a cache.
 */
static int triggers_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
			    struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after ? d->after : d->before;
	struct pkg_owner own;
	int r;

	(void)pkg;
	(void)note;
	if (e->kind != ENTRY_FILE || !rule_set_trigger_output(x->rules, e->key, e->key_len))
		return 0;
	if (d->after && !S_ISDIR(d->after->mode) &&
	    (!S_ISREG(d->after->mode) || (d->after->mode & 0111)))
		return 0;
	r = attrib_owner(x->attrib, d->after != NULL, e->key, e->key_len, &own);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!history_dpkg_ran(x->history)) {
		verdict_reason_add(v, "dpkg did not run between the snapshots");
		return 1;
	}
	v->class = CLASS_EXPECTED;
	verdict_reason(v, "%s by a dpkg trigger (dpkg ran between the snapshots)",
		       d->change == CHANGE_ADDED     ? "written"
		       : d->change == CHANGE_REMOVED ? "removed"
						     : "rewritten");
	return 1;
}

/* The "version" property of a package entry into @buf, or NULL. */
static const char *entry_version(const struct entry *e, char *buf, size_t size)
{
	const uint8_t *val;
	size_t len;

	if (!e || entry_xattrs_get(e->props, e->props_len, "version", &val, &len) != 1)
		return NULL;
	snprintf(buf, size, "%.*s", (int)len, (const char *)val);
	return buf;
}

/*
 * Package entries: installed, upgraded or removed as apt's history (or,
 * when the policy says so, dpkg's log) recorded in the window: "installed
 * 1.0-1 by apt-get install hello (alice, 2026-12-04 10:00:01)". A change no
 * log records stays drift and says so: dpkg -i of a stray file, or logs
 * erased.
 */
static int events_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
			  struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after ? d->after : d->before;
	enum rule_history mode = rule_set_packages(x->rules)->history;
	char name[160], was_buf[96], now_buf[96], when[32], what[96];
	const char *was = entry_version(d->before, was_buf, sizeof(was_buf));
	const char *now = entry_version(d->after, now_buf, sizeof(now_buf));
	const struct history_event *ev;
	const char *colon;
	struct tm tm;
	time_t t;

	if (e->kind != ENTRY_PACKAGE || mode == RULE_HISTORY_NONE)
		return 0;
	if (d->change == CHANGE_MODIFIED && was && now && !strcmp(was, now))
		return 0; /* not a version change: the rule's word stands */
	snprintf(name, sizeof(name), "%.*s", (int)e->key_len, e->key);
	colon = strchr(name, ':');
	attrib_set_package(pkg, note, name, NULL, was, now);
	if (colon)
		name[colon - name] = '\0';
	if (!now)
		snprintf(what, sizeof(what), "removed");
	else if (!was)
		snprintf(what, sizeof(what), "installed %s", now);
	else
		snprintf(what, sizeof(what), "%s -> %s", was, now);
	ev = history_find(x->history, name, colon ? colon + 1 : NULL, was, now);
	if (!ev) {
		verdict_reason(v, "%s; no apt or dpkg record of it", what);
		return 1;
	}
	t = (time_t)(ev->time_ns / 1000000000LL);
	if (!localtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	if (ev->apt) {
		v->class = CLASS_EXPECTED;
		verdict_reason(v, "%s by '%.60s%s' (%s%s%s)", what,
			       ev->commandline ? ev->commandline : "apt",
			       ev->commandline && strlen(ev->commandline) > 60 ? "..." : "",
			       ev->requested_by ? ev->requested_by : "",
			       ev->requested_by ? ", " : "", when);
	} else {
		if (mode == RULE_HISTORY_DPKG)
			v->class = CLASS_EXPECTED;
		verdict_reason(v, "%s by dpkg (%s), not through apt", what, when);
	}
	return 1;
}

int explain_deviation(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		      struct finding_package *pkg, struct attrib_note *note)
{
	static int (*const sources[])(struct explain *, const struct deviation *,
				      struct rule_verdict *, struct finding_package *,
				      struct attrib_note *) = {
		ucf_explain,      pyc_explain,      alternatives_explain, enablement_explain,
		accounts_explain, triggers_explain, events_explain,
	};

	if (x->rootfd < 0 || !x->attrib)
		return 0;
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		int r = sources[i](x, d, v, pkg, note);
		if (r != 0)
			return r;
	}
	return 0;
}
