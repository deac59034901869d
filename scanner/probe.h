#ifndef DRIFT_SCANNER_PROBE_H
#define DRIFT_SCANNER_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/entry.h"

struct diag;
struct strbuf;

/**
 * Probes: inventories of system state beside the walker. Each probe reads
 * one source (the dpkg database, etc/passwd, proc/modules...) under a root
 * directory and emits entries of its own kind(s), with a name as key and
 * named text properties (entry->props), which are stored, compared and
 * reported like files.
 *
 *     struct probe_ctx ctx = { .rootfd = fd, .emit = emit, .finding = finding, ... };
 *     const struct probe *p = probe_find("module");
 *     r = p->run(&ctx, &diag);   // 0, PROBE_UNAVAILABLE or -errno
 *
 * Every file is opened relative to ctx->rootfd with RESOLVE_IN_ROOT
 * (probe_open()), so a symlink inside a mounted image or container root
 * resolves inside it, and "etc/passwd" means the root's. A source that is
 * missing (ENOENT, no proc mounted under the root) makes run() return
 * PROBE_UNAVAILABLE having emitted nothing: it never fails the scan. A
 * malformed line is a *finding* (ctx->finding: file, line, message); the
 * probe skips that line and goes on. Only failures of the probe itself
 * (ENOMEM, EIO reading a source that exists, emit asking to stop) are
 * returned as -errno.
 *
 * Probes run on the calling thread, one after the other; emit is called on
 * that thread, with an entry (and what it points to) valid for the call.
 * Keys are unique within a kind in one run (a duplicate, e.g. a user listed
 * twice in etc/passwd, is a finding and only the first one is emitted).
 */

/** run() returns this (> 0) when its source does not exist under the root. */
#define PROBE_UNAVAILABLE 1

/** Called for every entry; return a negative errno to stop the probe (run() returns it). */
typedef int probe_emit_fn(const struct entry *e, void *userdata);

/**
 * Called for every problem in a source that exists: @file relative to the
 * root ("etc/passwd"), @line 1-based (0: not about one line), @msg a git-style
 * message ("malformed line: 4 fields, expected 7").
 */
typedef void probe_finding_fn(const char *probe, const char *file, unsigned line, const char *msg,
			      void *userdata);

struct probe_ctx {
	int rootfd;          /**< an O_PATH or O_RDONLY directory fd of the root ("/" normally) */
	enum hash_algo hash; /**< for content digests (unit files): HASH_NONE = XXH3-128 */
	/**
	 * Secret key for digests of password hashes (user/group: etc/shadow
	 * and etc/gshadow), so that a changed password is seen, but the
	 * stored digest reveals nothing, not even equality across hosts.
	 */
	const uint8_t *secret;
	size_t secret_len;
	probe_emit_fn *emit;
	probe_finding_fn *finding; /**< may be NULL */
	void *userdata;            /**< passed to emit and finding */
};

struct probe {
	const char *name;             /**< "package", "user", "service"... */
	const enum entry_kind *kinds; /**< the kinds it emits, ended by 0 */
	const char *summary;          /**< one line for --help and the man page */
	int (*run)(const struct probe_ctx *ctx, struct diag *reterr);
};

/** Every probe, in the order they run: package, user, service, sysctl, module, port, mount. */
extern const struct probe *const probe_list[];
extern const size_t probe_count;

/** The probe called @name, or NULL. */
const struct probe *probe_find(const char *name);

/** The probe that emits entries of @kind (ENTRY_GROUP: "user"), or NULL for files. */
const struct probe *probe_for_kind(enum entry_kind kind);

/**
 * Open @path (relative, no leading '/', e.g. "etc/passwd") under the root
 * fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) and @flags
 * (O_CLOEXEC is added). Returns the fd or a negative errno.
 */
int probe_open(int rootfd, const char *path, int flags);

/**
 * Read all of the small file @path under the root into a malloc()ed,
 * NUL-terminated buffer (*ret_buf, *ret_len without the NUL). At most 64
 * MiB (-EFBIG beyond). Returns 0 or a negative errno (-ENOENT when absent).
 */
int probe_read_file(int rootfd, const char *path, char **ret_buf, size_t *ret_len);

