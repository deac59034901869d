#ifndef DRIFT_TESTS_PROBE_DPKG_TROOT_H
#define DRIFT_TESTS_PROBE_DPKG_TROOT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Helpers of the dpkg tests: temporary roots (mkdtemp under /tmp) filled
 * file by file or copied from the fixture, and a collector of findings.
 */

struct troot {
	char dir[64];
	int fd; /* O_PATH of dir, -1 when not made */
};

/** Make an empty temporary root. Returns 0 or -1. */
int troot_make(struct troot *t);
/** Make a temporary root holding a copy (cp -a) of the fixture root. Returns 0 or -1. */
int troot_copy_fixture(struct troot *t);
/** Write @content to @rel (parents created). Returns 0 or -1. */
int troot_write(const struct troot *t, const char *rel, const char *content);
/** Create the symlink @rel -> @target (parents created). Returns 0 or -1. */
int troot_symlink(const struct troot *t, const char *rel, const char *target);
/** mkdir -p @rel. Returns 0 or -1. */
int troot_mkdir(const struct troot *t, const char *rel);
/** Remove the whole root; safe on a root never made. */
void troot_remove(struct troot *t);
/**
 * A cmocka group teardown: remove every root made and not removed (a
 * failing test jumps over its own troot_remove()).
 */
int troot_cleanup_all(void **state);

#define FINDINGS_MAX 32

struct findings {
	size_t n;
	struct {
		char probe[16];
		char file[128];
		unsigned line;
		char msg[256];
	} f[FINDINGS_MAX];
};

/** A probe_finding_fn collecting into a struct findings (the userdata). */
void findings_add(const char *probe, const char *file, unsigned line, const char *msg,
		  void *userdata);
/** Index of the first finding on @line of @file whose message contains @part, or -1. */
int findings_find(const struct findings *fs, const char *file, unsigned line, const char *part);

#endif
