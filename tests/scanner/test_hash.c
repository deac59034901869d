/*
 * scan_hash_file() and the hasher behind it: digests against xxHash's own
 * XXH3_128bits() of the same bytes in memory (the library's plain, non
 * dispatched symbols: an independent reference for the AVX2 path), sparse
 * files, and the refusal contract for symlinks and special files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "scanner/scanner.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "scanner/hash.h"
#include "tree.h"

#include "common/banned.h"

struct fixture {
	char dir[64];
	int dirfd;
};

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	if (fx->dirfd >= 0)
		close(fx->dirfd);
	tree_rm_rf(fx->dir);
	free(fx);
	return 0;
}

static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	fx->dirfd = -1;
	if (tree_mkdtemp(fx->dir, sizeof(fx->dir)) < 0)
		goto fail;
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->dirfd < 0)
		goto fail;
	return 0;
fail:
	fixture_teardown(state);
	*state = NULL;
	return -1;
}

static void reference(const void *buf, size_t len, uint8_t out[16])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(buf, len));
	memcpy(out, c.digest, 16);
}

static void test_hash_file_empty_matches_known_vector(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t want[16] = { 0x99, 0xaa, 0x06, 0xd3, 0x01, 0x47, 0x98, 0xd8,
					  0x60, 0x01, 0xc3, 0x24, 0x46, 0x8d, 0x49, 0x7f };
	struct entry e = { 0 };

	assert_int_equal(tree_write(fx->dirfd, "empty", "", 0), 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "empty", HASH_XXH3_128, &e), 0);
	assert_int_equal(e.hash_algo, HASH_XXH3_128);
	assert_int_equal(e.hash_len, 16);
	assert_memory_equal(e.hash, want, 16);
	assert_int_equal(e.flags, 0);
}

static void test_hash_file_sizes_match_reference(void **state)
{
	struct fixture *fx = *state;
	const size_t mib = 1 << 20;
	const size_t sizes[] = { 0, 1, 17, 240, 4096, mib - 1, mib, mib + 1, 5 * mib };
	uint8_t *buf = malloc(5 * mib + 1);

	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct entry e = { 0 };
		uint8_t want[16];
		char name[32];

		snprintf(name, sizeof(name), "f%zu", sizes[i]);
		tree_fill(buf, sizes[i], (uint32_t)i + 1);
		assert_int_equal(tree_write(fx->dirfd, name, buf, sizes[i]), 0);
		reference(buf, sizes[i], want);
		assert_int_equal(scan_hash_file(fx->dirfd, name, HASH_XXH3_128, &e), 0);
		assert_memory_equal(e.hash, want, 16);
	}
	free(buf);
}

static void test_hash_file_matches_xxhsum(void **state)
{
	struct fixture *fx = *state;
	char cmd[160], line[160], hex[40];
	uint8_t buf[3000];
	struct entry e = { 0 };
	FILE *p;

	if (access("/usr/bin/xxhsum", X_OK) != 0)
		tap_skip("xxhsum is not installed");
	tree_fill(buf, sizeof(buf), 99);
	assert_int_equal(tree_write(fx->dirfd, "x", buf, sizeof(buf)), 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "x", HASH_XXH3_128, &e), 0);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", e.hash[i]);
	snprintf(cmd, sizeof(cmd), "/usr/bin/xxhsum -H2 %s/x", fx->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_memory_equal(line, hex, 32);
}

/*
 * Create @name: @size bytes of holes with @len bytes of data (tree_fill(),
 * seed @seed + i) at each of @at[0, n), and put the same bytes in @mem
 * (@size zeroed bytes).
 */
