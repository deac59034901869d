/* drift browse [RUN | OLD NEW]: the interactive browser of a stored run (tui/). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "compare/waive.h"
#include "remedy/debsrc.h"
#include "remedy/remedy.h"
#include "store/store.h"
#include "tui/tui.h"
#include "common/banned.h"

/*
 * The settling operations behind `a`, `w` and `u`: the libraries of
 * `drift accept` (store/: a new baseline from the reviewed run) and `drift
 * waive` (compare/waive.h), called as those commands call them. The
 * browser reads its run through a read-only connection; each operation
 * opens the database for writing on its own and closes it after.
 */
struct settle {
	const char *db_path;
	const char *seal_key; /* --key, else $DRIFT_SEAL_KEY */
	int64_t run;
	const char *waivers_path;
	struct tui_model *m;
};

/* The entries of findings @seqs of the run: kind and key, copied. */
struct seq_keys {
	struct snap_accept_key *k;
	char **own;  /* the keys' copies, freed here */
	char **text; /* seq_keys_text(): the same as text, freed here */
	size_t n;
	int err;
};

static int seq_key(const struct snap_run_row *row, void *userdata)
{
	struct seq_keys *sk = userdata;
	char *key = malloc(row->key_len + 1);

	if (!key)
		return sk->err = -ENOMEM;
	memcpy(key, row->key, row->key_len);
	key[row->key_len] = '\0';
	sk->own[sk->n] = key;
	sk->k[sk->n++] = (struct snap_accept_key){ row->kind, key, row->key_len };
	return 0;
}

static void seq_keys_free(struct seq_keys *sk)
{
	for (size_t i = 0; sk->own && i < sk->n; i++)
		free(sk->own[i]);
	for (size_t i = 0; sk->text && i < sk->n; i++)
		free(sk->text[i]);
	free(sk->own);
	free(sk->text);
	free(sk->k);
}

static int seq_keys_get(struct snap_store *st, int64_t run, const int64_t *seqs, size_t n,
			struct seq_keys *ret, struct diag *d)
{
	ret->k = calloc(n ? n : 1, sizeof(*ret->k));
	ret->own = calloc(n ? n : 1, sizeof(*ret->own));
	if (!ret->k || !ret->own)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = snap_run_row_get(st, run, seqs[i], seq_key, ret, d);

		if (ret->err)
			return ret->err;
		if (r < 0)
			return r;
		if (r == 0)
			return diag_set(d, -ENOENT, "finding %lld of run #%lld is gone",
					(long long)seqs[i], (long long)run);
	}
	return 0;
}

/*
 * The keys as `drift waive` and `drift remedy` take them, a file's path,
 * else KIND:KEY, into *@ret (an array of sk->n, free() it; the strings are
 * @sk's, freed with it).
 */
static int seq_keys_text(struct seq_keys *sk, const char ***ret)
{
	const char **keys = calloc(sk->n ? sk->n : 1, sizeof(*keys));

	*ret = keys;
	sk->text = calloc(sk->n ? sk->n : 1, sizeof(*sk->text));
	if (!keys || !sk->text)
		return -ENOMEM;
	for (size_t i = 0; i < sk->n; i++) {
		char *k = NULL;

		if (sk->k[i].kind == ENTRY_FILE)
			k = strdup(sk->k[i].key);
		else if (asprintf(&k, "%s:%s", entry_kind_name(sk->k[i].kind), sk->k[i].key) < 0)
			k = NULL;
		if (!k)
			return -ENOMEM;
		sk->text[i] = k;
		keys[i] = k;
	}
	return 0;
}

static int settle_open(const struct settle *s, struct snap_store **ret, char **ret_message)
{
	struct diag d = { 0 };
	int r = snap_store_open(s->db_path, SNAP_OPEN_WRITE, ret, &d);

	if (r >= 0 && cli_store_seal_key(*ret, s->seal_key)) {
		snap_store_free(*ret);
		*ret = NULL;
		r = -EINVAL;
		d.msg[0] = '\0';
		snprintf(d.msg, sizeof(d.msg), "the sealing key cannot be used");
	}
	if (r < 0 && asprintf(ret_message, "cannot open '%s' for writing: %s", s->db_path,
			      d.msg[0] ? d.msg : strerror(-r)) < 0)
		*ret_message = NULL;
	return r;
}

