/*
 * buf: a growable byte buffer with a hard maximum, after curl's dynbuf.
 * Every buffer that grows from outside input is created with the most it may
 * ever hold; going over fails (CERR_TOO_LARGE) instead of eating memory. The
 * content is always NUL-terminated so text can be used as a C string.
 */
#ifndef COHORT_BUF_H
#define COHORT_BUF_H

#include <stddef.h>

#include "common/cerr.h"

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* the most len may reach */
};

void buf_init(struct buf *b, size_t max);
void buf_cleanup(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

int buf_append(struct buf *b, const void *data, size_t len, struct cerr *err);
int buf_puts(struct buf *b, const char *s, struct cerr *err);
int buf_printf(struct buf *b, struct cerr *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Hands the bytes to the caller (who frees them) and empties b. Returns ""
 * as a fresh allocation when empty; NULL only on out-of-memory. */
char *buf_take(struct buf *b);

/* The content as a C string; "" when empty. Borrowed. */
const char *buf_str(const struct buf *b);

#endif
