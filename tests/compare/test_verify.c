/*
 * Tests of compare_verify() (compare/verify.c): the host against its dpkg
 * database, on a copy of the fixture root (tests/fixtures/host: packages
 * basefiles, libfoo1 and hello, seven files with MD5 sums, /etc/hello.conf
 * a conffile of hello).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "compare/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "scanner/dpkg.h"
#include "tests/compare/collect.h"
#include "tests/probe/dpkg/troot.h"

#define FIXTURE_FILES 7 /* with an MD5, in installed packages, the conffile included */

static const char policy[] = "rules:\n"
			     "  - {id: root, path: /, severity: low}\n"
			     "  - {id: usr, path: /usr, severity: medium}\n"
			     "  - {id: sbin, path: /usr/sbin, severity: critical}\n"
			     "  - {id: etc, path: /etc, severity: high}\n"
			     "packages:\n"
			     "  conffile_severity: info\n"
			     "  unowned_severity: high\n";

struct fx {
	struct troot host;
	struct rule_set *rules;
	struct log log;
	uint64_t checked;
};

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	if (!fx)
		return 0;
	rule_set_free(fx->rules);
	troot_remove(&fx->host);
	free(fx);
	*state = NULL;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

/* rm -r of @rel under the root. */
static int host_remove(struct fx *fx, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fx->host.dir, rel);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct diag d = { 0 };

	*state = fx;
	if (!fx)
		return -1;
	fx->host.fd = -1;
	if (troot_copy_fixture(&fx->host) < 0)
		goto fail;
	/* unit files no package of the fixture owns: the unowned tests want none but their own */
	if (host_remove(fx, "usr/lib/systemd") < 0)
		goto fail;
	if (rule_set_load_buffer("policy.yaml", policy, strlen(policy), NULL, NULL, &fx->rules,
				 &d) < 0)
		goto fail;
	seam_reset(NULL, 0);
	return 0;
fail:
	fx_teardown(state);
	return -1;
}

static void host_append(struct fx *fx, const char *rel, const char *text)
{
	int fd = openat(fx->host.fd, rel, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void verify(struct fx *fx, bool unowned)
{
	struct compare_verify_opts o = { 0 };
	struct compare_sink sink = log_sink(&fx->log);
	struct dpkg_db *db = NULL;
	struct diag d = { 0 };
	int r;

	if (dpkg_db_load(fx->host.fd, NULL, NULL, &db, &d) < 0)
		fail_msg("dpkg_db_load: %s", d.msg);
	o.rootfd = fx->host.fd;
	o.db = db;
	o.rules = fx->rules;
	o.threads = 2;
	o.unowned = unowned;
	log_reset(&fx->log);
	fx->checked = 0;
	r = compare_verify(&o, &sink, &fx->checked, &d);
	dpkg_db_free(db);
	if (r < 0)
		fail_msg("compare_verify: %d %s", r, d.msg);
}

static const struct got *file(const struct fx *fx, const char *path)
{
	return log_get(&fx->log, ENTRY_FILE, path);
}

static void assert_package(const struct got *g, const char *name, const char *version)
{
	assert_string_equal(g->pkg, name);
	assert_true(g->has_before_version && g->has_after_version);
	assert_string_equal(g->before_version, version);
	assert_string_equal(g->after_version, version);
	assert_false(g->unowned);
}

static void test_clean_fixture(void **state)
{
	struct fx *fx = *state;

	verify(fx, true);
	assert_int_equal(fx->log.n, 0);
	assert_int_equal(fx->log.nblind, 0);
	assert_int_equal(fx->checked, FIXTURE_FILES);
}

static void test_mismatch_missing_not_regular_conffile(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	host_append(fx, "usr/bin/hello", "# tampered\n");
	host_append(fx, "etc/hello.conf", "# local\n");
	assert_int_equal(unlinkat(fx->host.fd, "usr/share/doc/hello/copyright", 0), 0);
	assert_int_equal(unlinkat(fx->host.fd, "usr/share/basefiles/motd", 0), 0);
	assert_int_equal(troot_mkdir(&fx->host, "usr/share/basefiles/motd"), 0);
	verify(fx, false);

	assert_int_equal(fx->checked, FIXTURE_FILES);
	assert_int_equal(fx->log.n, 4);
	/* in path order */
	assert_string_equal(fx->log.f[0].key, "/etc/hello.conf");
	assert_string_equal(fx->log.f[1].key, "/usr/bin/hello");
	assert_string_equal(fx->log.f[2].key, "/usr/share/basefiles/motd");
	assert_string_equal(fx->log.f[3].key, "/usr/share/doc/hello/copyright");
	for (size_t i = 0; i < fx->log.n; i++) {
		assert_true(fx->log.f[i].judged);
		assert_int_equal(fx->log.f[i].class, CLASS_DRIFT);
		assert_true(fx->log.f[i].counts);
	}

	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->changed, ATTR_HASH);
	assert_int_equal(g->attrs, ATTR_HASH);
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_string_equal(g->rule_id, "usr");
	assert_string_equal(g->reason, "content does not match package hello 1.0-1");
	assert_package(g, "hello:amd64", "1.0-1");

	/* a conffile: at the policy's conffile severity, not the rule's high */
	g = file(fx, "/etc/hello.conf");
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->severity, SEVERITY_INFO);
	assert_string_equal(g->rule_id, "etc");
	assert_string_equal(g->reason, "locally modified configuration (package hello 1.0-1)");
	assert_package(g, "hello:amd64", "1.0-1");

	g = file(fx, "/usr/share/doc/hello/copyright");
	assert_int_equal(g->change, CHANGE_REMOVED);
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_string_equal(g->reason, "missing; package hello 1.0-1 ships it");
	assert_package(g, "hello:amd64", "1.0-1");

	g = file(fx, "/usr/share/basefiles/motd");
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->changed, ATTR_TYPE);
	assert_string_equal(g->reason, "not a regular file; package basefiles 12.4 ships one");
	assert_package(g, "basefiles:all", "12.4");
}

