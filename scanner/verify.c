/*
 * Package verification: the MD5 of every installed file against the dpkg
 * database, like `debsums -a`.
 *
 * Components:
 *  - verify_collect(): on the calling thread, every file to check, from
 *    dpkg_pkg_files() of each installed package, into one flat array
 *    (struct vfile) whose paths live in one blob (offsets while it grows,
 *    pointers once it is complete).
 *  - worker(): each worker owns a 128 KiB read buffer (SCAN_HASH_BUF_SIZE,
 *    see scanner/hash.h for why not larger) and an EVP_MD_CTX; the MD5
 *    EVP_MD is fetched once and shared (it is immutable). A worker takes
 *    the next file with an atomic fetch-add on a shared counter and
 *    writes the outcome into that file's own slot: no two threads ever
 *    write the same memory, and the calling thread reads the slots only
 *    after pthread_join().
 *  - check_file(): open with RESOLVE_IN_ROOT (probe_open()), O_NOFOLLOW (a
 *    symlink in a file's place is reported, never followed), O_NONBLOCK (a
 *    FIFO cannot hang us), fstat for a regular file, read, compare.
 *  - scan_verify(): collect, run the workers, sort what is not OK by path
 *    and hand it to the callback.
 *  - scan_file_read(): the same read feeding MD5, the walker's digest
 *    and libmagic at once (scan_file_digests() without libmagic).
 */
#include "scanner/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>
#include <xxh_x86dispatch.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "scanner/attrs.h"
#include "scanner/dpkg.h"
#include "scanner/hash.h"
#include "scanner/probe.h"

#include "common/banned.h"

#define OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)

/* check_file(): the stop flag was raised in the middle of a file. */
#define CHECK_CANCELED (-ECANCELED)

struct vfile {
	union {
		size_t off; /* into the path blob, while collecting */
		const char *path;
	};
	size_t path_len;
	size_t pkg;
	uint8_t expected[16], actual[16];
	bool conffile;
	enum verify_status status;
	int err;
};

struct vshared {
	int rootfd;
	struct vfile *files;
	size_t n;
	atomic_size_t next;
	atomic_bool canceled;
	volatile sig_atomic_t *stop;
	const EVP_MD *md5;
};

struct worker {
	pthread_t tid;
	struct vshared *sh;
	uint64_t files, bytes;
	int r; /* a failure of the worker itself: -ENOMEM, -EIO */
};

static bool stop_raised(const struct vshared *sh)
{
	return sh->stop && *sh->stop;
}

/* ---- collecting ---- */

struct collect {
	struct vfile *files;
	size_t n, alloc;
	struct strbuf paths;
	size_t pkg;
	bool no_conffiles;
};

static int collect_file(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	struct collect *c = userdata;
	struct vfile *v;

	if (!f->has_md5 || f->obsolete || (f->conffile && c->no_conffiles))
		return 0;
	if (c->n == c->alloc) {
		size_t n = c->alloc ? c->alloc * 2 : 4096;
		struct vfile *fs = realloc(c->files, n * sizeof(*fs));

		if (!fs)
			return -ENOMEM;
		c->files = fs;
		c->alloc = n;
	}
	v = &c->files[c->n];
	memset(v, 0, sizeof(*v));
	v->off = c->paths.len;
	v->path_len = f->path_len;
	if (strbuf_add(&c->paths, f->path, f->path_len + 1) < 0) /* with its NUL */
		return -ENOMEM;
	v->pkg = c->pkg;
	memcpy(v->expected, f->md5, 16);
	v->conffile = f->conffile;
	c->n++;
	return 0;
}

/* "install ok installed", "hold ok installed": installed and not broken. */
static bool pkg_installed(const struct dpkg_pkg *p)
{
	size_t len = strlen(p->status);
	static const char tail[] = " ok installed";

	return len >= sizeof(tail) - 1 && !strcmp(p->status + len - (sizeof(tail) - 1), tail);
}

static int verify_collect(struct dpkg_db *db, bool no_conffiles, struct collect *c,
			  struct diag *reterr)
{
	int r;

	c->no_conffiles = no_conffiles;
	for (c->pkg = 0; c->pkg < dpkg_db_count(db); c->pkg++) {
		if (!pkg_installed(dpkg_db_get(db, c->pkg)))
			continue;
		r = dpkg_pkg_files(db, c->pkg, collect_file, c, reterr);
		if (r == -ENOMEM)
			return diag_set(reterr, r, "out of memory");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n; i++)
		c->files[i].path = c->paths.buf + c->files[i].off;
	return 0;
}

