#ifndef DRIFT_TESTS_FUZZ_FUZZ_H
#define DRIFT_TESTS_FUZZ_FUZZ_H

/*
 * Shared by the libFuzzer targets (tests/fuzz/README.md). A target
 * asserts the properties it checks with FUZZ_CHECK(), which aborts, so
 * that libFuzzer saves the input as a crash: assert() is compiled out in
 * release builds and these must hold in every build.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * With DRIFT_FUZZ_VERBOSE set in the environment, print why an input was
 * refused: to check that the seeds of a corpus are accepted.
 */
void fuzz_note(int r, const char *msg);

/*
 * A path that reads as @data: a memfd (created once per process) holding
 * the bytes, named through /proc/self/fd. For loaders that take only a
 * path. NULL when it cannot be made.
 */
const char *fuzz_memfile(const uint8_t *data, size_t size);

/* A directory of this process's own (/dev/shm or /tmp), made once, removed at exit. */
const char *fuzz_tmpdir(void);

struct strbuf;

/*
 * Undo escape_display() (common/escape.h): \\, \n \t \r \a \b \f \v,
 * \xHH, \uXXXX and \UXXXXXXXX back to bytes, appended to @out. Returns 0,
 * or -EINVAL when @s is not a display form (a lone or unknown escape).
 */
int fuzz_display_decode(const char *s, size_t len, struct strbuf *out);

/* Whether @s holds no C0 control byte and no DEL. */
bool fuzz_no_c0(const char *s, size_t len);

#endif /* DRIFT_TESTS_FUZZ_FUZZ_H */