static void write_sparse_at(struct fixture *fx, const char *name, uint64_t size, const off_t *at,
			    size_t n, size_t len, uint32_t seed, uint8_t *mem)
{
	uint8_t bytes[128];
	int fd = openat(fx->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(len <= sizeof(bytes));
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (size_t i = 0; i < n; i++) {
		tree_fill(bytes, len, seed + (uint32_t)i);
		memcpy(mem + at[i], bytes, len);
		assert_int_equal(pwrite(fd, bytes, len, at[i]), (ssize_t)len);
	}
	assert_int_equal(close(fd), 0);
}

static void test_hash_file_sparse_equals_dense(void **state)
{
	struct fixture *fx = *state;
	const size_t size = 64 << 20;
	const off_t at[] = { 0, 10 << 20, (33 << 20) + 7, (off_t)size - 100 };
	uint8_t *mem = calloc(1, size);
	struct entry sparse = { 0 }, dense = { 0 };
	uint8_t want[16];
	struct stat st;

	assert_non_null(mem);
	write_sparse_at(fx, "sparse", size, at, sizeof(at) / sizeof(at[0]), 100, 7, mem);
	assert_int_equal(fstatat(fx->dirfd, "sparse", &st, 0), 0);
	if ((uint64_t)st.st_blocks * 512 >= size) {
		free(mem);
		tap_skip("this filesystem does not do holes");
	}
	assert_int_equal(tree_write(fx->dirfd, "dense", mem, size), 0);

	reference(mem, size, want);
	assert_int_equal(scan_hash_file(fx->dirfd, "sparse", HASH_XXH3_128, &sparse), 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "dense", HASH_XXH3_128, &dense), 0);
	assert_memory_equal(sparse.hash, want, 16);
	assert_memory_equal(dense.hash, want, 16);
	assert_int_equal(sparse.flags, 0);
	free(mem);
}

/* SHA-256 of @buf, with OpenSSL's one-shot EVP_Digest(): what the hasher must match. */
static void reference_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned n = 0;

	assert_int_equal(EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
}

static void test_hash_file_sha256_known_vectors(void **state)
{
	struct fixture *fx = *state;
	/* FIPS 180-2: SHA-256("") and SHA-256("abc"). */
	static const uint8_t empty[32] = { 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
					   0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
					   0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
					   0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };
	static const uint8_t abc[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
					 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
					 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
					 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	struct entry e = { 0 }, f = { 0 };

	assert_int_equal(tree_write(fx->dirfd, "empty", "", 0), 0);
	assert_int_equal(tree_write(fx->dirfd, "abc", "abc", 3), 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "empty", HASH_SHA256, &e), 0);
	assert_int_equal(e.hash_algo, HASH_SHA256);
	assert_int_equal(e.hash_len, 32);
	assert_memory_equal(e.hash, empty, 32);
	assert_int_equal(e.flags, 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "abc", HASH_SHA256, &f), 0);
	assert_int_equal(f.hash_len, 32);
	assert_memory_equal(f.hash, abc, 32);
}

static void test_hash_file_sha256_sizes_match_reference(void **state)
{
	struct fixture *fx = *state;
	const size_t mib = 1 << 20;
	/* One-shot (<= the 1 MiB buffer) and streaming sizes, around the block size too. */
	const size_t sizes[] = { 1, 55, 56, 64, 4096, mib - 1, mib, mib + 1, 3 * mib + 7 };
	uint8_t *buf = malloc(3 * mib + 7);

	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct entry e = { 0 };
		uint8_t want[32];
		char name[32];

		snprintf(name, sizeof(name), "s%zu", sizes[i]);
		tree_fill(buf, sizes[i], (uint32_t)i + 21);
		assert_int_equal(tree_write(fx->dirfd, name, buf, sizes[i]), 0);
		reference_sha256(buf, sizes[i], want);
		assert_int_equal(scan_hash_file(fx->dirfd, name, HASH_SHA256, &e), 0);
		assert_int_equal(e.hash_algo, HASH_SHA256);
		assert_int_equal(e.hash_len, 32);
		assert_memory_equal(e.hash, want, 32);
	}
	free(buf);
}

