/* snap_image_read.c -- the CLI's image reader: the whole file into memory,
 * validated by the same rt_image_parse the loader inside the interpreter
 * runs, so `lineiform run` refuses exactly what the loader would refuse
 * (except a build-id or load base mismatch, which only the running
 * interpreter can see). */
#include "snapshot/snap_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum lf_status snap_image_read(const char *path, struct snap_image_file *f, char *why,
                               size_t whylen)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    struct stat st;
    if (!fp) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return LF_ERR_IO;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        snprintf(why, whylen, "%s: not a regular file", path);
        return LF_ERR_IO;
    }
    f->len = (size_t)st.st_size;
    f->buf = malloc(f->len ? f->len : 1);
    size_t got = f->buf ? fread(f->buf, 1, f->len, fp) : 0;
    fclose(fp);
    if (!f->buf || got != f->len) {
        snap_image_close(f);
        snprintf(why, whylen, "%s: %s", path, f->buf ? "read error" : "out of memory");
        return f->buf ? LF_ERR_IO : LF_ERR_NOMEM;
    }
    char sub[320];
    enum lf_status s = rt_image_parse(f->buf, f->len, &f->info, sub, sizeof sub);
    if (s != LF_OK) {
        snap_image_close(f);
        snprintf(why, whylen, "%s: %s", path, sub);
    }
    return s;
}

void snap_image_close(struct snap_image_file *f)
{
    if (!f) return;
    free(f->buf);
    f->buf = NULL;
    f->len = 0;
}
