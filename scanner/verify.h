#ifndef DRIFT_SCANNER_VERIFY_H
#define DRIFT_SCANNER_VERIFY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/entry.h"

struct diag;
struct dpkg_db;
struct dpkg_pkg;

/**
 * Checking installed files against the MD5 sums of the dpkg database, like
 * `debsums -a`, with worker threads.
 *
 *     struct verify_opts o = { .stop = &got_sigint };
 *     struct verify_stats st;
 *     r = scan_verify(rootfd, db, 0, &o, on_result, ud, &st, &diag);
 */

/** What is wrong with one file. */
enum verify_status {
	VERIFY_OK = 0,      /**< never handed to the callback */
	VERIFY_MISMATCH,    /**< read fine, the MD5 differs */
	VERIFY_MISSING,     /**< ENOENT or ENOTDIR: not there */
	VERIFY_NOT_REGULAR, /**< a symlink, directory, FIFO, device... where a file should be */
	VERIFY_ERROR,       /**< open or read failed otherwise: see err */
};

/** One file that did not check out. Pointers are valid during the callback. */
struct verify_result {
	const struct dpkg_pkg *pkg; /**< the db's package */
	const char *path;           /**< canonical, absolute, NUL-terminated */
	size_t path_len;
	bool conffile;
	enum verify_status status;
	int err;              /**< errno of VERIFY_ERROR (and of MISSING/NOT_REGULAR), else 0 */
	uint8_t expected[16]; /**< the database's MD5 */
	uint8_t actual[16];   /**< VERIFY_MISMATCH only: the content's MD5 */
};

/** Return a negative errno to stop: scan_verify() returns it. */
typedef int verify_fn(const struct verify_result *res, void *userdata);

struct verify_opts {
	bool no_conffiles; /**< leave conffiles out (debsums without -a) */
	/**
	 * May be NULL. Checked between files (and between reads of a large
	 * file): once non-zero, scan_verify() returns -ECANCELED. A signal
	 * handler may set it.
	 */
	volatile sig_atomic_t *stop;
};

/** Counts of one run. */
struct verify_stats {
	uint64_t files;       /**< files checked (every outcome) */
	uint64_t bytes;       /**< bytes read */
	uint64_t mismatches;  /**< VERIFY_MISMATCH */
	uint64_t missing;     /**< VERIFY_MISSING */
	uint64_t not_regular; /**< VERIFY_NOT_REGULAR */
	uint64_t errors;      /**< VERIFY_ERROR */
};

/**
 * Check every file with a known MD5 of every package in state
 * "install ok installed" (conffiles too, unless opts->no_conffiles;
 * obsolete conffiles never): open its canonical path under @rootfd with
 * probe_open(O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY), require a regular
 * file, read it through a 128 KiB per-worker buffer into MD5, compare.
 *
 * The list of files is built first, on the calling thread
 * (dpkg_pkg_files(): findings go to the db's callback); then @nthreads
 * workers (0: the online CPUs; never more than the files) take files from
 * a shared atomic counter. Once they are done, every result that is not
 * VERIFY_OK goes to @fn (may be NULL), on the calling thread, sorted by path
 * (then package). @opts may be NULL.
 *
 * Returns 0 and the counts in *@ret_stats (may be NULL); -ECANCELED when
 * *opts->stop was raised (@fn not called); the negative errno @fn
 * returned; -ENOMEM, -EIO (MD5 unavailable from OpenSSL), -EAGAIN (no
 * thread could be started) or an error of dpkg_pkg_files(), with a
 * message. *@ret_stats is untouched on failure.
 */
int scan_verify(int rootfd, struct dpkg_db *db, unsigned nthreads, const struct verify_opts *opts,
		verify_fn *fn, void *userdata, struct verify_stats *ret_stats, struct diag *reterr);

/**
 * Read the regular file @path (absolute or relative to the root, opened
 * like scan_verify() does) once, computing its MD5 into @ret_md5 and, when
 * @algo is HASH_XXH3_128 or HASH_SHA256, that digest too, in the form the
 * walker stores (XXH3-128 canonical big-endian 16 bytes, SHA-256 32 bytes):
 * ret_hash->hash_algo, hash_len and hash are set, nothing else in
 * *@ret_hash. With HASH_NONE or HASH_MD5 @ret_hash is not written (may be
 * NULL).
 *
 * Returns 0; -EINVAL for another @algo or when @path is not a regular
 * file (-ELOOP for a symlink); -errno of opening or reading (-ENOENT...);
 * -EIO when OpenSSL fails; with a message. Nothing is written on failure.
 */
int scan_file_digests(int rootfd, const char *path, enum hash_algo algo, uint8_t ret_md5[16],
		      struct entry *ret_hash, struct diag *reterr);

/** What scan_file_read() is asked for, and what it found. */
/** How many of a file's first bytes scan_file_read() keeps (a .pyc header is 16). */
#define SCAN_READ_HEAD 16

struct scan_file_read {
	/** In: the digest besides MD5: HASH_NONE, HASH_MD5 (none more), XXH3-128 or SHA-256. */
	enum hash_algo algo;
	/**
	 * In: a handle of scan_magic_open() (scanner/attrs.h), or NULL. With
	 * one, the first SCAN_MAGIC_BYTES_MAX bytes of the same read are kept
	 * and libmagic's MIME type of them goes to @mime.
	 */
	struct magic_set *magic;
	uint8_t md5[16];   /**< out: the MD5 sum */
	struct entry hash; /**< out: hash_algo, hash_len and hash, for @algo */
	/** out: malloc()ed MIME type; NULL when not asked or libmagic could not tell. */
	char *mime;
	/** out: the first bytes of the same read (a file format's header), @head_len of them. */
	uint8_t head[SCAN_READ_HEAD];
	size_t head_len;
};

/**
 * scan_file_digests() and the MIME type in one read of @path: the file is
 * opened once and read once, whatever is asked. Returns as
 * scan_file_digests(); on failure nothing in @io is set.
 */
int scan_file_read(int rootfd, const char *path, struct scan_file_read *io, struct diag *reterr);

#endif /* DRIFT_SCANNER_VERIFY_H */