static void test_hash_file_sha256_matches_sha256sum(void **state)
{
	struct fixture *fx = *state;
	char cmd[160], line[160], hex[72];
	uint8_t *buf = malloc(1500000); /* above the buffer: the streaming path */
	struct entry e = { 0 };
	FILE *p;

	assert_non_null(buf);
	if (access("/usr/bin/sha256sum", X_OK) != 0) {
		free(buf);
		tap_skip("sha256sum is not installed");
	}
	tree_fill(buf, 1500000, 77);
	assert_int_equal(tree_write(fx->dirfd, "x", buf, 1500000), 0);
	free(buf);
	assert_int_equal(scan_hash_file(fx->dirfd, "x", HASH_SHA256, &e), 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", e.hash[i]);
	snprintf(cmd, sizeof(cmd), "/usr/bin/sha256sum %s/x", fx->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_memory_equal(line, hex, 64);
}

static void test_hash_file_sha256_sparse_equals_dense(void **state)
{
	struct fixture *fx = *state;
	const size_t size = 8 << 20;
	const off_t at[] = { 0, 3 << 20, (5 << 20) + 7, (off_t)size - 100 };
	uint8_t *mem = calloc(1, size);
	struct entry sparse = { 0 }, dense = { 0 };
	uint8_t want[32];
	struct stat st;
	int fd;

	assert_non_null(mem);
	fd = openat(fx->dirfd, "sparse", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint8_t block[100];

		tree_fill(block, sizeof(block), (uint32_t)i + 9);
		memcpy(mem + at[i], block, sizeof(block));
		assert_int_equal(pwrite(fd, block, sizeof(block), at[i]), (ssize_t)sizeof(block));
	}
	assert_int_equal(close(fd), 0);
	assert_int_equal(fstatat(fx->dirfd, "sparse", &st, 0), 0);
	if ((uint64_t)st.st_blocks * 512 >= size) {
		free(mem);
		tap_skip("this filesystem does not do holes");
	}
	assert_int_equal(tree_write(fx->dirfd, "dense", mem, size), 0);

	reference_sha256(mem, size, want);
	assert_int_equal(scan_hash_file(fx->dirfd, "sparse", HASH_SHA256, &sparse), 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "dense", HASH_SHA256, &dense), 0);
	assert_memory_equal(sparse.hash, want, 32);
	assert_memory_equal(dense.hash, want, 32);
	assert_int_equal(sparse.flags, 0);
	free(mem);
}

static void test_hasher_init_rejects_unknown_algorithm(void **state)
{
	struct scan_hasher h;

	(void)state;
	assert_int_equal(scan_hasher_init(&h, HASH_NONE, 4096), -EOPNOTSUPP);
	assert_int_equal(scan_hasher_init(&h, (enum hash_algo)99, 4096), -EOPNOTSUPP);
	assert_int_equal(scan_hash_len(HASH_XXH3_128), 16);
	assert_int_equal(scan_hash_len(HASH_SHA256), 32);
	assert_int_equal(scan_hash_len(HASH_NONE), 0);
}

static void assert_untouched(const struct entry *e)
{
	struct entry ref;

	memset(&ref, 0x5a, sizeof(ref));
	assert_memory_equal(e, &ref, sizeof(ref));
}

static void test_hash_file_refuses_symlink_and_keeps_output(void **state)
{
	struct fixture *fx = *state;
	struct entry e;

	assert_int_equal(tree_write(fx->dirfd, "motd", "hello\n", 6), 0);
	assert_int_equal(symlinkat("motd", fx->dirfd, "motd.link"), 0);
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(scan_hash_file(fx->dirfd, "motd.link", HASH_XXH3_128, &e), -ELOOP);
	assert_untouched(&e);
}

static void test_hash_file_refuses_fifo_without_blocking(void **state)
{
	struct fixture *fx = *state;
	struct entry e;

	assert_int_equal(mkfifoat(fx->dirfd, "fifo", 0644), 0);
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(scan_hash_file(fx->dirfd, "fifo", HASH_XXH3_128, &e), -EINVAL);
	assert_untouched(&e);
}

static void test_hash_file_missing_returns_enoent_and_keeps_output(void **state)
{
	struct fixture *fx = *state;
	struct entry e;

	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(scan_hash_file(fx->dirfd, "nope", HASH_XXH3_128, &e), -ENOENT);
	assert_untouched(&e);
}

static void test_hash_file_rejects_other_algorithms(void **state)
{
	struct fixture *fx = *state;
	struct entry e;

	assert_int_equal(tree_write(fx->dirfd, "f", "x", 1), 0);
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(scan_hash_file(fx->dirfd, "f", (enum hash_algo)99, &e), -EOPNOTSUPP);
	assert_int_equal(scan_hash_file(fx->dirfd, "f", HASH_NONE, &e), -EINVAL);
	assert_untouched(&e);
}

/* A file of @size bytes with @data_len bytes of data at @data_at, holes elsewhere; -1: no holes. */
static int make_sparse(struct fixture *fx, const char *name, uint64_t size, uint64_t data_at,
		       size_t data_len)
{
	char block[4096];
	struct stat st;
	int fd = openat(fx->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	tree_fill(block, sizeof(block), 11);
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1; /* EFBIG: not that large here */
	}
	if (data_len > sizeof(block) ||
	    (data_len && pwrite(fd, block, data_len, (off_t)data_at) != (ssize_t)data_len) ||
	    fstat(fd, &st) < 0) {
		close(fd);
		return -2;
	}
	close(fd);
	return (uint64_t)st.st_blocks * 512 < size ? 0 : -1;
}

static void test_hasher_entry_stop_ends_hashing_of_holes(void **state)
{
	struct fixture *fx = *state;
	struct scan_hasher h;
	atomic_bool stop = true;
	struct entry e;
	struct stat st;
	int r = make_sparse(fx, "holes", (uint64_t)8 << 30, 0, 0);

	assert_true(r >= -1);
	if (r < 0)
		tap_skip("this filesystem does not do holes");
	assert_int_equal(fstatat(fx->dirfd, "holes", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(scan_hasher_init(&h, HASH_XXH3_128, 64 << 10), 0);
	h.stop = &stop;
	memset(&e, 0x5a, sizeof(e));
	/* 8 GiB of zeros would take a quarter of a second; a stop request ends it at once. */
	assert_int_equal(scan_hasher_entry(&h, fx->dirfd, "holes", &st, &e), -ECANCELED);
	assert_untouched(&e);
	scan_hasher_release(&h);
}

/* Overwrite one byte of @name at @at. */
static void fd_write_byte(struct fixture *fx, const char *name, off_t at, uint8_t v)
{
	int fd = openat(fx->dirfd, name, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &v, 1, at), 1);
	assert_int_equal(close(fd), 0);
}

/*
 * The block form of scanner/hash.h, built independently in memory: the
 * header, then (le64 offset, bytes) of each 4 KiB block of @mem that is
 * not all zeros. Returns its XXH3-128 in canonical bytes.
 */
static void update_le64(XXH3_state_t *st, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	XXH3_128bits_update(st, le, 8);
}

/* The block form's header for a file of @size bytes, in a new state. */
static XXH3_state_t *reference_blocks_begin(uint64_t size)
{
	XXH3_state_t *st = XXH3_createState();

	assert_non_null(st);
	XXH3_128bits_reset(st);
	XXH3_128bits_update(st, "drift-blocks-v1\n", 16);
	update_le64(st, size);
	return st;
}

/* One non-zero block @p (@n bytes) at offset @o. */
static void reference_blocks_add(XXH3_state_t *st, uint64_t o, const uint8_t *p, size_t n)
{
	update_le64(st, o);
	XXH3_128bits_update(st, p, n);
}

static void reference_blocks_end(XXH3_state_t *st, uint8_t out[16])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	memcpy(out, c.digest, 16);
	XXH3_freeState(st);
}

static void reference_blocks(const uint8_t *mem, uint64_t size, uint8_t out[16])
{
	static const uint8_t zero[4096];
	XXH3_state_t *st = reference_blocks_begin(size);

	for (uint64_t o = 0; o < size; o += 4096) {
		size_t k = size - o < 4096 ? (size_t)(size - o) : 4096;

		if (memcmp(mem + o, zero, k))
			reference_blocks_add(st, o, mem + o, k);
	}
	reference_blocks_end(st, out);
}

/* Hash @name with a hasher whose block-form threshold is @blocks_min. */
static void hash_with_blocks_min(struct fixture *fx, const char *name, uint64_t blocks_min,
				 struct entry *ret)
{
	struct scan_hasher h;
	struct stat st;

	assert_int_equal(fstatat(fx->dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(scan_hasher_init(&h, HASH_XXH3_128, 64 << 10), 0);
	assert_int_equal(h.blocks_min, SCAN_HASH_BLOCKS_MIN);
	h.blocks_min = blocks_min;
	memset(ret, 0, sizeof(*ret));
	assert_int_equal(scan_hasher_entry(&h, fx->dirfd, name, &st, ret), 0);
	scan_hasher_release(&h);
}

/*
 * With more holes than blocks_min a file is hashed in block form: a zero
 * block written where a hole was gives the same digest, and any change to
 * the data or its place another one. A dense file (no holes) keeps the
 * plain digest. Such files used to be left unhashed beyond 64 GiB of holes,
 * so a change to their data with the mtime put back went unseen.
 */
static void test_hasher_block_form_covers_data_not_layout(void **state)
{
	struct fixture *fx = *state;
	const uint64_t size = (3 << 20) + 123, min = 1 << 20;
	const off_t at[] = { 5, (1 << 20) + 4000, (2 << 20) + 8192, (off_t)size - 50 };
	const off_t moved_at[] = { 5, (1 << 20) + 8096, (2 << 20) + 8192, (off_t)size - 50 };
	const size_t n = sizeof(at) / sizeof(at[0]);
	uint8_t *mem = calloc(1, size), *other = calloc(1, size), want[16], zero[8192] = { 0 };
	struct entry sparse, zeros, moved, changed, plain;
	struct stat st;
	int fd;

	assert_non_null(mem);
	assert_non_null(other);
	write_sparse_at(fx, "sparse", size, at, n, 50, 3, mem);
	assert_int_equal(fstatat(fx->dirfd, "sparse", &st, 0), 0);
	if ((uint64_t)size - (uint64_t)st.st_blocks * 512 <= min) {
		free(mem);
		free(other);
		tap_skip("this filesystem does not do holes");
	}
	reference_blocks(mem, size, want);
	hash_with_blocks_min(fx, "sparse", min, &sparse);
	assert_int_equal(sparse.hash_algo, HASH_XXH3_128);
	assert_memory_equal(sparse.hash, want, 16);
	assert_int_equal(sparse.flags, 0);
	assert_int_equal(sparse.err, 0);

	/* Zeros written over a hole: the same digest. */
	write_sparse_at(fx, "zeros", size, at, n, 50, 3, other);
	fd = openat(fx->dirfd, "zeros", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zero, sizeof(zero), (off_t)(2 << 20) + 65536),
			 (ssize_t)sizeof(zero));
	assert_int_equal(close(fd), 0);
	hash_with_blocks_min(fx, "zeros", min, &zeros);
	assert_memory_equal(zeros.hash, want, 16);

	/* One byte of data changed, in place: another digest. */
	write_sparse_at(fx, "changed", size, at, n, 50, 3, other);
	fd_write_byte(fx, "changed", at[2] + 10, (uint8_t)(mem[at[2] + 10] ^ 1));
	hash_with_blocks_min(fx, "changed", min, &changed);
	assert_memory_not_equal(changed.hash, want, 16);
	mem[at[2] + 10] ^= 1;
	reference_blocks(mem, size, want);
	assert_memory_equal(changed.hash, want, 16);
	mem[at[2] + 10] ^= 1;

	/* The same bytes one block further on: another digest. */
	memset(other, 0, size);
	write_sparse_at(fx, "moved", size, moved_at, n, 50, 3, other);
	hash_with_blocks_min(fx, "moved", min, &moved);
	assert_memory_not_equal(moved.hash, sparse.hash, 16);
	reference_blocks(other, size, want);
	assert_memory_equal(moved.hash, want, 16);

	/* Without holes, the plain digest of the content, as before. */
	assert_int_equal(tree_write(fx->dirfd, "dense", mem, size), 0);
	hash_with_blocks_min(fx, "dense", min, &plain);
	reference(mem, size, want);
	assert_memory_equal(plain.hash, want, 16);
	free(mem);
	free(other);
}

/*
 * A 1 TiB file of holes with 100 bytes of data is hashed, in block form:
 * feeding its holes as zeros would take half a minute, the blocks take
 * microseconds. A change to its data changes the digest.
 */
static void test_hash_file_hashes_terabyte_of_holes_by_its_data(void **state)
{
	struct fixture *fx = *state;
	const uint64_t size = (uint64_t)1 << 40;
	uint8_t block[100], blk[4096] = { 0 }, want[16];
	struct entry e = { 0 }, again = { 0 };
	XXH3_state_t *st;
	int r = make_sparse(fx, "tera", size, 12345, sizeof(block));

	assert_true(r >= -1);
	if (r < 0)
		tap_skip("no holes, or no 1 TiB files, on this filesystem");
	assert_int_equal(scan_hash_file(fx->dirfd, "tera", HASH_XXH3_128, &e), 0);
	assert_int_equal(e.hash_algo, HASH_XXH3_128);

	/* The reference: the header, then the one non-zero block, at offset 12288. */
	tree_fill(block, sizeof(block), 11);
	memcpy(blk + (12345 - 12288), block, sizeof(block));
	st = reference_blocks_begin(size);
	reference_blocks_add(st, 12288, blk, sizeof(blk));
	reference_blocks_end(st, want);
	assert_memory_equal(e.hash, want, 16);

	/* Its data changed, its size and layout not: another digest. */
	fd_write_byte(fx, "tera", 12345 + 50, 0xff);
	assert_int_equal(scan_hash_file(fx->dirfd, "tera", HASH_XXH3_128, &again), 0);
	assert_memory_not_equal(again.hash, e.hash, 16);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_hash_file_empty_matches_known_vector),
		T(test_hash_file_sizes_match_reference),
		T(test_hash_file_matches_xxhsum),
		T(test_hash_file_sparse_equals_dense),
		T(test_hash_file_refuses_symlink_and_keeps_output),
		T(test_hash_file_refuses_fifo_without_blocking),
		T(test_hash_file_missing_returns_enoent_and_keeps_output),
		T(test_hash_file_rejects_other_algorithms),
		T(test_hash_file_sha256_known_vectors),
		T(test_hash_file_sha256_sizes_match_reference),
		T(test_hash_file_sha256_matches_sha256sum),
		T(test_hash_file_sha256_sparse_equals_dense),
		T(test_hasher_init_rejects_unknown_algorithm),
		T(test_hasher_entry_stop_ends_hashing_of_holes),
		T(test_hasher_block_form_covers_data_not_layout),
		T(test_hash_file_hashes_terabyte_of_holes_by_its_data),
	};
#undef T
	return tap_run_group_tests_name("scanner/hash", tests, NULL, NULL);
}
