/*
 * Content hashing: the XXH3-128 or SHA-256 of one regular file, the way the
 * walker needs it.
 *
 * Components:
 *  - digest_*(): the two algorithms behind one face (one-shot, reset,
 *    update, final), on the hasher's own state: an XXH3_state_t, or an
 *    EVP_MD_CTX with the SHA256 EVP_MD fetched once per hasher (fetching
 *    per file would look the provider up 130,000 times a scan). OpenSSL
 *    picks its SHA-NI (or AVX2) code at run time.
 *  - open_file(): O_NOFOLLOW|O_NONBLOCK|O_NOCTTY (a symlink, FIFO or tty is
 *    never followed, waited on or adopted) plus O_NOATIME with the EPERM
 *    fallback (only the owner may ask for it).
 *  - hash_once(): one attempt. fstat the fd and require a regular file with
 *    the st_dev/st_ino the walker looked up, otherwise report HASH_SWAPPED.
 *    Files that fit the worker's buffer take one read() and a one-shot
 *    XXH3_128bits(); larger ones stream with POSIX_FADV_SEQUENTIAL.
 *    Sparse files (fewer allocated blocks than bytes) walk their data
 *    extents with SEEK_DATA/SEEK_HOLE and feed zeros for the holes from a
 *    static buffer, so the digest is that of the logical content while the
 *    holes are never read. A second fstat after reading, compared with the
 *    first (size, mtime, ctime, link count) and with the byte count, tells
 *    whether the file changed under us.
 *  - feed_blocks(): files with more than h->blocks_min (SCAN_HASH_BLOCKS_MIN,
 *    64 GiB) bytes of holes are hashed in block form (scanner/hash.h): the
 *    non-zero 4 KiB blocks of the data extents with their offsets, so holes
 *    cost nothing however large (zeros cost as much as data, and 1 EiB of
 *    holes costs nothing to create). The holes are told from the
 *    allocation (st_size minus 512 * st_blocks, a lower bound), so an
 *    unchanged file always gets the same form.
 *    Every 64 KiB of zeros and every read checks the stop flag, so a stop
 *    request ends even a long file within microseconds.
 *  - Opening may find something else than the regular file looked up: a
 *    symlink (ELOOP), a socket or device (ENXIO, ENODEV), nothing (ENOENT).
 *    That is reported as HASH_UNOPENED and the retry policy looks the name
 *    up again, as for a swapped file.
 *  - scan_hasher_entry(): the retry policy. A changed or swapped file is
 *    looked up again and re-read once; if it changed again, the last digest
 *    is kept and the entry is flagged ENTRY_CHANGED_WHILE_READ.
 *  - scan_hash_file(): the single-threaded public wrapper.
 *
 * The one-shot and streaming entry points come from <xxh_x86dispatch.h>:
 * Debian's libxxhash exports the *_dispatch symbols, which pick the AVX2 or
 * AVX-512 kernel at run time (about 2.8x the default SSE2 build's speed).
 * Including the header after <xxhash.h> remaps XXH3_128bits() and
 * XXH3_128bits_update() to them; reset and digest have no SIMD part.
 */
#include "scanner/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>
#include <xxh_x86dispatch.h>

#include "common/entry.h"
#include "scanner/scanner.h"
#include "scanner/sys.h"

#include "common/banned.h"

/* O_NONBLOCK: should the name be swapped for a FIFO, open() must not hang. */
#define OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

enum hash_outcome {
	HASH_STABLE = 0,     /* read once, nothing moved */
	HASH_CHANGED = 1,    /* digest computed, but size/mtime/ctime/bytes moved */
	HASH_SWAPPED = 2,    /* the name now designates another file, or not a regular file */
	HASH_UNOPENED = 3,   /* open failed as if it were no longer a regular file: see errno */
	HASH_TOO_SPARSE = 4, /* the filesystem hides its holes: not hashed (feed_blocks()) */
};

/* feed_blocks(): more data read than the allocation allows. Never an errno of read() or lseek(). */
#define FEED_TOO_SPARSE (-EFBIG)

/* Fed for holes of sparse files; 64 KiB of zeros costs ~2 us of XXH3 per call. */
static const unsigned char zeros[64 * 1024];

