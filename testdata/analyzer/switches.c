/* switches.c -- jump tables the analyzer must recover exactly, built by
 * tests/test_analyzer_jtab.c with gcc and clang, PIE and not:
 *   sw8    a switch on a uint8_t with 182 cases (the guard `cmp dil, 0xb5`
 *          is an 8-bit immediate, read unsigned);
 *   sw16   a switch on a uint16_t with 41 cases;
 *   sw32   a switch on a uint32_t with 41 cases;
 *   vm     a computed-goto dispatch loop whose 16-entry table base is
 *          loaded once, blocks away from the jumps, and bounded by a mask. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define KEEP __attribute__((noinline, used))

#define C(n) case n: return (x >> ((n) % 7)) * ((n) + 3) ^ (n) ^ g;
#define C10(n) C(n##0) C(n##1) C(n##2) C(n##3) C(n##4) C(n##5) C(n##6) C(n##7) C(n##8) C(n##9)

volatile long g;

KEEP long sw8(uint8_t op, long x)
{
    switch (op) {
    C(0) C(1) C(2) C(3) C(4) C(5) C(6) C(7) C(8) C(9)
    C10(1) C10(2) C10(3) C10(4) C10(5) C10(6) C10(7) C10(8) C10(9) C10(10) C10(11) C10(12)
    C10(13) C10(14) C10(15) C10(16) C10(17)
    C(180) C(181)
    default: return -1;
    }
}

KEEP long sw16(uint16_t op, long x)
{
    switch (op) {
    C(0) C(1) C(2) C(3) C(4) C(5) C(6) C(7) C(8) C(9) C10(1) C10(2) C10(3) C(40)
    default: return -1;
    }
}

KEEP long sw32(uint32_t op, long x)
{
    switch (op) {
    C(0) C(1) C(2) C(3) C(4) C(5) C(6) C(7) C(8) C(9) C10(1) C10(2) C10(3) C(40)
    default: return -1;
    }
}

#define OP(n) op##n: acc = acc * (n + 2) + (n ^ g); NEXT;
KEEP long vm(const uint8_t *pc, long acc)
{
    static const void *const tab[16] = { &&op0, &&op1, &&op2, &&op3, &&op4, &&op5, &&op6, &&op7,
                                         &&op8, &&op9, &&op10, &&op11, &&op12, &&op13, &&op14, &&halt };
#define NEXT goto *tab[*pc++ & 15]
    NEXT;
    OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) OP(12) OP(13) OP(14)
halt:
    return acc;
}

int main(int argc, char **argv)
{
    uint8_t prog[] = { 1, 2, 3, 15 };
    long r = sw8((uint8_t)argc, argc) + sw16((uint16_t)argc, argc) + sw32((uint32_t)argc, argc) + vm(prog, argc);
    printf("%ld\n", r + (argc > 1 ? strtol(argv[1], NULL, 0) : 0));
    return 0;
}
