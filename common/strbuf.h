#ifndef DRIFT_COMMON_STRBUF_H
#define DRIFT_COMMON_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/**
 * A growable byte buffer (git's strbuf). Invariants: `buf` is never NULL and
 * always NUL-terminated at `buf[len]`; the contents may hold NUL bytes (paths
 * are bytes, but a path never holds NUL). Take the memory out only with
 * strbuf_detach().
 *
 * Every function that can grow the buffer returns 0 or -ENOMEM; on -ENOMEM
 * the contents are unchanged.
 *
 *     struct strbuf sb = STRBUF_INIT;
 *     if (strbuf_addf(&sb, "%s/%s", dir, name) < 0)
 *             goto fail;
 *     use(sb.buf, sb.len);
 *     strbuf_release(&sb);
 */
struct strbuf {
	size_t alloc; /**< 0 while buf points at the shared empty string. */
	size_t len;
	char *buf;
};

extern char strbuf_empty[1];
#define STRBUF_INIT                \
	{                          \
		0, 0, strbuf_empty \
	}

void strbuf_init(struct strbuf *sb);
/** Free the contents; the buffer is ready for reuse as if just initialized. */
void strbuf_release(struct strbuf *sb);
/** Ensure room for @extra more bytes plus the NUL. */
int strbuf_grow(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
__attribute__((format(printf, 2, 3))) int strbuf_addf(struct strbuf *sb, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) int strbuf_vaddf(struct strbuf *sb, const char *fmt,
						       va_list ap);
/** Shorten to @len bytes (must be <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}
/**
 * Hand the buffer to the caller (free() it) and reinitialize @sb. Returns
 * NULL on allocation failure when the buffer was still the empty string.
 */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);

#endif /* DRIFT_COMMON_STRBUF_H */
