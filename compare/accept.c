/*
 * Which findings of a stored run an acceptance takes, when they are named
 * by a package event or as "everything that counts": decided here, in the
 * findings layer, by the same rules as the run's own report (event.c,
 * run.c), so that the command line and the browser take the same ones.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

void compare_keys_release(struct compare_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free((void *)(uintptr_t)k->v[i].key);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

static int keys_add(struct compare_keys *k, enum entry_kind kind, const char *key, size_t len)
{
	char *copy;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct snap_accept_key *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, len);
	copy[len] = '\0';
	k->v[k->n++] = (struct snap_accept_key){ kind, copy, len };
	return 0;
}

struct picker {
	const struct snap_run_info *run;
	const char *package; /* the event's package name; NULL: every finding that counts */
	bool verify;
	struct strbuf name;
	struct compare_keys *out;
	/*
	 * A package event: the accounts its maintainer scripts added are part
	 * of it, and the account files rewritten for them were explained by
	 * exactly those additions (accounts.c). Accepting the accounts without
	 * the files would leave the files unexplained at the next check, so
	 * the files go too, when the event takes every account the run added.
	 */
	uint64_t accounts_added, accounts_taken;
	struct compare_keys account_files;
};

/* A package entry's key "name:arch" names the event "name" (event.c). */
static bool package_entry_is(const struct snap_run_row *row, const char *name)
{
	const char *colon = memchr(row->key, ':', row->key_len);
	size_t len = colon ? (size_t)(colon - row->key) : row->key_len;

	return len == strlen(name) && !memcmp(row->key, name, len);
}

static int pick_row(const struct snap_run_row *row, void *userdata)
{
	struct picker *p = userdata;
	bool take;

	if (p->package) {
		struct finding f = { 0 };
		int r;

		f.change = row->change;
		f.package.name = row->package;
		f.package.before_version = row->before_version;
		f.package.after_version = row->after_version;
		f.package.unowned = row->unowned;
		f.package.matches = row->matches;
		if (row->kind == ENTRY_PACKAGE) {
			take = package_entry_is(row, p->package);
		} else {
			r = finding_package_event(&f, p->verify, &p->name);
			if (r < 0)
				return r;
			take = r > 0 && f.event.kind == EVENT_PACKAGE &&
			       !strcmp(f.event.name, p->package);
		}
	} else {
		/* As the run counted it (run.c's replay says the same). */
		take = !row->judged || row->class != CLASS_EXPECTED || p->run->count_expected;
	}
	if (p->package && (row->kind == ENTRY_USER || row->kind == ENTRY_GROUP) &&
	    row->change == CHANGE_ADDED) {
		p->accounts_added++;
		p->accounts_taken += take;
	}
	if (p->package && !take && row->kind == ENTRY_FILE && row->judged &&
	    row->class == CLASS_EXPECTED && row->reason &&
	    !strncmp(row->reason, ACCOUNTS_FILES_EXPLAINED, strlen(ACCOUNTS_FILES_EXPLAINED)) &&
	    accounts_is_file(row->key, row->key_len))
		return keys_add(&p->account_files, row->kind, row->key, row->key_len);
	return take ? keys_add(p->out, row->kind, row->key, row->key_len) : 0;
}

static int pick(struct snap_store *st, const struct snap_run_info *run, const char *package,
		struct compare_keys *ret, struct diag *reterr)
{
	struct picker p = { .run = run, .package = package, .out = ret };
	int r;

	p.verify = !strcmp(run->command, "verify");
	strbuf_init(&p.name);
	memset(ret, 0, sizeof(*ret));
	r = snap_run_rows(st, run->id, pick_row, &p, reterr);
	if (r >= 0 && p.accounts_taken && p.accounts_taken == p.accounts_added)
		for (size_t i = 0; r >= 0 && i < p.account_files.n; i++)
			r = keys_add(ret, p.account_files.v[i].kind, p.account_files.v[i].key,
				     p.account_files.v[i].key_len);
	compare_keys_release(&p.account_files);
	strbuf_release(&p.name);
	if (r == -ENOMEM)
		r = diag_set(reterr, -ENOMEM, "out of memory");
	if (r < 0)
		compare_keys_release(ret);
	return r < 0 ? r : 0;
}

int compare_event_keys(struct snap_store *st, const struct snap_run_info *run, const char *event,
		       struct compare_keys *ret, struct diag *reterr)
{
	const char *colon = strchr(event, ':');
	int r;

	memset(ret, 0, sizeof(*ret));
	if (colon && (!strncmp(event, "user:", 5) || !strncmp(event, "group:", 6)))
		return diag_set(
			reterr, -EOPNOTSUPP,
			"account events are not stored with runs, so '%s' cannot be "
			"accepted as one: accept its findings by key (%s, /etc/passwd, ...)",
			event, event);
	if (!colon || strncmp(event, "package:", 8) || !colon[1])
		return diag_set(reterr, -EINVAL,
				"'%s' is not an event: an event is package:NAME (see 'drift report "
				"--verbose')",
				event);
	r = pick(st, run, colon + 1, ret, reterr);
	if (r < 0)
		return r;
	if (!ret->n)
		return diag_set(reterr, -ENOENT, "run #%lld has no finding of the event '%s'",
				(long long)run->id, event);
	return 0;
}

int compare_counted_keys(struct snap_store *st, const struct snap_run_info *run,
			 struct compare_keys *ret, struct diag *reterr)
{
	return pick(st, run, NULL, ret, reterr);
}