uint8_t scan_hash_len(enum hash_algo algo)
{
	switch (algo) {
	case HASH_XXH3_128:
		return 16;
	case HASH_SHA256:
		return 32;
	case HASH_MD5:
		return 16;
	case HASH_NONE:
		break;
	}
	return 0;
}

int scan_hasher_init(struct scan_hasher *h, enum hash_algo algo, size_t buf_size)
{
	int r = -ENOMEM;

	memset(h, 0, sizeof(*h));
	h->algo = algo;
	if (algo == HASH_XXH3_128) {
		h->state = XXH3_createState();
		if (!h->state)
			goto fail;
	} else if (algo == HASH_SHA256) {
		h->sha = EVP_MD_CTX_new();
		if (!h->sha)
			goto fail;
		h->sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (!h->sha_md) {
			r = -EIO;
			goto fail;
		}
	} else {
		return -EOPNOTSUPP;
	}
	h->buf = malloc(buf_size);
	if (!h->buf)
		goto fail;
	h->buf_size = buf_size;
	h->blocks_min = SCAN_HASH_BLOCKS_MIN;
	return 0;
fail:
	scan_hasher_release(h);
	return r;
}

void scan_hasher_release(struct scan_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->state);
	EVP_MD_CTX_free(h->sha);
	EVP_MD_free(h->sha_md);
	free(h->buf);
	h->state = NULL;
	h->sha = NULL;
	h->sha_md = NULL;
	h->buf = NULL;
	h->buf_size = 0;
}

/* ---- the algorithms: 0 or -EIO (OpenSSL failed) ---- */

static int digest_reset(struct scan_hasher *h)
{
	if (h->algo == HASH_SHA256)
		return EVP_DigestInit_ex2(h->sha, h->sha_md, NULL) == 1 ? 0 : -EIO;
	XXH3_128bits_reset(h->state);
	return 0;
}

static int digest_update(struct scan_hasher *h, const void *p, size_t n)
{
	if (h->algo == HASH_SHA256)
		return EVP_DigestUpdate(h->sha, p, n) == 1 ? 0 : -EIO;
	XXH3_128bits_update(h->state, p, n);
	return 0;
}

/* The digest bytes as `xxhsum -H2` / `sha256sum` print them, scan_hash_len() of them. */
static int digest_final(struct scan_hasher *h, unsigned char out[ENTRY_HASH_MAX])
{
	XXH128_canonical_t canon;

	if (h->algo == HASH_SHA256)
		return EVP_DigestFinal_ex(h->sha, out, NULL) == 1 ? 0 : -EIO;
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(h->state));
	memcpy(out, canon.digest, 16);
	return 0;
}

static int digest_oneshot(struct scan_hasher *h, const void *p, size_t n,
			  unsigned char out[ENTRY_HASH_MAX])
{
	XXH128_canonical_t canon;
	int r;

	if (h->algo == HASH_SHA256) {
		r = digest_reset(h);
		if (r == 0)
			r = digest_update(h, p, n);
		return r < 0 ? r : digest_final(h, out);
	}
	XXH128_canonicalFromHash(&canon, XXH3_128bits(p, n));
	memcpy(out, canon.digest, 16);
	return 0;
}

static void progress_add(struct scan_hasher *h, uint64_t n)
{
	if (h->progress)
		atomic_fetch_add_explicit(h->progress, n, memory_order_relaxed);
}

static bool stop_requested(const struct scan_hasher *h)
{
	return h->stop && atomic_load_explicit(h->stop, memory_order_relaxed);
}

static int open_file(int dirfd, const char *name)
{
	int fd = scan_sys_openat(dirfd, name, OPEN_FLAGS | O_NOATIME);

	/* O_NOATIME is refused (EPERM) unless we own the file or have CAP_FOWNER. */
	if (fd == -EPERM)
		fd = scan_sys_openat(dirfd, name, OPEN_FLAGS);
	return fd;
}

