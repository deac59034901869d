/*
 * The escapers of common/escape.h on arbitrary bytes. Properties:
 * escape_display() gives a clean string (valid UTF-8, no control
 * character: escape_is_clean()) that decodes back to exactly the input
 * (it is unambiguous), and a clean input without backslashes or invisible
 * characters is left as it is; escape_message() leaves no C0 control
 * byte or DEL.
 */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "common/escape.h"
#include "common/strbuf.h"

#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf disp = STRBUF_INIT, back = STRBUF_INIT, msg = STRBUF_INIT;
	const char *s = (const char *)data;
	bool clean = escape_is_clean(s, size);

	FUZZ_CHECK(escape_display(&disp, s, size) == 0);
	FUZZ_CHECK(escape_is_clean(disp.buf, disp.len));
	FUZZ_CHECK(fuzz_display_decode(disp.buf, disp.len, &back) == 0);
	FUZZ_CHECK(back.len == size && memcmp(back.buf, data, size) == 0);
	/* A clean input only grows by escapes: a backslash or an invisible character. */
	if (clean && disp.len == size)
		FUZZ_CHECK(memcmp(disp.buf, data, size) == 0);
	if (clean && !memchr(data, '\\', size) && disp.len != size)
		FUZZ_CHECK(memchr(disp.buf, '\\', disp.len) != NULL);

	FUZZ_CHECK(escape_message(&msg, s, size) == 0);
	FUZZ_CHECK(fuzz_no_c0(msg.buf, msg.len));

	strbuf_release(&disp);
	strbuf_release(&back);
	strbuf_release(&msg);
	return 0;
}
