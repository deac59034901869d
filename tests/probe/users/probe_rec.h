#ifndef DRIFT_TESTS_PROBE_USERS_PROBE_REC_H
#define DRIFT_TESTS_PROBE_USERS_PROBE_REC_H

/*
 * Helpers shared by the user and service probe tests: a recorder for what a
 * probe emits and finds (deep copies, props decoded), temporary roots
 * built from pieces of the fixture host (PROBE_FIXTURE_ROOT), and the
 * fixture of the tests that use both (struct rec_fx).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/probe.h"

#define REC_PROPS_MAX 24

/** One emitted entry, copied. */
struct rec_entry {
	enum entry_kind kind;
	char *key;
	size_t n; /**< number of props */
	char *name[REC_PROPS_MAX];
	char *value[REC_PROPS_MAX];
};

/** One finding, copied. */
struct rec_finding {
	char *probe, *file, *msg;
	unsigned line;
};

/** What one run of a probe emitted and found. Zero-initialise. */
struct recorder {
	struct rec_entry *e;
	size_t ne, ae;
	struct rec_finding *f;
	size_t nf, af;
	char *raw; /**< every key and props blob emitted, back to back */
	size_t raw_len;
	size_t calls;      /**< emit calls */
	size_t stop_after; /**< emit returns stop_err on this call (1-based); 0 = never */
	int stop_err;
};

/** probe_emit_fn: records into the struct recorder in @userdata (asserts the props blob). */
int rec_emit(const struct entry *e, void *userdata);

/** probe_finding_fn: records into the struct recorder in @userdata. */
void rec_finding(const char *probe, const char *file, unsigned line, const char *msg,
		 void *userdata);

/** Free everything recorded; @r is zeroed (keeps nothing). */
void rec_release(struct recorder *r);

/** The entry (@kind, @key), or NULL. */
const struct rec_entry *rec_find(const struct recorder *r, enum entry_kind kind, const char *key);

/** The value of prop @name of @e, or NULL. */
const char *rec_prop(const struct rec_entry *e, const char *name);

/** Number of entries of @kind. */
size_t rec_count(const struct recorder *r, enum entry_kind kind);

/**
 * Assert that @e exists and has exactly the props given as "name=value"
 * strings, ended by NULL.
 */
void rec_assert_props(const struct rec_entry *e, ...) __attribute__((sentinel));

/** Number of findings on @file at @line whose message contains @part. */
size_t rec_findings_match(const struct recorder *r, const char *file, unsigned line,
			  const char *part);

/** Does @needle occur in any emitted byte, finding message or finding file? */
bool rec_contains(const struct recorder *r, const char *needle);

/**
 * Run probe @p on @rootfd into @r with @secret (may be NULL) and @hash.
 * Returns what run() returned.
 */
int rec_run(const struct probe *p, int rootfd, const char *secret, enum hash_algo hash,
	    struct recorder *r);

/** The fixture of the tests on a temporary root: the root and a recorder. */
struct rec_fx {
	char root[64];
	int rootfd; /**< -1 until the test opens it, once the root is filled */
	struct recorder rec;
};

/** A cmocka setup: a new struct rec_fx with an empty temporary root, into *@state. */
int rec_fx_setup(void **state);

/** A cmocka teardown of the struct rec_fx in *@state: closed, removed and freed. */
int rec_fx_teardown(void **state);

/** A test case @f run with a struct rec_fx as its state (needs cmocka.h). */
#define rec_unit_test(f) cmocka_unit_test_setup_teardown(f, rec_fx_setup, rec_fx_teardown)

/** Create "/tmp/drift-probe-XXXXXX" into @buf (>= 32 bytes). Returns 0 or -1. */
int troot_make(char *buf, size_t size);

/** Write @text into @root/@rel, creating the parent directories. Returns 0 or -1. */
int troot_write(const char *root, const char *rel, const char *text);

/** Create the directory @root/@rel and its parents. Returns 0 or -1. */
int troot_mkdir(const char *root, const char *rel);

/** Create the symlink @root/@rel -> @target, creating the parents. Returns 0 or -1. */
int troot_symlink(const char *root, const char *rel, const char *target);

/** Copy the fixture host's @rel to @root/@rel. Returns 0 or -1. */
int troot_copy_fixture(const char *root, const char *rel);

/** Replace the first @old in @root/@rel with @new_text. Returns 0 or -1 (not found). */
int troot_replace(const char *root, const char *rel, const char *old, const char *new_text);

/** The whole of @path (malloc()ed, NUL-terminated), or NULL. */
char *file_slurp(const char *path, size_t *ret_len);

/** Remove @root recursively, never following symlinks. */
void troot_rm_rf(const char *root);

/** open(@root, O_PATH | O_DIRECTORY), asserted. */
int troot_open(const char *root);

#endif /* DRIFT_TESTS_PROBE_USERS_PROBE_REC_H */