/*
 * Helpers shared by the probes (scanner/probe_io.c), for what every one of
 * them does the same way: reporting findings, reading a one-file source
 * line by line, splitting fields, checking numbers, building comma lists
 * and emitting entries.
 */

/**
 * Report a finding through ctx->finding (nothing when it is NULL): @probe
 * ("module"), @file relative to the root, @line 1-based (0: not about one
 * line), and the message formatted from @fmt, cut to 255 bytes.
 */
__attribute__((format(printf, 5, 6))) void probe_findingf(const struct probe_ctx *ctx,
							  const char *probe, const char *file,
							  unsigned line, const char *fmt, ...);

/** probe_source_read() returns this (> 0) when something else than a file sits at the path. */
#define PROBE_NOT_A_FILE 2

/**
 * probe_read_file() of the source @path of @probe, its failures sorted out:
 * returns 0 and the buffer (*ret_buf, *ret_len, as probe_read_file());
 * PROBE_UNAVAILABLE when @path does not exist; PROBE_NOT_A_FILE when a
 * directory, a device, a symlink loop... sits there (a finding on line 0
 * says "cannot read '@path': ..."); another negative errno (with @reterr)
 * when it cannot be read. *ret_buf and *ret_len are written only on 0.
 */
int probe_source_read(const struct probe_ctx *ctx, const char *probe, const char *path,
		      char **ret_buf, size_t *ret_len, struct diag *reterr);

/** An iterator over the lines of a buffer of probe_read_file(), cut in place. */
struct probe_lines {
	char *p, *end;
	unsigned line; /**< the 1-based number of the line last returned */
};

/** Start iterating over the @len bytes at @buf (NUL-terminated at @buf[@len]). */
void probe_lines_init(struct probe_lines *it, char *buf, size_t len);

/**
 * The next line, NUL-terminated in place without its '\n', or NULL at the
 * end (it->line is its number). A line that holds a NUL byte is reported
 * (@probe, @file: "malformed line: contains a NUL byte") and skipped.
 */
char *probe_lines_next(struct probe_lines *it, const struct probe_ctx *ctx, const char *probe,
		       const char *file);

/**
 * Split @s in place at runs of blanks (spaces and tabs) into at most @max
 * @fields. Returns the number of fields in @s: all are counted, also the
 * ones beyond @max, which are not stored.
 */
size_t probe_fields_split(char *s, char **fields, size_t max);

/** Whether @s is a non-empty string of decimal digits (of any length). */
bool probe_is_decimal(const char *s);

/**
 * Parse the non-empty decimal digits @s into *@ret_value, refusing a value
 * above @max (and anything but digits). Returns true when *@ret_value was
 * written.
 */
bool probe_parse_decimal(const char *s, uint64_t max, uint64_t *ret_value);

/** A qsort() comparator for an array of C strings (char * or const char *). */
int probe_strptr_cmp(const void *a, const void *b);

/**
 * Sort the @n strings @v in place and write them into @out (its contents
 * replaced) as a comma list without duplicates: {"b", "a", "b"} -> "a,b".
 * Returns 0 or -ENOMEM.
 */
int probe_list_join(const char **v, size_t n, struct strbuf *out);

/**
 * The comma list @list sorted, without empty names or duplicates, into @out
 * (its contents replaced): "b,a,,b" -> "a,b". Returns 0 or -ENOMEM.
 */
int probe_list_sort(const char *list, struct strbuf *out);

/** Set @p to the property @name with the NUL-terminated @value (borrowed). */
void probe_prop_set(struct entry_prop *p, const char *name, const char *value);

/** Write the @n bytes at @bytes as lowercase hex into @out (2 * @n + 1 bytes, NUL-terminated). */
void probe_hex(const uint8_t *bytes, size_t n, char *out);

/**
 * Emit through ctx->emit an entry of @kind keyed @key (@key_len bytes)
 * with the properties @props (a blob of entry_props_encode()). Returns what
 * emit returned.
 */
int probe_emit_entry(const struct probe_ctx *ctx, enum entry_kind kind, const char *key,
		     size_t key_len, const struct strbuf *props);

#endif /* DRIFT_SCANNER_PROBE_H */