static void settle_fail(char **ret_message, const char *what, const struct diag *d, int r)
{
	if (asprintf(ret_message, "%s failed, nothing written: %s", what,
		     d->msg[0] ? d->msg : strerror(-r)) < 0)
		*ret_message = NULL;
}

static int browse_accept(void *ctx, const int64_t *seqs, size_t n, const char *reason,
			 char **ret_message)
{
	const struct settle *s = ctx;
	struct snap_store *st = NULL;
	struct seq_keys sk = { 0 };
	struct snap_acceptance a = { 0 };
	struct diag d = { 0 };
	char *who = NULL;
	int r;

	r = settle_open(s, &st, ret_message);
	if (r < 0)
		return r;
	r = seq_keys_get(st, s->run, seqs, n, &sk, &d);
	if (r >= 0 && !(who = snap_accept_who()))
		r = -ENOMEM;
	if (r >= 0)
		r = snap_accept(st, s->run, sk.k, sk.n, who, reason, 0, NULL, NULL, &a, &d);
	if (r < 0)
		settle_fail(ret_message, "accepting", &d, r);
	else if (asprintf(ret_message, "accepted %llu %s into baseline '%s' (#%lld); u undoes",
			  (unsigned long long)a.entries, a.entries == 1 ? "entry" : "entries",
			  a.new_label ? a.new_label : "?", (long long)a.new_baseline) < 0)
		*ret_message = NULL;
	snap_acceptance_release(&a);
	free(who);
	seq_keys_free(&sk);
	snap_store_free(st);
	return r < 0 ? r : 0;
}

static int browse_waive(void *ctx, const int64_t *seqs, size_t n, const char *reason,
			const char *expires, char **ret_message)
{
	const struct settle *s = ctx;
	struct snap_store *st = NULL;
	struct seq_keys sk = { 0 };
	const char **keys = NULL;
	struct diag d = { 0 };
	time_t until;
	char *who = NULL;
	int r;

	if (waive_parse_expiry(expires, time(NULL), &until) < 0) {
		if (asprintf(ret_message, "expiry '%s': not YYYY-MM-DD or +Nd; nothing written",
			     expires) < 0)
			*ret_message = NULL;
		return -EINVAL;
	}
	r = settle_open(s, &st, ret_message);
	if (r < 0)
		return r;
	r = seq_keys_get(st, s->run, seqs, n, &sk, &d);
	if (r >= 0 && !(who = snap_accept_who()))
		r = -ENOMEM;
	if (r >= 0)
		r = seq_keys_text(&sk, &keys);
	if (r >= 0)
		r = waive_findings(st, s->run, keys, sk.n, reason, until, who, s->waivers_path, 0,
				   NULL, &d);
	if (r < 0)
		settle_fail(ret_message, "waiving", &d, r);
	else if (asprintf(ret_message, "waived %d finding%s until %s in %s", r, r == 1 ? "" : "s",
			  expires, s->waivers_path) < 0)
		*ret_message = NULL;
	free(keys);
	free(who);
	seq_keys_free(&sk);
	snap_store_free(st);
	return r < 0 ? r : 0;
}

/* The keys an acceptance took, for the model. */
struct taken {
	struct tui_key *k;
	size_t n, alloc;
	struct strbuf arena; /* the keys, back to back */
	int err;
};

static int taken_add(int64_t acceptance, enum entry_kind kind, const char *key, size_t key_len,
		     enum change change, void *userdata)
{
	struct taken *t = userdata;

	(void)acceptance;
	(void)change;
	if (t->n == t->alloc) {
		size_t alloc = t->alloc ? 2 * t->alloc : 64;
		struct tui_key *k = realloc(t->k, alloc * sizeof(*k));

		if (!k)
			return t->err = -ENOMEM;
		t->k = k;
		t->alloc = alloc;
	}
	/* An offset for now: the arena moves as it grows. */
	t->k[t->n++] =
		(struct tui_key){ (uint8_t)kind, (const char *)(uintptr_t)t->arena.len, key_len };
	if (strbuf_add(&t->arena, key, key_len) < 0)
		return t->err = -ENOMEM;
	return 0;
}