/* Stream up to @limit bytes (UINT64_MAX: to end of file). Returns bytes fed or -errno. */
static int64_t feed_read(struct scan_hasher *h, int fd, uint64_t limit)
{
	uint64_t total = 0;
	int r;

	while (total < limit) {
		size_t want = h->buf_size;
		ssize_t n;

		if (stop_requested(h))
			return -ECANCELED;
		if (limit - total < want)
			want = (size_t)(limit - total);
		n = scan_sys_read(fd, h->buf, want);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		r = digest_update(h, h->buf, (size_t)n);
		if (r < 0)
			return r;
		total += (uint64_t)n;
		progress_add(h, (uint64_t)n);
	}
	return (int64_t)total;
}

/* Feed @n zeros (a hole). Returns 0, -ECANCELED when a stop was requested meanwhile, -EIO. */
static int feed_zeros(struct scan_hasher *h, uint64_t n)
{
	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (stop_requested(h))
			return -ECANCELED;
		if (digest_update(h, zeros, k) < 0)
			return -EIO;
		progress_add(h, k);
		n -= k;
	}
	return 0;
}

/*
 * Feed the logical content of a sparse file of @size bytes: zeros for the
 * holes, read() for the data extents. Returns the logical bytes fed or
 * -errno. Falls back to plain reading where SEEK_DATA is not supported.
 */
static int64_t feed_sparse(struct scan_hasher *h, int fd, uint64_t size)
{
	uint64_t off = 0;
	int64_t r;

	while (off < size) {
		int64_t data = scan_sys_lseek(fd, (int64_t)off, SEEK_DATA);
		int64_t hole;
		uint64_t want;

		if (data == -ENXIO) {
			data = (int64_t)size; /* only a hole up to the end */
		} else if (data == -EINVAL || data == -EOPNOTSUPP) {
			/* No SEEK_DATA here: read the rest, holes included. */
			r = scan_sys_lseek(fd, (int64_t)off, SEEK_SET);
			if (r < 0)
				return r;
			r = feed_read(h, fd, UINT64_MAX);
			return r < 0 ? r : (int64_t)off + r;
		} else if (data < 0) {
			return data;
		}
		if ((uint64_t)data > size)
			data = (int64_t)size; /* grew meanwhile: the final fstat notices */
		r = feed_zeros(h, (uint64_t)data - off);
		if (r < 0)
			return r;
		off = (uint64_t)data;
		if (off >= size)
			break;

		hole = scan_sys_lseek(fd, (int64_t)off, SEEK_HOLE);
		if (hole == -ENXIO)
			return (int64_t)off; /* shrank meanwhile: the size check notices */
		if (hole < 0)
			return hole;
		if ((uint64_t)hole > size || (uint64_t)hole <= off)
			hole = (int64_t)size;
		r = scan_sys_lseek(fd, (int64_t)off, SEEK_SET);
		if (r < 0)
			return r;
		want = (uint64_t)hole - off;
		r = feed_read(h, fd, want);
		if (r < 0)
			return r;
		off += (uint64_t)r;
		if ((uint64_t)r < want)
			break; /* end of file came early: truncated meanwhile */
	}
	return (int64_t)off;
}

