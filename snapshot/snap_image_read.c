/* snap_image_read.c -- the CLI's image reader: the whole file into memory
 * (rt_image_read_fd, after checking its type and header, as the loader
 * does), validated by the same rt_image_parse the loader inside the
 * interpreter runs, so `lineiform run` refuses exactly what the loader would refuse
 * (except a build-id or load base mismatch, which only the running
 * interpreter can see). */
#include "snapshot/snap_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum lf_status snap_image_read(const char *path, struct snap_image_file *f, char *why,
                               size_t whylen)
{
    memset(f, 0, sizeof *f);
    char sub[320];
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return LF_ERR_IO;
    }
    enum lf_status s = rt_image_read_fd(fd, &f->buf, &f->len, sub, sizeof sub);
    close(fd);
    if (s == LF_OK) s = rt_image_parse(f->buf, f->len, &f->info, sub, sizeof sub);
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
