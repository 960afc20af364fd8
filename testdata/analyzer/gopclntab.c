/* gopclntab.c -- a hand-made Go 1.20 .gopclntab (the table a stripped Go
 * program keeps) naming two functions, main.one and main.two, for
 * tests/test_analyzer_nosyms.c; built -fno-pie -no-pie and stripped of
 * .symtab and .eh_frame. */
#include <stdio.h>
__asm__(".section .gopclntab,\"a\"\n"
        "gopcln: .long 0xfffffff1\n .short 0\n .byte 1, 8\n"
        " .quad 2, 1, go_text, names - gopcln, 0, 0, 0, ftab - gopcln\n"
        "names: .asciz \"main.one\"\n"
        "n2: .asciz \"main.two\"\n"
        " .balign 4\n"
        "ftab: .long go_one - go_text, f1 - ftab\n"
        " .long go_two - go_text, f2 - ftab\n"
        " .long go_end - go_text, 0\n"
        "f1: .long go_one - go_text, 0\n"
        "f2: .long go_two - go_text, n2 - names\n"
        ".text\n"
        ".globl go_text\n"
        "go_text:\n"
        "go_one: lea 1(%rdi), %rax\n ret\n"
        " .balign 16\n"
        "go_two: call go_one\n add %rax, %rax\n ret\n"
        "go_end:\n");
long go_two(long);
int main(int argc, char **argv) { (void)argv; printf("%ld\n", go_two(argc)); return 0; }