/* A conffile that is missing is missing, at the rule's severity. */
static void test_missing_conffile(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	assert_int_equal(unlinkat(fx->host.fd, "etc/hello.conf", 0), 0);
	verify(fx, false);
	assert_int_equal(fx->log.n, 1);
	g = file(fx, "/etc/hello.conf");
	assert_int_equal(g->change, CHANGE_REMOVED);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "missing; package hello 1.0-1 ships it");
}

static void test_unowned(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	assert_int_equal(troot_write(&fx->host, "usr/bin/backdoor", "planted\n"), 0);
	assert_int_equal(troot_symlink(&fx->host, "usr/bin/evil", "/tmp/evil"), 0);
	/* outside the scope: /usr/local is excluded from it, /etc not in it */
	assert_int_equal(troot_write(&fx->host, "usr/local/bin/tool", "mine\n"), 0);
	assert_int_equal(troot_write(&fx->host, "etc/new.conf", "mine\n"), 0);
	/* not a file or symlink */
	assert_int_equal(troot_mkdir(&fx->host, "usr/share/newdir"), 0);
	host_append(fx, "usr/bin/hello", "# tampered\n");

	/* without unowned, only the packages' own files are looked at */
	verify(fx, false);
	assert_int_equal(fx->log.n, 1);
	assert_string_equal(fx->log.f[0].key, "/usr/bin/hello");

	verify(fx, true);
	assert_int_equal(fx->log.n, 3);
	/* merged into the verify results' path order */
	assert_string_equal(fx->log.f[0].key, "/usr/bin/backdoor");
	assert_string_equal(fx->log.f[1].key, "/usr/bin/evil");
	assert_string_equal(fx->log.f[2].key, "/usr/bin/hello");
	g = file(fx, "/usr/bin/backdoor");
	assert_int_equal(g->change, CHANGE_ADDED);
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "not owned by any package");
	assert_string_equal(g->rule_id, "usr");
	assert_true(g->unowned);
	assert_string_equal(g->pkg, "");
	assert_true(g->counts);
	assert_true(file(fx, "/usr/bin/evil")->unowned);
	assert_int_equal(fx->checked, FIXTURE_FILES);

	/* a floor, as in a check: a rule that says more keeps its severity */
	assert_int_equal(troot_write(&fx->host, "usr/sbin/backdoor", "planted\n"), 0);
	verify(fx, true);
	g = file(fx, "/usr/sbin/backdoor");
	assert_int_equal(g->severity, SEVERITY_CRITICAL);
	assert_string_equal(g->rule_id, "sbin");
}

/* A file that cannot be read is a blind spot, not a finding; as root too, through the seam. */
static void test_unreadable_is_a_blind_spot(void **state)
{
	struct fx *fx = *state;

	seam_reset("/usr/share/basefiles/profile", EACCES);
	verify(fx, false);
	assert_true(atomic_load(&seams.watch_opens) >= 1);
	assert_int_equal(fx->log.n, 0);
	assert_int_equal(fx->log.nblind, 1);
	assert_string_equal(fx->log.blind[0], "/usr/share/basefiles/profile");
	assert_int_equal(fx->log.blind_err[0], EACCES);
	assert_int_equal(fx->checked, FIXTURE_FILES);
}

/* The same with a real permission failure (as root too, without its DAC capabilities). */
static void test_unreadable_mode_000(void **state)
{
	struct fx *fx = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/usr/share/basefiles/profile", fx->host.dir);
	assert_int_equal(chmod(path, 0), 0);
	dac_drop();
	verify(fx, false);
	dac_restore();
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(fx->log.n, 0);
	assert_int_equal(fx->log.nblind, 1);
	assert_string_equal(fx->log.blind[0], "/usr/share/basefiles/profile");
	assert_int_equal(fx->log.blind_err[0], EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_clean_fixture),
		T(test_mismatch_missing_not_regular_conffile),
		T(test_missing_conffile),
		T(test_unowned),
		T(test_unreadable_is_a_blind_spot),
		T(test_unreadable_mode_000),
#undef T
	};
	return tap_run_group_tests_name("compare/verify", tests, NULL, troot_cleanup_all);
}