/* ---- checking ---- */

/* Read the open regular file @fd to its end into @ctx (already initialised). */
/* The head of a file kept for libmagic while it is hashed (scan_file_read()). */
struct head {
	unsigned char *buf;
	size_t len, cap; /* cap 0: nothing is kept */
};

static int read_digest(const struct vshared *sh, int fd, unsigned char *buf, EVP_MD_CTX *md5,
		       XXH3_state_t *xxh, EVP_MD_CTX *sha, struct head *head, uint64_t *ret_bytes)
{
	uint64_t total = 0;

	for (;;) {
		ssize_t n;

		if (sh && stop_raised(sh))
			return CHECK_CANCELED;
		n = read(fd, buf, SCAN_HASH_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (head && head->len < head->cap) {
			size_t take = head->cap - head->len < (size_t)n ? head->cap - head->len
									: (size_t)n;
			memcpy(head->buf + head->len, buf, take);
			head->len += take;
		}
		if (EVP_DigestUpdate(md5, buf, (size_t)n) != 1)
			return -EIO;
		if (xxh)
			XXH3_128bits_update(xxh, buf, (size_t)n);
		if (sha && EVP_DigestUpdate(sha, buf, (size_t)n) != 1)
			return -EIO;
	}
	*ret_bytes = total;
	return 0;
}

/* Open @path for reading and require a regular file. Returns the fd, or -errno (-EINVAL: not
 * regular). */
static int open_regular(int rootfd, const char *path)
{
	struct stat st;
	int fd = probe_open(rootfd, path, OPEN_FLAGS);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > SCAN_HASH_BUF_SIZE)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

static int check_file(struct worker *w, struct vfile *v, unsigned char *buf, EVP_MD_CTX *ctx)
{
	uint64_t bytes = 0;
	int fd, r;

	fd = open_regular(w->sh->rootfd, v->path);
	if (fd < 0) {
		v->err = -fd;
		switch (fd) {
		case -ENOENT:
		case -ENOTDIR:
			v->status = VERIFY_MISSING;
			break;
		case -EINVAL: /* open_regular(): opened, but not a regular file */
			v->status = VERIFY_NOT_REGULAR;
			v->err = 0;
			break;
		case -ELOOP: /* O_NOFOLLOW met a symlink */
		case -ENXIO: /* a socket */
			v->status = VERIFY_NOT_REGULAR;
			break;
		case -ENOMEM:
			return -ENOMEM;
		default:
			v->status = VERIFY_ERROR;
			break;
		}
		return 0;
	}
	if (EVP_DigestInit_ex2(ctx, w->sh->md5, NULL) != 1) {
		close(fd);
		return -EIO;
	}
	r = read_digest(w->sh, fd, buf, ctx, NULL, NULL, NULL, &bytes);
	close(fd);
	if (r == CHECK_CANCELED || r == -EIO)
		return r;
	if (r < 0) {
		v->status = VERIFY_ERROR;
		v->err = -r;
		return 0;
	}
	w->bytes += bytes;
	if (EVP_DigestFinal_ex(ctx, v->actual, NULL) != 1)
		return -EIO;
	v->status = memcmp(v->actual, v->expected, 16) ? VERIFY_MISMATCH : VERIFY_OK;
	return 0;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct vshared *sh = w->sh;
	unsigned char *buf = malloc(SCAN_HASH_BUF_SIZE);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!buf || !ctx) {
		w->r = -ENOMEM;
		goto out;
	}
	for (;;) {
		size_t i;
		int r;

		if (stop_raised(sh) || atomic_load_explicit(&sh->canceled, memory_order_relaxed)) {
			atomic_store(&sh->canceled, true);
			break;
		}
		i = atomic_fetch_add_explicit(&sh->next, 1, memory_order_relaxed);
		if (i >= sh->n)
			break;
		r = check_file(w, &sh->files[i], buf, ctx);
		if (r == CHECK_CANCELED) {
			atomic_store(&sh->canceled, true);
			break;
		}
		if (r < 0) {
			w->r = r;
			/* the others stop too: the run fails anyway */
			atomic_store(&sh->canceled, true);
			break;
		}
		w->files++;
	}
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return NULL;
}

