/* tutil_probe.h -- testdata/probe (a minimal closure interpreter that
 * inspects its own process) built for a test.  Include after tutil.h. */
#ifndef TUTIL_PROBE_H
#define TUTIL_PROBE_H

/* Build testdata/probe/probe.c with gcc -O2 -g extra against the build's
 * liblineiform-rt.a as <tmpdir>/name; fails the test if it does not build.
 * The returned path stays valid for the next 7 calls. */
const char *tu_probe(const char *name, const char *extra);

/* Write text to <tmpdir>/name; the path stays valid for the next 7 calls. */
const char *tu_script(const char *name, const char *text);

/* 1 when lineiform snapshot can lift here.  Always 1 in a normal build;
 * in a sanitizer build (make test-asan), 0 while lineiform-snapshot dies of
 * a sanitizer report in lifter/ (issue 18: UBSan's memcpy with a NULL
 * destination in lift_block.c, which the lifter's owners fix): tests that
 * need an image then skip, saying why once, instead of failing on a bug
 * that is not theirs. */
int tu_lift_works(void);

#endif
