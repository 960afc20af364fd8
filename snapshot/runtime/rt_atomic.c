/* rt_atomic.c -- files that appear under their name only when complete,
 * and leave nothing behind when the process is killed while writing.
 * Used by the heap-dump writer (rt_dump.c, inside the interpreter) and the
 * image writer (snapshot/snap_image_write.c, in lineiform-snapshot).
 *
 *   rt_atomic_open    an unnamed file in the target's directory (O_TMPFILE):
 *                     if the process dies, the kernel frees it; where the
 *                     file system lacks O_TMPFILE, PATH.tmpXXXXXX instead,
 *                     flock'ed for as long as it is written
 *   rt_atomic_commit  fsync; give the unnamed file the name PATH.tmpXXXXXX
 *                     (linkat through /proc/self/fd) and rename it over PATH
 *   rt_atomic_abort   close and remove the temporary name, if any
 *   rt_atomic_clean   remove PATH.tmpXXXXXX files nobody holds the lock of:
 *                     the leftovers of a process killed between naming its
 *                     file and renaming it (a few microseconds with
 *                     O_TMPFILE; the whole write without it)
 *
 * Invariants:
 *   (1) From creation to rename, the writer holds an exclusive flock on the
 *       file, so a temporary name whose lock can be taken is a leftover.
 *   (2) Only names PATH.tmp + 6 characters (mkostemp's pattern) beside
 *       PATH are ever removed by rt_atomic_clean.
 */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." when none) into dir. */
static void rt_dirname(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, cap, ".");
    else if (slash == path) snprintf(dir, cap, "/");
    else snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

static int rt_named_tmp(const char *path, char *tmp, size_t cap)
{
    if (snprintf(tmp, cap, "%s.tmpXXXXXX", path) >= (int)cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkostemp(tmp, O_CLOEXEC);
}

int rt_atomic_open(const char *path, struct rt_atomic *a)
{
    char dir[RT_DUMP_PATH_MAX];
    memset(a, 0, sizeof *a);
    a->fd = -1;
    size_t n = strlen(path);
    if (n >= sizeof a->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(a->path, path, n + 1);
    rt_dirname(path, dir, sizeof dir);
    mode_t mask = umask(0);
    umask(mask);
    a->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666 & ~mask);
    if (a->fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -1;
    if (a->fd >= 0) return flock(a->fd, LOCK_EX) == 0 ? 0 : (rt_atomic_abort(a), -1);
    /* No O_TMPFILE here: a named temporary, locked at once.  A cleaner that
     * took the lock between mkostemp and flock may have removed the name:
     * then start again with another. */
    for (int tries = 0; tries < 8; tries++) {
        int fd = rt_named_tmp(path, a->tmp, sizeof a->tmp);
        if (fd < 0) return -1;
        struct stat mine, named;
        if (flock(fd, LOCK_EX) == 0 && fstat(fd, &mine) == 0 && stat(a->tmp, &named) == 0 &&
            mine.st_ino == named.st_ino && mine.st_dev == named.st_dev) {
            a->fd = fd;
            if (fchmod(fd, 0666 & ~mask) != 0) return rt_atomic_abort(a), -1;
            return 0;
        }
        close(fd);
    }
    a->tmp[0] = 0;
    errno = EAGAIN;
    return -1;
}

int rt_atomic_commit(struct rt_atomic *a, int do_fsync)
{
    if (do_fsync && fsync(a->fd) != 0) return -1;
    if (!a->tmp[0]) { /* unnamed: name it beside the target, then rename */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", a->fd);
        for (int tries = 0; !a->tmp[0] && tries < 8; tries++) {
            int fd = rt_named_tmp(a->path, a->tmp, sizeof a->tmp); /* a unique name... */
            if (fd < 0) return a->tmp[0] = 0, -1;
            close(fd);
            unlink(a->tmp); /* ...freed for linkat, which does not replace */
            if (linkat(AT_FDCWD, self, AT_FDCWD, a->tmp, AT_SYMLINK_FOLLOW) != 0) {
                int e = errno;
                a->tmp[0] = 0;
                if (e != EEXIST) return errno = e, -1;
            }
        }
        if (!a->tmp[0]) return errno = EEXIST, -1;
    }
    if (rename(a->tmp, a->path) != 0) return -1;
    a->tmp[0] = 0;
    int r = close(a->fd);
    a->fd = -1;
    return r;
}

void rt_atomic_abort(struct rt_atomic *a)
{
    if (a->tmp[0]) unlink(a->tmp);
    a->tmp[0] = 0;
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
}

unsigned rt_atomic_clean(const char *path)
{
    char dir[RT_DUMP_PATH_MAX], full[RT_DUMP_PATH_MAX + 16];
    rt_dirname(path, dir, sizeof dir);
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    unsigned removed = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *n = e->d_name;
        if (strlen(n) != blen + 10 || strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp", 4) != 0)
            continue;
        if (snprintf(full, sizeof full, "%s/%s", dir, n) >= (int)sizeof full) continue;
        int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat st;
        if (fd < 0) continue;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            /* nobody writes it: a leftover (invariant 1) */
            if (unlink(full) == 0) removed++;
        }
        close(fd);
    }
    if (d) closedir(d);
    return removed;
}
