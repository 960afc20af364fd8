/* tutil_scripts.c -- one cmocka test per script of a testdata folder.
 *
 * Input: a folder under the source tree, an extension, the test function,
 * and the program's arguments (script names without the extension select
 * a subset).  Output: the group's exit status; each test's initial state is
 * the script's name without its extension, tests in name order. */
#include "tests/tutil.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

int tu_script_tests(const char *group, const char *dir, const char *ext, void (*fn)(void **),
                    int argc, char **argv)
{
    DIR *d = opendir(tu_src(dir));
    if (!d) { fprintf(stderr, "test_%s: no %s\n", group, dir); return 1; }
    size_t n = 0, cap = 64, elen = strlen(ext);
    struct CMUnitTest *tests = calloc(cap, sizeof *tests);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= elen || strcmp(e->d_name + len - elen, ext) != 0) continue;
        char *name = strndup(e->d_name, len - elen);
        int wanted = argc < 2;
        for (int i = 1; i < argc; i++) wanted |= strcmp(argv[i], name) == 0;
        if (!wanted) { free(name); continue; }
        if (n == cap) tests = realloc(tests, (cap *= 2) * sizeof *tests);
        memset(&tests[n], 0, sizeof tests[n]);
        tests[n].name = name;
        tests[n].test_func = fn;
        tests[n].initial_state = name;
        n++;
    }
    closedir(d);
    if (n == 0) { fprintf(stderr, "test_%s: no scripts\n", group); return 1; }
    qsort(tests, n, sizeof *tests, by_name);
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}