static int taken_mark(struct taken *t, struct tui_model *m, bool accepted)
{
	for (size_t i = 0; i < t->n; i++)
		t->k[i].key = t->arena.buf + (uintptr_t)t->k[i].key;
	return tui_model_set_accepted_keys(m, t->k, t->n, accepted);
}

static void taken_free(struct taken *t)
{
	free(t->k);
	strbuf_release(&t->arena);
}

static int browse_undo(void *ctx, char **ret_message)
{
	const struct settle *s = ctx;
	struct snap_store *st = NULL;
	struct snap_acceptance a = { 0 };
	struct taken t = { .arena = STRBUF_INIT };
	struct diag d = { 0 };
	char *who = NULL;
	int r;

	r = settle_open(s, &st, ret_message);
	if (r < 0)
		return r;
	who = snap_accept_who();
	r = who ? snap_accept_undo(st, 0, who, &a, &d) : -ENOMEM;
	if (r >= 0)
		r = snap_acceptance_keys(st, a.id, taken_add, &t, &d);
	if (r >= 0 && t.err)
		r = t.err;
	if (r >= 0)
		r = taken_mark(&t, s->m, false);
	if (r < 0)
		settle_fail(ret_message, "undoing", &d, r);
	else if (asprintf(ret_message, "acceptance #%lld undone: baseline '%s' (#%lld) again",
			  (long long)a.id, a.old_label ? a.old_label : "?",
			  (long long)a.old_baseline) < 0)
		*ret_message = NULL;
	taken_free(&t);
	snap_acceptance_release(&a);
	free(who);
	snap_store_free(st);
	return r < 0 ? r : 0;
}

/* How many actions of a remediation drift itself performs. */
static int remedy_outcome(const struct remedy_outcome *o, void *userdata)
{
	(void)o;
	(void)userdata;
	return 0; /* counted in the result; the browser owns the terminal */
}

static int browse_remedy(void *ctx, const int64_t *seqs, size_t n, bool apply, char **ret_message)
{
	const struct settle *s = ctx;
	struct snap_store *st = NULL;
	struct snap_run_info run = { 0 };
	struct seq_keys sk = { 0 };
	struct remedy_plan plan = { 0 };
	struct remedy_result res = { 0 };
	struct deb_source deb = { .rootfd = -1 };
	const char **keys = NULL;
	char *who = NULL, *quarantine = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct diag d = { 0 };
	int performed = 0, r;

	r = settle_open(s, &st, ret_message);
	if (r < 0)
		return r;
	r = seq_keys_get(st, s->run, seqs, n, &sk, &d);
	if (r >= 0)
		r = seq_keys_text(&sk, &keys);
	if (r >= 0)
		r = snap_run_get(st, s->run, &run, &d);
	if (r >= 0) {
		struct remedy_select sel = { keys, sk.n, NULL, false };

		r = remedy_plan_build(st, &run, &sel, &plan, &d);
	}
	for (size_t i = 0; r >= 0 && i < plan.n; i++)
		if (plan.v[i].action != REMEDY_COMMAND && plan.v[i].action != REMEDY_CANNOT) {
			if (!performed++ && remedy_step_describe(&plan.v[i], &sb) < 0)
				r = -ENOMEM;
		}
	if (r < 0) {
		settle_fail(ret_message, "planning", &d, r);
		goto out;
	}
	if (!apply) {
		if (!performed)
			r = asprintf(ret_message,
				     "nothing drift remedies itself here (%llu not allowed by the "
				     "policy's remediate:, %llu package work%s)",
				     (unsigned long long)plan.not_allowed,
				     (unsigned long long)plan.package_work,
				     plan.n ? "; drift remedy lists the commands" : "");
		else
			r = asprintf(ret_message, "%s%s", sb.buf, performed > 1 ? ", ..." : "");
		if (r < 0)
			*ret_message = NULL;
		r = performed;
		goto out;
	}
	deb.rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	quarantine = cli_quarantine_default(s->db_path);
	who = snap_accept_who();
	if (deb.rootfd < 0 || !quarantine || !who) {
		r = deb.rootfd < 0 ? -errno : -ENOMEM;
		settle_fail(ret_message, "remedying", &d, r);
		goto out;
	}
	{
		struct remedy_opts ro = {
			.st = st,
			.db_path = s->db_path,
			.rootfd = deb.rootfd,
			.quarantine = quarantine,
			.who = who,
			.deb = &deb,
			.step = remedy_outcome,
		};

		r = remedy_apply(&ro, &plan, &res, &d);
	}
	if (r < 0)
		settle_fail(ret_message, "remedying", &d, r);
	else if (asprintf(ret_message,
			  "remediation #%lld: %llu done, %llu failed, %llu skipped; drift remedy "
			  "--undo %lld reverses it",
			  (long long)res.id, (unsigned long long)res.done,
			  (unsigned long long)res.failed, (unsigned long long)res.skipped,
			  (long long)res.id) < 0)
		*ret_message = NULL;
out:
	if (deb.rootfd >= 0)
		close(deb.rootfd);
	remedy_plan_release(&plan);
	snap_run_info_release(&run);
	strbuf_release(&sb);
	free(keys);
	free(who);
	free(quarantine);
	seq_keys_free(&sk);
	snap_store_free(st);
	return r;
}

