/* read.h -- the reader (read.c). */
#ifndef LISP_READ_H
#define LISP_READ_H

#include "lisp.h"

struct lv_reader {
    const char *src;
    size_t n, i;
    int line, col;
    int runtime;            /* (read) from a port: no position table entries */
};

void lv_reader_init(struct lv_reader *r, const char *src, size_t n);
/* Next datum into *out: 1, or 0 at end of input; syntax errors exit. */
int lv_read(struct lv_reader *r, value *out);
/* Where the list whose first pair is k was read (line 0 if unknown). */
struct lv_pos lv_pos_of(value k);

#endif
