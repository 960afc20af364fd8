/* tutil.h -- helpers every cmocka test may use: paths, temp dirs, running
 * commands, files.  Include after the cmocka prerequisites. */
#ifndef TUTIL_H
#define TUTIL_H

#include <stddef.h>

/* Absolute path of rel inside the build dir (build/ or build-asan/) or the
 * source tree; returned in a static rotating buffer (8 live at a time). */
const char *tu_build(const char *rel);
const char *tu_src(const char *rel);

/* A fresh temporary directory, removed with everything in it at exit. */
const char *tu_tmpdir(void);

/* Run cmd through /bin/sh with stdin from /dev/null.  Captures stdout and
 * stderr (malloc'd, NUL-terminated; pass NULL to discard).  Returns the exit
 * status, or 128+signal when killed by a signal. */
int tu_run(const char *cmd, char **out, char **err);

/* Whole file into a malloc'd NUL-terminated buffer (NULL if unreadable). */
char *tu_read_file(const char *path, size_t *len);
int tu_write_file(const char *path, const void *data, size_t len);

/* printf into a static rotating buffer. */
const char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Linked into a program a test builds against the build's liblineiform.a
 * or liblineiform-rt.a: in a sanitizer build (make test-asan) those are
 * instrumented, so the program needs the sanitizers' runtimes; its own
 * code stays uninstrumented (the lifter lifts it as an ordinary
 * interpreter's).  Empty in a normal build. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_SAN_LIBS " -Wl,--no-as-needed -lasan -lubsan -Wl,--as-needed "
#else
#define TU_SAN_LIBS ""
#endif

/* tutil_scripts.c: run fn once per script DIR/NAME.EXT (argv names a subset);
 * the test's state is the script's name without EXT. */
int tu_script_tests(const char *group, const char *dir, const char *ext, void (*fn)(void **),
                    int argc, char **argv);

#endif