static int vfile_cmp(const void *a, const void *b)
{
	const struct vfile *x = *(const struct vfile *const *)a,
			   *y = *(const struct vfile *const *)b;
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c = memcmp(x->path, y->path, n);

	if (c)
		return c;
	if (x->path_len != y->path_len)
		return x->path_len < y->path_len ? -1 : 1;
	return x->pkg < y->pkg ? -1 : x->pkg > y->pkg;
}

int scan_verify(int rootfd, struct dpkg_db *db, unsigned nthreads, const struct verify_opts *opts,
		verify_fn *fn, void *userdata, struct verify_stats *ret_stats, struct diag *reterr)
{
	struct collect c = { .paths = STRBUF_INIT };
	struct vshared sh = { .rootfd = rootfd, .stop = opts ? opts->stop : NULL };
	struct verify_stats st = { 0 };
	struct worker *workers = NULL;
	struct vfile **bad = NULL;
	EVP_MD *md5 = NULL;
	size_t nbad = 0;
	unsigned started = 0;
	int r;

	r = verify_collect(db, opts && opts->no_conffiles, &c, reterr);
	if (r < 0)
		goto out;
	if (sh.stop && *sh.stop) {
		r = -ECANCELED;
		goto out;
	}
	sh.files = c.files;
	sh.n = c.n;
	atomic_init(&sh.next, 0);
	atomic_init(&sh.canceled, false);
	md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	if (!md5) {
		r = diag_set(reterr, -EIO, "cannot verify: MD5 is not available from OpenSSL");
		goto out;
	}
	sh.md5 = md5;
	if (nthreads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = n > 0 ? (unsigned)n : 1;
	}
	if (nthreads > c.n)
		nthreads = (unsigned)c.n;
	if (nthreads) {
		workers = calloc(nthreads, sizeof(*workers));
		if (!workers) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (unsigned i = 0; i < nthreads; i++) {
		workers[i].sh = &sh;
		if (pthread_create(&workers[i].tid, NULL, worker_run, &workers[i]) != 0)
			break; /* go on with those that started */
		started++;
	}
	if (nthreads && !started) {
		r = diag_set(reterr, -EAGAIN, "cannot start a verification thread");
		goto out;
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(workers[i].tid, NULL);
		st.files += workers[i].files;
		st.bytes += workers[i].bytes;
		if (workers[i].r < 0 && r == 0)
			r = workers[i].r;
	}
	if (r == -ENOMEM) {
		r = diag_set(reterr, r, "out of memory");
		goto out;
	}
	if (r < 0) {
		r = diag_set(reterr, r, "cannot compute an MD5 with OpenSSL");
		goto out;
	}
	if (atomic_load(&sh.canceled) || (sh.stop && *sh.stop)) {
		r = -ECANCELED;
		goto out;
	}

	for (size_t i = 0; i < c.n; i++)
		if (c.files[i].status != VERIFY_OK)
			nbad++;
	if (nbad) {
		bad = malloc(nbad * sizeof(*bad));
		if (!bad) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		nbad = 0;
		for (size_t i = 0; i < c.n; i++)
			if (c.files[i].status != VERIFY_OK)
				bad[nbad++] = &c.files[i];
		qsort(bad, nbad, sizeof(*bad), vfile_cmp);
	}
	for (size_t i = 0; i < nbad; i++) {
		const struct vfile *v = bad[i];
		struct verify_result res = {
			.pkg = dpkg_db_get(db, v->pkg),
			.path = v->path,
			.path_len = v->path_len,
			.conffile = v->conffile,
			.status = v->status,
			.err = v->err,
		};

		memcpy(res.expected, v->expected, 16);
		if (v->status == VERIFY_MISMATCH)
			memcpy(res.actual, v->actual, 16);
		switch (v->status) {
		case VERIFY_MISMATCH:
			st.mismatches++;
			break;
		case VERIFY_MISSING:
			st.missing++;
			break;
		case VERIFY_NOT_REGULAR:
			st.not_regular++;
			break;
		default:
			st.errors++;
			break;
		}
		if (fn) {
			r = fn(&res, userdata);
			if (r < 0)
				goto out;
		}
	}
	if (ret_stats)
		*ret_stats = st;
	r = 0;
out:
	free(bad);
	free(workers);
	EVP_MD_free(md5);
	free(c.files);
	strbuf_release(&c.paths);
	return r;
}

/* ---- one file, read once: two digests and its type ---- */

int scan_file_read(int rootfd, const char *path, struct scan_file_read *io, struct diag *reterr)
{
	unsigned char *buf = NULL, md5[16], sha_out[32];
	EVP_MD_CTX *mctx = NULL, *sctx = NULL;
	XXH3_state_t *xxh = NULL;
	struct head head = { 0 };
	enum hash_algo algo = io->algo;
	uint64_t bytes;
	int fd = -1, r;

	if (algo != HASH_NONE && algo != HASH_MD5 && algo != HASH_XXH3_128 && algo != HASH_SHA256)
		return diag_set(reterr, -EINVAL, "unknown hash algorithm %d", (int)algo);
	fd = open_regular(rootfd, path);
	if (fd < 0) {
		r = diag_set(reterr, fd,
			     fd == -EINVAL ? "cannot read '%s': not a regular file"
					   : "cannot open '%s': %s",
			     path, strerror(-fd));
		fd = -1;
		goto out;
	}
	buf = malloc(SCAN_HASH_BUF_SIZE);
	mctx = EVP_MD_CTX_new();
	if (!buf || !mctx)
		goto oom;
	/* What libmagic would read of it, or at least the header, kept from the same read. */
	head.cap = io->magic ? SCAN_MAGIC_BYTES_MAX : SCAN_READ_HEAD;
	head.buf = malloc(head.cap);
	if (!head.buf)
		goto oom;
	if (EVP_DigestInit_ex2(mctx, EVP_md5(), NULL) != 1)
		goto ssl;
	if (algo == HASH_XXH3_128) {
		xxh = XXH3_createState();
		if (!xxh)
			goto oom;
		XXH3_128bits_reset(xxh);
	} else if (algo == HASH_SHA256) {
		sctx = EVP_MD_CTX_new();
		if (!sctx)
			goto oom;
		if (EVP_DigestInit_ex2(sctx, EVP_sha256(), NULL) != 1)
			goto ssl;
	}
	r = read_digest(NULL, fd, buf, mctx, xxh, sctx, &head, &bytes);
	if (r == -EIO)
		goto ssl;
	if (r < 0) {
		r = diag_set(reterr, r, "cannot read '%s': %s", path, strerror(-r));
		goto out;
	}
	if (EVP_DigestFinal_ex(mctx, md5, NULL) != 1)
		goto ssl;
	if (sctx && EVP_DigestFinal_ex(sctx, sha_out, NULL) != 1)
		goto ssl;
	if (io->magic) {
		const char *mime = scan_magic_buffer(io->magic, head.buf, head.len);

		io->mime = mime ? strdup(mime) : NULL;
		if (mime && !io->mime)
			goto oom;
	}
	memcpy(io->md5, md5, 16);
	io->head_len = head.len < SCAN_READ_HEAD ? head.len : SCAN_READ_HEAD;
	memcpy(io->head, head.buf, io->head_len);
	if (xxh) {
		XXH128_canonical_t canon;

		XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(xxh));
		io->hash.hash_algo = HASH_XXH3_128;
		io->hash.hash_len = 16;
		memset(io->hash.hash, 0, sizeof(io->hash.hash));
		memcpy(io->hash.hash, canon.digest, 16);
	} else if (sctx) {
		io->hash.hash_algo = HASH_SHA256;
		io->hash.hash_len = 32;
		memcpy(io->hash.hash, sha_out, 32);
	}
	r = 0;
	goto out;
oom:
	r = diag_set(reterr, -ENOMEM, "out of memory");
	goto out;
ssl:
	r = diag_set(reterr, -EIO, "cannot hash '%s': OpenSSL failed", path);
out:
	XXH3_freeState(xxh);
	EVP_MD_CTX_free(sctx);
	EVP_MD_CTX_free(mctx);
	free(head.buf);
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

int scan_file_digests(int rootfd, const char *path, enum hash_algo algo, uint8_t ret_md5[16],
		      struct entry *ret_hash, struct diag *reterr)
{
	struct scan_file_read io = { .algo = algo };
	int r = scan_file_read(rootfd, path, &io, reterr);

	if (r < 0)
		return r;
	memcpy(ret_md5, io.md5, 16);
	if (ret_hash && io.hash.hash_len) {
		ret_hash->hash_algo = io.hash.hash_algo;
		ret_hash->hash_len = io.hash.hash_len;
		memcpy(ret_hash->hash, io.hash.hash, sizeof(ret_hash->hash));
	}
	return 0;
}
