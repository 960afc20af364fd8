/* fuzz_elf.c -- libFuzzer target for the analyzer's input path: ELF
 * headers, segments, sections, symbols, PLT relocations, .eh_frame, DWARF
 * (libdwarf), decoding, CFG, jump tables and loops, on arbitrary bytes.
 *
 * Build and run with `make fuzz` (clang -fsanitize=fuzzer,address,undefined;
 * FUZZ_SECONDS=N, default 300).  The input is written to a memfd and opened
 * by path, exactly as `lineiform analyze` opens a file.  Any return status
 * is fine; a crash, a sanitizer report or a leak is a finding. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyzer/analyzer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_elf", 0)) < 0) return 0;
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) return 0;
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct an_binary *b = NULL;
    if (an_open(path, 0, &b, err, sizeof err) == LF_OK) {
        /* walk what a client walks */
        for (unsigned i = 0; i < b->n_funcs; i++) {
            const struct an_func *f = &b->funcs[i];
            if (an_func_at(b, f->addr) == NULL) __builtin_trap();
            if (f->cfg && f->cfg->n_blocks && f->cfg->entry >= f->cfg->n_blocks) __builtin_trap();
        }
        an_close(b);
    }
    return 0;
}
