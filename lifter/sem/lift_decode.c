/* lift_decode.c -- decode guest instructions through the memory sources.
 *
 * Code bytes are read like any other guest memory (lift_mem_read), so the
 * in-process path and the ahead-of-time path (interpreter ELF segments held
 * anywhere) decode the same way.  The form comes from an_form_classify:
 * the one table decides what the lifter accepts. */
#include "lifter/lift_internal.h"

#include <stdio.h>
#include <string.h>

enum lf_status lift_decode(const struct lift_memsrc *mem, uint64_t pc, struct lift_insn *i)
{
    uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
    size_t n = sizeof buf;
    while (n > 0 && lift_mem_read(mem, pc, buf, n) < 0) n--;
    if (n == 0) return LF_ERR_FORMAT;
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    memset(i, 0, sizeof *i);
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, buf, n, &i->zi, i->op))) return LF_ERR_FORMAT;
    i->pc = pc;
    i->len = i->zi.length;
    i->form = an_form_classify(&i->zi, i->op);
    return LF_OK;
}

void lift_insn_text(const struct lift_insn *i, char *buf, size_t len)
{
    ZydisFormatter f;
    ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
    if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&f, &i->zi, i->op, i->zi.operand_count_visible,
                                                      buf, len, i->pc, NULL)))
        snprintf(buf, len, "(%s)", ZydisMnemonicGetString(i->zi.mnemonic));
}
