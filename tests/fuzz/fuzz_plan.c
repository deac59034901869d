/*
 * The plan file of drift remedy (remedy_plan_read(), through fmemopen()
 * of an exact-size copy so that ASan sees any read past the end).
 * Properties: a plan that reads writes only printable ASCII and newlines,
 * reads back equal to itself, and writes back byte for byte the same
 * (remedy_plan_write() of what was read is a fixed point); a refusal
 * says why and leaves no plan behind (LeakSanitizer checks that).
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "remedy/remedy.h"

#include "common/banned.h"

static int read_bytes(const void *data, size_t size, struct remedy_plan *ret, struct diag *d)
{
	char *copy = malloc(size ? size : 1);
	FILE *f;
	int r;

	FUZZ_CHECK(copy != NULL);
	if (size)
		memcpy(copy, data, size);
	else
		copy[0] = '\0';
	f = fmemopen(copy, size ? size : 1, "r");
	FUZZ_CHECK(f != NULL);
	if (!size)
		FUZZ_CHECK(fgetc(f) == 0);
	r = remedy_plan_read(f, "fuzz.plan", ret, d);
	fclose(f);
	free(copy);
	return r;
}

static char *write_bytes(const struct remedy_plan *p, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(remedy_plan_write(p, f) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	*ret_len = len;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remedy_plan p = { 0 }, q = { 0 };
	struct diag d = { 0 };
	size_t len, len2;
	char *text, *text2;
	int r;

	r = read_bytes(data, size, &p, &d);
	fuzz_note(r, d.msg);
	if (r < 0) {
		FUZZ_CHECK(d.msg[0] != '\0');
		return 0;
	}
	text = write_bytes(&p, &len);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(text[i] == '\n' || (text[i] >= ' ' && text[i] <= '~'));
	FUZZ_CHECK(read_bytes(text, len, &q, &d) == 0);
	FUZZ_CHECK(remedy_plan_equal(&p, &q));
	FUZZ_CHECK(remedy_plan_equal(&q, &p));
	text2 = write_bytes(&q, &len2);
	FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
	free(text);
	free(text2);
	remedy_plan_release(&p);
	remedy_plan_release(&q);
	return 0;
}