static const struct tui_settle_ops settle_ops = {
	.accept = browse_accept,
	.waive = browse_waive,
	.undo = browse_undo,
	.remedy = browse_remedy,
};

/* The findings of the run that acceptances in force took show as accepted. */
static int mark_accepted(struct snap_store *st, int64_t run, struct tui_model *m, struct diag *d)
{
	struct taken t = { .arena = STRBUF_INIT };
	int r = snap_run_accepted(st, run, taken_add, &t, d);

	if (r >= 0 && t.err)
		r = t.err;
	if (r >= 0)
		r = taken_mark(&t, m, true);
	taken_free(&t);
	return r < 0 ? r : 0;
}

/* OLD NEW: the comparison of `drift diff OLD NEW`, stored as a run; its report goes nowhere. */
static int diff_run(struct cli_args *args, struct snap_store *st, const struct rule_set *rules,
		    int64_t *ret_id)
{
	struct snap_info a = { 0 }, b = { 0 };
	struct cli_output out = { 0 };
	struct snap_run_info run = { 0 };
	struct diag d = { 0 };
	int code, r;

	if (!snap_store_writable(st)) {
		cli_error("cannot browse a diff: the database '%s' is read-only, so its run "
			  "cannot be stored; run 'drift diff' where it is writable",
			  cli_db_path(args));
		return DRIFT_EXIT_DATABASE;
	}
	for (int i = 0; i < 2; i++) {
		struct snap_info *info = i ? &b : &a;

		r = snap_find(st, args->operands[i], info, &d);
		if (r < 0) {
			cli_error("%s", d.msg);
			code = r == -ENOENT ? DRIFT_EXIT_USAGE
					    : exit_code_for_error(CLI_STAGE_STORE, r);
			goto out;
		}
		code = cli_snapshot_comparable(info);
		if (code)
			goto out;
	}
	out.fp = fopen("/dev/null", "we");
	if (!out.fp) {
		cli_error("cannot open /dev/null: %s", strerror(errno));
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	args->format = REPORT_TEXT;
	code = cli_compare_report_to(&out, NULL, st, "diff", &a, &b, NULL, 0, rules, false, args);
	fclose(out.fp);
	if (code >= DRIFT_EXIT_USAGE)
		goto out;
	code = 0;
	r = snap_run_get(st, 0, &run, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	*ret_id = run.id;
out:
	snap_run_info_release(&run);
	snap_info_release(&a);
	snap_info_release(&b);
	return code;
}

static int cmd_browse(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_run_info run = { 0 };
	struct snap_info after = { 0 };
	struct tui_model *m = NULL;
	struct tui_opts o = { 0 };
	struct settle settle;
	struct diag d = { 0 };
	int64_t id = 0;
	int r, code;

	if (args->noperands > 2 ||
	    (args->noperands == 1 && cli_parse_id(args->operands[0], &id) < 0)) {
		fprintf(stderr, "drift browse: takes a run id (see 'drift runs'), two snapshots, "
				"or nothing for the newest run\nsee 'drift browse --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cli_error("browse needs a terminal on stdin and stdout; for a report, use "
			  "'drift report'");
		return DRIFT_EXIT_USAGE;
	}
	/* The policy says what content is secret; one that does not load costs the diffs only. */
	if (cli_policy_load(args, &rules) != 0)
		rules = NULL;
	code = cli_root_open(args);
	if (code)
		goto out;
	/*
	 * Browsing a stored run reads only: a read-only open skips the
	 * quick_check of every page that a write open runs (1.5 s of a
	 * database of a million findings). OLD NEW stores its run, so it
	 * opens for writing when it may.
	 */
	if (args->noperands == 2)
		code = cli_store_open_for_runs(args, true, &st);
	else
		code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		goto out;
	if (args->noperands == 2) {
		code = cli_waivers_load(args); /* a malformed file fails before the comparison */
		if (code)
			goto out;
		cli_signals_install();
		code = diff_run(args, st, rules, &id);
		if (code)
			goto out;
	}
	r = snap_run_get(st, id, &run, &d);
	if (r < 0) {
		if (r == -ENOENT && !id)
			cli_error("no stored run to browse in '%s'; run 'drift check' or 'drift "
				  "diff' first",
				  cli_db_path(args));
		else
			cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	r = tui_load(st, run.id, run.findings, &m, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (run.after) {
		char name[32];

		snprintf(name, sizeof(name), "%lld", (long long)run.after);
		if (snap_find(st, name, &after, &d) == 0)
			o.host = after.host;
	}
	o.st = st;
	o.db_path = cli_db_path(args);
	o.run = &run;
	o.rules = rules;
	o.ops = &settle_ops;
	o.ops_ctx = &settle;
	settle = (struct settle){ o.db_path, args->seal_key, run.id, cli_waivers_path(args), m };
	r = mark_accepted(st, run.id, m, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (*cli_root(args))
		o.read_only = "the run is of another root (--root)";
	else if (access(o.db_path, W_OK) < 0)
		o.read_only = "the database is not writable";
	r = tui_run(&o, m, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = DRIFT_EXIT_INTERNAL;
	}
out:
	tui_model_free(m);
	snap_info_release(&after);
	snap_run_info_release(&run);
	snap_store_free(st);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_browse_def = {
	.name = "browse",
	.summary = "browse the findings of a stored run interactively",
	.usage =
		"usage: drift browse [options] [RUN]\n"
		"       drift browse [options] OLD NEW\n"
		"\n"
		"Browse the findings of a stored run in the terminal: the newest run, the\n"
		"run RUN (see 'drift runs'), or the comparison of the snapshots OLD and NEW\n"
		"(labels or ids), run and stored as 'drift diff OLD NEW' does. A tree by\n"
		"directory, by kind or by package event, or a sorted list; filters; search;\n"
		"each finding's changed attributes, rule, package and content diff. Press ?\n"
		"in the browser for every key. Needs a terminal on stdin and stdout. Settling\n"
		"keys: a accepts the selection into a new baseline as the run saw it (as\n"
		"'drift accept' does), w waives it (as 'drift waive'), u undoes the newest\n"
		"acceptance; each asks a reason and a confirmation first. They are refused\n"
		"with --root or a database that cannot be written.\n"
		"\n"
		"options:\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --key FILE         seal what is written with this key file (default:\n"
		"                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		"  --policy FILE      policy whose secrets are never shown, and that OLD NEW\n"
		"                     classifies under (default: as for 'drift init')\n"
		"  --root DIR         the run's host is under DIR (read-only browsing)\n"
		"  --count-expected   OLD NEW: expected deviations count too\n"
		"  --all-changes      OLD NEW: also ctime-only changes (see 'drift diff')\n"
		"  --waivers FILE     where w writes waivers, and what OLD NEW applies\n"
		"                     (default: waivers.yaml beside the default policy)\n"
		"  --allow-insecure   as root, use a policy or database others could have written\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_POLICY | OPT_ROOT | OPT_COUNT_EXPECTED | OPT_ALL_CHANGES |
		OPT_ALLOW_INSECURE | OPT_WAIVERS,
	.run = cmd_browse,
};
