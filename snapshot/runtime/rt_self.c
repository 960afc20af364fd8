/* rt_self.c -- facts about the running interpreter that a heap dump and an
 * image record: its path, load bias and GNU build-id (read from its PT_NOTE
 * segment in memory, so no file access is needed); and the build-id of an
 * interpreter file on disk, which `lineiform run` and `lineiform snapshot`
 * check before they start it. */
#define _GNU_SOURCE
#include "snapshot/runtime/rt_internal.h"

#include <elf.h>
#include <link.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

struct rt_self_info {
    uint64_t bias;
    uint8_t id[RT_SELF_BUILD_ID_MAX];
    size_t id_len;
};

#define RT_NOTE_ALIGN(n) (((n) + 3u) & ~3u)

static void rt_scan_notes(const uint8_t *p, size_t len, struct rt_self_info *si)
{
    size_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= len) {
        const Elf64_Nhdr *nh = (const void *)(p + off);
        size_t name_at = off + sizeof *nh;
        size_t desc_at = name_at + RT_NOTE_ALIGN(nh->n_namesz);
        size_t next = desc_at + RT_NOTE_ALIGN(nh->n_descsz);
        if (next > len || next <= off) return;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
            memcmp(p + name_at, "GNU", 4) == 0) {
            si->id_len = nh->n_descsz < sizeof si->id ? nh->n_descsz : sizeof si->id;
            memcpy(si->id, p + desc_at, si->id_len);
            return;
        }
        off = next;
    }
}

/* The first object dl_iterate_phdr reports is the main program. */
static int rt_self_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct rt_self_info *si = arg;
    si->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && !si->id_len; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_NOTE)
            rt_scan_notes((const uint8_t *)(info->dlpi_addr + ph->p_vaddr), ph->p_filesz, si);
    }
    return 1;
}

static const struct rt_self_info *rt_self(void)
{
    static struct rt_self_info si;
    static int done;
    if (!done) {
        dl_iterate_phdr(rt_self_cb, &si);
        done = 1;
    }
    return &si;
}

uint64_t rt_self_load_base(void) { return rt_self()->bias; }

size_t rt_self_build_id(uint8_t *out, size_t cap)
{
    const struct rt_self_info *si = rt_self();
    memcpy(out, si->id, si->id_len < cap ? si->id_len : cap);
    return si->id_len;
}

int rt_self_path(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1) return -1;
    out[n] = 0;
    return 0;
}

/* Notes of at most this many bytes per PT_NOTE are read: a build-id note
 * comes first in what gcc and clang link, and 4 KiB holds dozens of notes. */
#define RT_FILE_NOTE_MAX 4096

static int rt_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

long rt_file_build_id(int fd, uint8_t *out, size_t cap)
{
    Elf64_Ehdr eh;
    if (rt_pread_all(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256)
        return -1;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (rt_pread_all(fd, &ph, sizeof ph, eh.e_phoff + (uint64_t)i * sizeof ph) != 0) return -1;
        if (ph.p_type != PT_NOTE) continue;
        uint8_t notes[RT_FILE_NOTE_MAX];
        size_t n = ph.p_filesz < sizeof notes ? (size_t)ph.p_filesz : sizeof notes;
        if (rt_pread_all(fd, notes, n, ph.p_offset) != 0) return -1;
        struct rt_self_info si = { 0 };
        rt_scan_notes(notes, n, &si);
        if (si.id_len) {
            memcpy(out, si.id, si.id_len < cap ? si.id_len : cap);
            return (long)si.id_len;
        }
    }
    return 0;
}
