/* tutil_probe.c -- builds testdata/probe for the tests (tutil_probe.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tutil.h"
#include "tests/tutil_probe.h"

/* In a sanitizer build the runtime archive is instrumented, so whatever
 * links it must be too. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_PROBE_SAN "-fsanitize=address,undefined -fno-omit-frame-pointer"
#else
#define TU_PROBE_SAN ""
#endif

const char *tu_probe(const char *name, const char *extra)
{
    static char bins[8][1024];
    static unsigned next;
    char *bin = bins[next++ % 8], *err = NULL;
    snprintf(bin, sizeof bins[0], "%s/%s", tu_tmpdir(), name);
    int rc = tu_run(tu_fmt("gcc -O2 -g " TU_PROBE_SAN " %s -I'%s' -o '%s' '%s' '%s'", extra, tu_src("include"), bin,
                           tu_src("testdata/probe/probe.c"), tu_build("liblineiform-rt.a")), NULL, &err);
    if (rc != 0) fail_msg("building %s: %s", name, err);
    free(err);
    return bin;
}

const char *tu_script(const char *name, const char *text)
{
    static char paths[8][1024];
    static unsigned next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", tu_tmpdir(), name);
    if (tu_write_file(p, text, strlen(text)) != 0) fail_msg("cannot write %s", p);
    return p;
}

int tu_lift_works(void)
{
#if defined(__SANITIZE_ADDRESS__)
    static int known = -1;
    if (known >= 0) return known;
    char bin[1024], *err = NULL;
    snprintf(bin, sizeof bin, "%s", tu_probe("probe-liftcheck", ""));
    int rc = tu_run(tu_fmt("'%s' snapshot -q --db '%s/liftcheck.db' --interp '%s' '%s' -o '%s/liftcheck.img'",
                           tu_build("lineiform"), tu_tmpdir(), bin, tu_script("liftcheck.txt", "3\n"), tu_tmpdir()),
                    NULL, &err);
    known = rc == 0 || !strstr(err, "lifter/");
    if (!known)
        fprintf(stderr, "note: lineiform-snapshot dies under the sanitizers in lifter/, so tests that need an "
                        "image skip:\n%s", err);
    free(err);
    return known;
#else
    return 1;
#endif
}
