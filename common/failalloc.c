/*
 * Allocation failure injection (meson -Dfailalloc=true; tests/e2e/test_failalloc.py).
 *
 * The drift executable of such a build is linked with -Wl,--wrap= for each
 * allocating function below, so that every call drift's own objects make
 * (the static libraries of common/ to cli/ included) comes here first. The
 * shared libraries drift uses (SQLite, libyaml, zstd, libmagic, ncurses,
 * libcrypto) call the real allocator: --wrap only rewrites the references of
 * the objects it links, and theirs are resolved at run time.
 *
 * Without DRIFT_FAIL_ALLOC in the environment every wrapper calls the real
 * function and nothing else changes. With it:
 *
 *   DRIFT_FAIL_ALLOC=N        the Nth call (counting from 1) fails, only it
 *   DRIFT_FAIL_ALLOC=N+       the Nth call and every one after it fail
 *   DRIFT_FAIL_ALLOC_COUNT=F  at exit, the number of calls is written to F
 *   DRIFT_FAIL_ALLOC_TRACE=1  each failure prints a backtrace to stderr
 *
 * A failing call returns what the real one returns when memory is short:
 * NULL (or -1) with errno ENOMEM. Threads share the count (an atomic): in a
 * multi-threaded scan which call is the Nth may differ from run to run.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **ret, const char *fmt, va_list ap);
char *__real_realpath(const char *path, char *resolved);
ssize_t __real_getline(char **line, size_t *cap, FILE *f);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
__attribute__((format(printf, 2, 0))) int __wrap_vasprintf(char **ret, const char *fmt, va_list ap);
__attribute__((format(printf, 2, 3))) int __wrap_asprintf(char **ret, const char *fmt, ...);
char *__wrap_realpath(const char *path, char *resolved);
ssize_t __wrap_getline(char **line, size_t *cap, FILE *f);

static bool enabled;         /* DRIFT_FAIL_ALLOC was set and valid */
static uint64_t fail_at;     /* the call that fails (1-based) */
static bool fail_after;      /* ...and every one after it */
static bool trace;           /* DRIFT_FAIL_ALLOC_TRACE */
static const char *count_to; /* DRIFT_FAIL_ALLOC_COUNT */
static atomic_uint_fast64_t calls;

__attribute__((constructor)) static void failalloc_init(void)
{
	const char *s = getenv("DRIFT_FAIL_ALLOC");
	const char *t = getenv("DRIFT_FAIL_ALLOC_TRACE");
	uint64_t n = 0;

	count_to = getenv("DRIFT_FAIL_ALLOC_COUNT");
	if (count_to && !*count_to)
		count_to = NULL;
	trace = t && *t && strcmp(t, "0") != 0;
	if (s && *s) {
		for (; *s >= '0' && *s <= '9'; s++)
			n = n * 10 + (uint64_t)(*s - '0');
		fail_after = *s == '+';
		if (fail_after)
			s++;
		if (*s || n == 0) {
			static const char bad[] = "drift: DRIFT_FAIL_ALLOC: not N or N+ (N >= 1)\n";

			if (write(STDERR_FILENO, bad, sizeof(bad) - 1) < 0)
				_exit(127);
			_exit(127);
		}
		fail_at = n;
	}
	enabled = fail_at > 0 || count_to;
}

__attribute__((destructor)) static void failalloc_fini(void)
{
	char buf[32];
	int fd, len;

	if (!count_to)
		return;
	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)atomic_load(&calls));
	fd = open(count_to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)len) != len) {
		/* the test reading the file sees it short */
	}
	close(fd);
}

/* Count this call; true when it is to fail (errno is then ENOMEM). */
static bool should_fail(const char *what)
{
	uint64_t n;

	if (!enabled)
		return false;
	n = atomic_fetch_add(&calls, 1) + 1;
	if (!fail_at || n < fail_at || (n > fail_at && !fail_after))
		return false;
	if (trace) {
		void *frames[32];
		char head[96];
		int len = snprintf(head, sizeof(head), "failalloc: call %llu (%s) fails:\n",
				   (unsigned long long)n, what);

		if (write(STDERR_FILENO, head, (size_t)len) == len)
			backtrace_symbols_fd(frames, backtrace(frames, 32), STDERR_FILENO);
	}
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return should_fail("malloc") ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail("calloc") ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return should_fail("realloc") ? NULL : __real_realloc(p, size);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return should_fail("reallocarray") ? NULL : __real_reallocarray(p, n, size);
}

char *__wrap_strdup(const char *s)
{
	return should_fail("strdup") ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail("strndup") ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **ret, const char *fmt, va_list ap)
{
	if (should_fail("vasprintf"))
		return -1;
	return __real_vasprintf(ret, fmt, ap);
}

int __wrap_asprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (should_fail("asprintf"))
		return -1;
	va_start(ap, fmt);
	r = __real_vasprintf(ret, fmt, ap);
	va_end(ap);
	return r;
}

char *__wrap_realpath(const char *path, char *resolved)
{
	if (!resolved && should_fail("realpath"))
		return NULL;
	return __real_realpath(path, resolved);
}

ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
	if (should_fail("getline"))
		return -1;
	return __real_getline(line, cap, f);
}
