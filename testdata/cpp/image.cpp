// image.cpp -- a C++ interpreter whose compiled image throws: nodes with a
// virtual eval, frozen; a division builtin throws std::domain_error.  Run
// under `lineiform snapshot` and `lineiform run`, the exception thrown
// below the image's compiled code must reach main's catch (the image
// keeps .eh_frame and the loader registers it), exactly as without it.
//
// Script: two numbers a b; the program prints 1000 / (x - b) + x summed
// over x = 0 .. a-1, or "caught: division by zero" when x - b hits 0.
#include "lineiform.h"

#include <cstdio>
#include <stdexcept>

struct Node { virtual long eval(long x) const = 0; };

template <class T, class... A> static const Node *mk(A... a)
{
    T t(a...);
    return static_cast<const Node *>(lf_freeze(&t, sizeof t));
}

[[noreturn]] __attribute__((noinline)) static void div_by_zero() { throw std::domain_error("division by zero"); }

struct Lit : Node { long k; explicit Lit(long k_) : k(k_) {} long eval(long) const override { return k; } };
struct Arg : Node { long eval(long x) const override { return x; } };
struct Bin : Node {
    char op; const Node *a, *b;
    Bin(char o, const Node *a_, const Node *b_) : op(o), a(a_), b(b_) {}
    long eval(long x) const override
    {
        long p = a->eval(x), q = b->eval(x);
        if (op == '+') return p + q;
        if (op == '-') return p - q;
        if (q == 0) div_by_zero();
        return p / q;
    }
};
// sum over i = 0 .. x-1 of body(i)
struct Sum : Node {
    const Node *body;
    explicit Sum(const Node *b_) : body(b_) {}
    long eval(long x) const override { long s = 0; for (long i = 0; i < x; i++) s += body->eval(i); return s; }
};

struct Root { long a; };

// The snapshot's entry closure: its first word is its code (lineiform.h).
struct Entry { long (*code)(const Entry *, long); const Node *prog; };
static long entry_eval(const Entry *e, long x) { return e->prog->eval(x); }

static int run(const Entry *e, long (*code)(const Entry *, long), long a)
{
    try {
        std::printf("%ld\n", code(e, a));
        return 0;
    } catch (const std::exception &e) {
        std::printf("caught: %s\n", e.what());
        return 1;
    }
}

int main(int argc, char **argv)
{
    lf_init(&argc, &argv);
    if (lf_mode() == LF_MODE_IMAGE) {
        void *code, *entry, *roots;
        if (lf_image(&code, &entry, &roots) != LF_OK) return 3;
        const Root *r = static_cast<const Root *>(roots);
        return run(static_cast<const Entry *>(entry), reinterpret_cast<long (*)(const Entry *, long)>(code), r->a);
    }
    if (argc != 2) { std::fprintf(stderr, "usage: image SCRIPT\n"); return 2; }
    FILE *f = std::fopen(argv[1], "r");
    long a = 0, b = 0;
    if (!f || std::fscanf(f, "%ld %ld", &a, &b) != 2) { std::fprintf(stderr, "image: cannot read %s\n", argv[1]); return 2; }
    std::fclose(f);
    Root *r = static_cast<Root *>(lf_alloc(sizeof *r));
    const Node *x = mk<Arg>();
    Entry e0 = { entry_eval, mk<Sum>(mk<Bin>('+', mk<Bin>('/', mk<Lit>(1000), mk<Bin>('-', x, mk<Lit>(b))), x)) };
    const Entry *e = static_cast<const Entry *>(lf_freeze(&e0, sizeof e0));
    r->a = a;
    lf_snapshot(const_cast<Entry *>(e), r);
    return run(e, entry_eval, a);
}
