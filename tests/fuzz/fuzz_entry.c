/*
 * The journal's entry-image codec (snap_entry_decode() of store/store.h)
 * on arbitrary bytes, with the input in a buffer of its exact size so
 * that ASan sees any read past the end. Properties: an image that decodes
 * encodes again, and that encoding decodes and encodes to the same bytes
 * (encode is a fixed point of decode), with the same kind and key.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <string.h>

#include "common/entry.h"
#include "common/strbuf.h"
#include "store/store.h"

#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_entry_buf buf = { 0 }, buf2 = { 0 };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	const struct entry *e, *e2;
	uint8_t *copy = malloc(size ? size : 1);
	int r;

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	r = snap_entry_decode(copy, size, &buf, &e);
	FUZZ_CHECK(r == 0 || r == -EPROTO);
	if (r == 0) {
		FUZZ_CHECK(snap_entry_encode(&a, e) == 0);
		FUZZ_CHECK(snap_entry_decode(a.buf, a.len, &buf2, &e2) == 0);
		FUZZ_CHECK(e2->kind == e->kind && e2->key_len == e->key_len);
		FUZZ_CHECK(e->key_len == 0 || memcmp(e2->key, e->key, e->key_len) == 0);
		FUZZ_CHECK(snap_entry_encode(&b, e2) == 0);
		FUZZ_CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
	}
	snap_entry_buf_release(&buf);
	snap_entry_buf_release(&buf2);
	strbuf_release(&a);
	strbuf_release(&b);
	free(copy);
	return 0;
}
