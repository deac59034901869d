/* The fixture of the tests of compare_snapshots(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/compare/fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"

int fx_teardown(void **state)
{
	struct fx *fx = *state;

	if (!fx)
		return 0;
	snap_info_release(&fx->before);
	snap_info_release(&fx->after);
	rule_set_free(fx->rules);
	snap_store_free(fx->st);
	troot_remove(&fx->host);
	troot_remove(&fx->var);
	free(fx);
	*state = NULL;
	return 0;
}

void policy_load(struct fx *fx, const char *text)
{
	struct diag d = { 0 };

	rule_set_free(fx->rules);
	fx->rules = NULL;
	if (rule_set_load_buffer("policy.yaml", text, strlen(text), NULL, NULL, &fx->rules, &d) < 0)
		fail_msg("policy: %s", d.msg);
}

int fx_setup_policy(void **state, const char *text)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct diag d = { 0 };

	*state = fx;
	if (!fx)
		return -1;
	fx->host.fd = fx->var.fd = -1;
	if (troot_make(&fx->host) < 0 || troot_make(&fx->var) < 0)
		goto fail;
	snprintf(fx->db, sizeof(fx->db), "%s/drift.db", fx->var.dir);
	if (snap_store_open(fx->db, SNAP_OPEN_WRITE, &fx->st, &d) < 0)
		goto fail;
	if (rule_set_load_buffer("policy.yaml", text, strlen(text), NULL, NULL, &fx->rules, &d) < 0)
		goto fail;
	seam_reset(NULL, 0);
	return 0;
fail:
	fx_teardown(state);
	return -1;
}

void host_put(struct fx *fx, const char *path, const char *content)
{
	assert_int_equal(troot_write(&fx->host, path + 1, content), 0);
}

void host_mkdir(struct fx *fx, const char *path)
{
	assert_int_equal(troot_mkdir(&fx->host, path + 1), 0);
}

void sides(struct fx *fx, const struct side *before, const struct side *after)
{
	side_write(fx->st, before, "before", &fx->before);
	side_write(fx->st, after, "after", &fx->after);
}

int compare(struct fx *fx, const struct how *how)
{
	static const struct how plain = { 0 };
	struct compare_opts o = { 0 };
	struct compare_sink sink = log_sink(&fx->log);
	struct diag d = { 0 };
	int r;

	if (!how)
		how = &plain;
	o.st = fx->st;
	o.before = &fx->before;
	o.after = &fx->after;
	o.rules = how->no_rules ? NULL : fx->rules;
	o.rootfd = how->no_host ? -1 : fx->host.fd;
	o.live = how->live;
	o.count_expected = how->count_expected;
	log_reset(&fx->log);
	r = compare_snapshots(&o, &sink, &d);
	if (r < 0)
		fail_msg("compare_snapshots: %d %s", r, d.msg);
	return r;
}

const struct got *file(const struct fx *fx, const char *path)
{
	return log_get(&fx->log, ENTRY_FILE, path);
}

void assert_package(const struct got *g, const char *name, const char *before, const char *after)
{
	assert_string_equal(g->pkg, name);
	assert_string_equal(g->has_before_version ? g->before_version : "-", before);
	assert_string_equal(g->has_after_version ? g->after_version : "-", after);
	assert_false(g->unowned);
}