/* read() until @want bytes or the end of the file. Returns the bytes read or -errno. */
static int64_t read_full(int fd, unsigned char *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = scan_sys_read(fd, buf + got, want - got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (int64_t)got;
}

static void put_le64(unsigned char out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Feed @n bytes read at offset @at (a multiple of SCAN_HASH_BLOCK) in block
 * form: each block that is not all zeros, after its offset. 0 or -EIO.
 */
static int feed_block_run(struct scan_hasher *h, const unsigned char *p, size_t n, uint64_t at)
{
	for (size_t i = 0; i < n; i += SCAN_HASH_BLOCK) {
		size_t k = n - i < SCAN_HASH_BLOCK ? n - i : SCAN_HASH_BLOCK;
		unsigned char off[8];

		if (!memcmp(p + i, zeros, k))
			continue; /* a zero block is a hole: the same digest */
		put_le64(off, at + i);
		if (digest_update(h, off, sizeof(off)) < 0 || digest_update(h, p + i, k) < 0)
			return -EIO;
	}
	return 0;
}

/*
 * Feed a file of @size bytes in block form (scanner/hash.h): a header, then
 * the non-zero blocks of its data extents, found with SEEK_DATA/SEEK_HOLE
 * (every block is read where they are not supported). Holes are skipped,
 * never fed. Returns the logical bytes covered (@size unless the file
 * shrank meanwhile) or -errno.
 */
static int64_t feed_blocks(struct scan_hasher *h, int fd, uint64_t size, uint64_t allocated)
{
	static const char magic[] = "drift-blocks-v1\n";
	const size_t chunk = h->buf_size - h->buf_size % SCAN_HASH_BLOCK;
	/*
	 * A filesystem that does not say where its holes are (no SEEK_DATA,
	 * or one that calls everything data: some FUSE and NFS servers) would
	 * have us read every hole. Past the allocation plus blocks_min of
	 * reading, give up: the file is recorded unhashed, as too sparse.
	 */
	const uint64_t read_max = allocated + h->blocks_min;
	uint64_t off = 0, read_total = 0;
	unsigned char le[8];
	bool seek = true;
	int64_t r;

	put_le64(le, size);
	if (digest_update(h, magic, sizeof(magic) - 1) < 0 || digest_update(h, le, sizeof(le)) < 0)
		return -EIO;
	if (chunk == 0)
		return -EINVAL;
	while (off < size) {
		int64_t data = seek ? scan_sys_lseek(fd, (int64_t)off, SEEK_DATA) : (int64_t)off;
		int64_t hole;

		if (data == -ENXIO) {
			progress_add(h, size - off);
			return (int64_t)size; /* only a hole up to the end */
		}
		if (data == -EINVAL || data == -EOPNOTSUPP) {
			seek = false; /* no SEEK_DATA here: read every block */
			data = (int64_t)off;
		} else if (data < 0) {
			return data;
		}
		if ((uint64_t)data >= size) {
			progress_add(h, size - off);
			return (int64_t)size; /* grew meanwhile: the final fstat notices */
		}
		/*
		 * The hole after the data, looked for from the data itself: on a
		 * filesystem with 1 KiB blocks an extent may start inside a 4 KiB
		 * block, and from the block's start SEEK_HOLE would find the hole
		 * before it (then everything to the end would be read).
		 */
		hole = seek ? scan_sys_lseek(fd, data, SEEK_HOLE) : (int64_t)size;
		if (hole == -ENXIO)
			return (int64_t)off; /* shrank meanwhile: the size check notices */
		if (hole < 0)
			return hole;
		if ((uint64_t)hole > size || hole <= data)
			hole = (int64_t)size;
		data -= data % (int64_t)SCAN_HASH_BLOCK; /* blocks start at multiples of 4096 */
		if ((uint64_t)data < off)
			data = (int64_t)off;
		progress_add(h, (uint64_t)data - off);
		r = scan_sys_lseek(fd, data, SEEK_SET);
		if (r < 0)
			return r;
		off = (uint64_t)data;
		while (off < (uint64_t)hole) {
			uint64_t left = (uint64_t)hole - off;
			size_t want = left < chunk ? (size_t)left : chunk;

			if (stop_requested(h))
				return -ECANCELED;
			if (read_total > read_max)
				return FEED_TOO_SPARSE;
			/* Whole blocks: round up, the next extent starts on a block anyway. */
			if (want % SCAN_HASH_BLOCK &&
			    want + SCAN_HASH_BLOCK - want % SCAN_HASH_BLOCK <= chunk)
				want += SCAN_HASH_BLOCK - want % SCAN_HASH_BLOCK;
			r = read_full(fd, h->buf, want);
			if (r < 0)
				return r;
			if (feed_block_run(h, h->buf, (size_t)r, off) < 0)
				return -EIO;
			progress_add(h, (uint64_t)r);
			off += (uint64_t)r;
			read_total += (uint64_t)r;
			if ((size_t)r < want)
				return (int64_t)off; /* the end came early: shrank meanwhile */
		}
	}
	return (int64_t)(off < size ? size : off);
}

static bool stat_moved(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	       a->st_mtim.tv_nsec != b->st_mtim.tv_nsec || a->st_ctim.tv_sec != b->st_ctim.tv_sec ||
	       a->st_ctim.tv_nsec != b->st_ctim.tv_nsec || b->st_nlink == 0;
}

/*
 * One attempt at hashing @name, expected to be the regular file *walked.
 * Returns enum hash_outcome (with *ret_after and @digest filled for STABLE
 * and CHANGED, *ret_open_err for UNOPENED) or -errno.
 */
static int hash_once(struct scan_hasher *h, int dirfd, const char *name, const struct stat *walked,
		     struct stat *ret_after, unsigned char digest[ENTRY_HASH_MAX], int *ret_fd,
		     int *ret_open_err)
{
	struct stat before, after;
	uint64_t size;
	int64_t total;
	int fd, r;

	h->whole = false;
	fd = open_file(dirfd, name);
	if (fd == -ELOOP || fd == -ENXIO || fd == -ENODEV || fd == -ENOENT) {
		/* A symlink, socket, device... or nothing: what is there now? */
		*ret_open_err = -fd;
		return HASH_UNOPENED;
	}
	if (fd < 0)
		return fd;
	r = scan_sys_fstat(fd, &before);
	if (r < 0)
		goto out_close;
	if (!S_ISREG(before.st_mode) || before.st_dev != walked->st_dev ||
	    before.st_ino != walked->st_ino) {
		r = HASH_SWAPPED;
		goto out_close;
	}

	size = (uint64_t)before.st_size;
	if (size <= h->buf_size) {
		size_t got = 0;

		/* Usually one read(): stop once st_size bytes are in, do not probe for EOF. */
		while (got < h->buf_size) {
			ssize_t n = scan_sys_read(fd, h->buf + got, h->buf_size - got);

			if (n < 0) {
				r = (int)n;
				goto out_close;
			}
			if (n == 0)
				break;
			got += (size_t)n;
			if (size > 0 && got >= size)
				break;
		}
		progress_add(h, got);
		if (got < h->buf_size || got <= size) {
			r = digest_oneshot(h, h->buf, got, digest);
			if (r < 0)
				goto out_close;
			total = (int64_t)got;
			h->whole = true;
			h->whole_len = got;
		} else {
			/* It grew past the buffer while we read: carry on streaming. */
			r = digest_reset(h);
			if (r == 0)
				r = digest_update(h, h->buf, got);
			if (r < 0)
				goto out_close;
			total = feed_read(h, fd, UINT64_MAX);
			if (total < 0) {
				r = (int)total;
				goto out_close;
			}
			total += (int64_t)got;
			r = digest_final(h, digest);
			if (r < 0)
				goto out_close;
		}
	} else {
		uint64_t allocated = (uint64_t)before.st_blocks * 512;

		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		r = digest_reset(h);
		if (r < 0)
			goto out_close;
		if (allocated < size && size - allocated > h->blocks_min)
			total = feed_blocks(h, fd, size, allocated);
		else if (allocated < size)
			total = feed_sparse(h, fd, size);
		else
			total = feed_read(h, fd, UINT64_MAX);
		if (total == FEED_TOO_SPARSE) {
			*ret_after = before;
			r = HASH_TOO_SPARSE;
			goto out_close;
		}
		if (total < 0) {
			r = (int)total;
			goto out_close;
		}
		r = digest_final(h, digest);
		if (r < 0)
			goto out_close;
	}

	r = scan_sys_fstat(fd, &after);
	if (r < 0)
		goto out_close;
	r = stat_moved(&before, &after) || (uint64_t)total != size ? HASH_CHANGED : HASH_STABLE;
	*ret_after = after;
	if (ret_fd) {
		*ret_fd = fd; /* the caller reads more through it (attributes) */
		return r;
	}
out_close:
	close(fd);
	return r;
}

static void entry_set_hash(struct entry *e, enum hash_algo algo,
			   const unsigned char digest[ENTRY_HASH_MAX])
{
	e->hash_algo = algo;
	e->hash_len = scan_hash_len(algo);
	memcpy(e->hash, digest, e->hash_len);
}

int scan_hasher_entry_keep(struct scan_hasher *h, int dirfd, const char *name, struct stat *st,
			   struct entry *e, int *ret_fd)
{
	unsigned char digest[ENTRY_HASH_MAX] = { 0 };
	struct stat after, fresh;
	int r;

	for (int attempt = 0;; attempt++) {
		int fd = -1, open_err = 0;

		r = hash_once(h, dirfd, name, st, &after, digest, ret_fd ? &fd : NULL, &open_err);
		if (r == -ECANCELED)
			return r;
		if (r >= 0 && fd >= 0 && (r == HASH_STABLE || (r == HASH_CHANGED && attempt > 0))) {
			*ret_fd = fd;
			fd = -1;
		}
		if (fd >= 0)
			close(fd); /* not the final read: retried below */
		if (r < 0) {
			e->err = -r;
			return 0;
		}
		if (r == HASH_TOO_SPARSE) {
			*st = after;
			e->flags |= ENTRY_NOT_HASHED_TOO_SPARSE;
			return 0;
		}
		if (r == HASH_UNOPENED) {
			/* Swapped for a symlink, socket...? Then record what is there now. */
			r = scan_sys_fstatat(dirfd, name, &fresh, AT_SYMLINK_NOFOLLOW);
			if (r < 0) {
				e->err = -r; /* ENOENT: it vanished */
				return 0;
			}
			if (!S_ISREG(fresh.st_mode)) {
				*st = fresh;
				return SCAN_HASH_RETYPE;
			}
			if (attempt > 0 ||
			    (fresh.st_dev == st->st_dev && fresh.st_ino == st->st_ino)) {
				*st = fresh; /* the regular file itself cannot be opened */
				e->err = open_err;
				return 0;
			}
			*st = fresh; /* another regular file by that name now: read it */
			continue;
		}
		if (r == HASH_STABLE || (r == HASH_CHANGED && attempt > 0)) {
			*st = after;
			entry_set_hash(e, h->algo, digest);
			if (r == HASH_CHANGED)
				e->flags |= ENTRY_CHANGED_WHILE_READ;
			return 0;
		}
		if (attempt > 0) {
			/* Swapped for another file twice in a row: no stable content to show. */
			e->flags |= ENTRY_CHANGED_WHILE_READ;
			return 0;
		}
		if (r == HASH_CHANGED)
			*st = after;
		/* Retry once, from a fresh lookup of the name. */
		r = scan_sys_fstatat(dirfd, name, &fresh, AT_SYMLINK_NOFOLLOW);
		if (r < 0) {
			e->err = -r; /* ENOENT: it vanished while we read it */
			return 0;
		}
		*st = fresh;
		if (!S_ISREG(fresh.st_mode))
			return SCAN_HASH_RETYPE;
	}
}

int scan_hasher_entry(struct scan_hasher *h, int dirfd, const char *name, struct stat *st,
		      struct entry *e)
{
	return scan_hasher_entry_keep(h, dirfd, name, st, e, NULL);
}

int scan_hash_file(int dirfd, const char *name, enum hash_algo algo, struct entry *ret_entry)
{
	struct scan_hasher h;
	struct entry tmp = { 0 };
	struct stat st;
	int r;

	if (algo == HASH_NONE)
		return -EINVAL;
	if (algo != HASH_XXH3_128 && algo != HASH_SHA256)
		return -EOPNOTSUPP;
	r = scan_sys_fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return r;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;

	r = scan_hasher_init(&h, algo, SCAN_HASH_BUF_SIZE);
	if (r < 0)
		return r;
	r = scan_hasher_entry(&h, dirfd, name, &st, &tmp);
	scan_hasher_release(&h);
	if (r == SCAN_HASH_RETYPE)
		return S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
	if (r < 0)
		return r;
	if (tmp.err)
		return -tmp.err;
	if (tmp.flags & ENTRY_NOT_HASHED_TOO_SPARSE)
		return -EFBIG;
	if (tmp.hash_algo == HASH_NONE)
		return -EAGAIN; /* swapped for another file twice while we looked */

	ret_entry->hash_algo = tmp.hash_algo;
	ret_entry->hash_len = tmp.hash_len;
	memcpy(ret_entry->hash, tmp.hash, sizeof(tmp.hash));
	ret_entry->flags |= tmp.flags;
	return 0;
}
