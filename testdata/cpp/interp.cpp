// interp.cpp -- a C++ interpreter against lineiform, as an outside author
// would write it: AST nodes with a virtual eval, and the same trees as
// std::function closures.  Every node is frozen (lf_freeze of the object's
// bytes: its vtable pointer and children), then lf_optimize specializes
// the root's eval on it.
//
// Builtins throw C++ exceptions (division by zero); a Try node catches
// them, a Guard node counts its exits in a destructor (RAII).  Such code
// has landing pads that only the unwinder enters: lineiform keeps it
// native and says so (lf_report.eh_native, reason).
//
// Run: interp [check|bench]
//   check  every program, original against lf_optimize's code on many
//          inputs (results, slots, and which exception escaped)
//   bench  1,000-node trees (virtual eval, std::function): ns per run of
//          the original, the optimized code and the tree written directly
#include "lineiform.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

// -- AST nodes with a virtual eval ---------------------------------------------

struct Node {
    virtual long eval(long *s) const = 0;   // vtable slot 0
};

// Copy a node into frozen memory: its vtable pointer and children with it.
template <class T, class... A> static const Node *mk(A... a)
{
    T t(a...);
    const Node *f = static_cast<const Node *>(lf_freeze(&t, sizeof t));
    if (!f) { std::fprintf(stderr, "lf_freeze failed\n"); std::exit(2); }
    return f;
}

[[noreturn]] __attribute__((noinline)) static void div_by_zero()
{
    throw std::domain_error("division by zero");
}

struct Lit : Node { long k; explicit Lit(long k_) : k(k_) {} long eval(long *) const override { return k; } };
struct Var : Node { int i; explicit Var(int i_) : i(i_) {} long eval(long *s) const override { return s[i]; } };
struct Set : Node {
    int i; const Node *e;
    Set(int i_, const Node *e_) : i(i_), e(e_) {}
    long eval(long *s) const override { return s[i] = e->eval(s); }
};
struct Bin : Node {
    char op; const Node *a, *b;
    Bin(char o, const Node *a_, const Node *b_) : op(o), a(a_), b(b_) {}
    long eval(long *s) const override
    {
        long x = a->eval(s), y = b->eval(s);
        switch (op) {
        case '+': return (long)((unsigned long)x + (unsigned long)y);
        case '-': return (long)((unsigned long)x - (unsigned long)y);
        case '*': return (long)((unsigned long)x * (unsigned long)y);
        case '<': return x < y;
        case '/': if (y == 0) div_by_zero(); return y == -1 ? (long)(0ul - (unsigned long)x) : x / y;
        default: return 0;
        }
    }
};
struct If : Node {
    const Node *c, *t, *e;
    If(const Node *c_, const Node *t_, const Node *e_) : c(c_), t(t_), e(e_) {}
    long eval(long *s) const override { return c->eval(s) ? t->eval(s) : e->eval(s); }
};
struct While : Node {
    const Node *c, *body;
    While(const Node *c_, const Node *b_) : c(c_), body(b_) {}
    long eval(long *s) const override { while (c->eval(s)) body->eval(s); return 0; }
};
struct Seq : Node {
    const Node *a, *b;
    Seq(const Node *a_, const Node *b_) : a(a_), b(b_) {}
    long eval(long *s) const override { a->eval(s); return b->eval(s); }
};
// try { body } catch (std::exception &) { handler }
struct Try : Node {
    const Node *body, *handler;
    Try(const Node *b_, const Node *h_) : body(b_), handler(h_) {}
    long eval(long *s) const override
    {
        try { return body->eval(s); } catch (const std::exception &) { return handler->eval(s); }
    }
};
// s[3] counts the exits of body, by return or by exception (a destructor).
struct Guard : Node {
    const Node *body;
    explicit Guard(const Node *b_) : body(b_) {}
    struct Count { long *s; ~Count() { s[3]++; } };
    long eval(long *s) const override { Count c{s}; return body->eval(s); }
};

static const Node *lit(long k) { return mk<Lit>(k); }
static const Node *var(int i) { return mk<Var>(i); }
static const Node *bin(char op, const Node *a, const Node *b) { return mk<Bin>(op, a, b); }

// -- The same as std::function closures ------------------------------------------

typedef std::function<long(long *)> Fn;

// A closure is a frozen std::function; its lambda captures frozen
// closures by address (two pointers at most: stored inside the
// std::function, so the freeze copies it whole).
template <class L> static const Fn *fz(L l)
{
    Fn f(l);
    const Fn *r = static_cast<const Fn *>(lf_freeze(&f, sizeof f));
    if (!r) { std::fprintf(stderr, "lf_freeze failed\n"); std::exit(2); }
    new (&f) Fn();   // the bytes now belong to the frozen copy: do not destroy the functor twice
    return r;
}

static const Fn *flit(long k) { return fz([k](long *) { return k; }); }
static const Fn *fvar(int i) { return fz([i](long *s) { return s[i]; }); }
static const Fn *fbin(char op, const Fn *a, const Fn *b)
{
    switch (op) {
    case '+': return fz([a, b](long *s) { return (long)((unsigned long)(*a)(s) + (unsigned long)(*b)(s)); });
    case '-': return fz([a, b](long *s) { return (long)((unsigned long)(*a)(s) - (unsigned long)(*b)(s)); });
    case '*': return fz([a, b](long *s) { return (long)((unsigned long)(*a)(s) * (unsigned long)(*b)(s)); });
    default: return fz([a, b](long *s) { return (long)((*a)(s) < (*b)(s)); });
    }
}

// The interpreter's entry: a root closure and the slots.
extern "C" __attribute__((noinline)) long run_fn(const Fn *f, long *s) { return (*f)(s); }

// -- Programs ----------------------------------------------------------------------

// s1 = 0; while (0 < s0) { s1 = s1 + s0 * s0 / 7; s0 = s0 - 1 } ; s1
static const Node *prog_loop()
{
    const Node *body = mk<Seq>(mk<Set>(1, bin('+', var(1), bin('/', bin('*', var(0), var(0)), lit(7)))),
                               mk<Set>(0, bin('-', var(0), lit(1))));
    return mk<Seq>(mk<Set>(1, lit(0)), mk<Seq>(mk<While>(bin('<', lit(0), var(0)), body), var(1)));
}
// 1000 / (s0 - 3): throws for s0 = 3, caught by the host
static const Node *prog_throw() { return bin('+', bin('/', lit(1000), bin('-', var(0), lit(3))), var(1)); }
// try { 1000 / (s0 - 3) } catch { -1 } + s1: caught by the program's own handler
static const Node *prog_try()
{
    return bin('+', mk<Try>(bin('/', lit(1000), bin('-', var(0), lit(3))), lit(-1)), var(1));
}
// guard(1000 / (s0 - 3)) + s3: the destructor runs on both exits
static const Node *prog_guard()
{
    return bin('+', mk<Guard>(bin('/', lit(1000), bin('-', var(0), lit(3)))), var(2));
}

static unsigned long long lcg(unsigned long long *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    return *seed >> 33;
}

// A tree of n nodes over slots 0..3, shaped by seed (and its twins below).
static const Node *tree(int n, unsigned long long *seed)
{
    unsigned long long r = lcg(seed);
    if (n <= 1) return r % 2 == 0 ? lit((long)(r % 100) - 50) : var((int)(r / 2 % 4));
    int left = (n - 1) / 2;
    const Node *a = tree(left, seed), *b = tree(n - 1 - left, seed);
    static const char ops[5] = { '+', '+', '-', '*', '<' };
    return bin(ops[r % 5], a, b);
}
static const Fn *ftree(int n, unsigned long long *seed)
{
    unsigned long long r = lcg(seed);
    if (n <= 1) return r % 2 == 0 ? flit((long)(r % 100) - 50) : fvar((int)(r / 2 % 4));
    int left = (n - 1) / 2;
    const Fn *a = ftree(left, seed), *b = ftree(n - 1 - left, seed);
    static const char ops[5] = { '+', '+', '-', '*', '<' };
    return fbin(ops[r % 5], a, b);
}

// -- Specializing ----------------------------------------------------------------------

typedef long (*eval_fn)(const Node *, long *);

static eval_fn eval_of(const Node *n) { return (*reinterpret_cast<eval_fn *const *>(n))[0]; }

static void report(const char *what)
{
    const lf_report *r = lf_last_report();
    std::printf("report %s: specializations %u bailouts %u eh_native %u code_size %zu reason '%s'\n", what,
                r->specializations, r->bailouts, r->eh_native, r->code_size, r->reason);
}

// One evaluation: its result or the exception that escaped, and the slots.
struct Outcome { long v; std::string exc; long s[4]; };

template <class F> static Outcome outcome(F f, const long *in)
{
    Outcome o{0, "", {in[0], in[1], in[2], in[3]}};
    try { o.v = f(o.s); } catch (const std::exception &e) { o.exc = e.what(); }
    return o;
}

static int same(const Outcome &a, const Outcome &b)
{
    return a.v == b.v && a.exc == b.exc && !std::memcmp(a.s, b.s, sizeof a.s);
}

static int check_node(const char *name, const Node *p, int *n)
{
    eval_fn f = eval_of(p);
    eval_fn o = reinterpret_cast<eval_fn>(lf_optimize(reinterpret_cast<void *>(f), p));
    report(name);
    for (long a = -20; a < 20; a++)
        for (long b : {-7L, 0L, 5L}) {
            long in[4] = {a, b, 3, -2};
            Outcome want = outcome([&](long *s) { return f(p, s); }, in);
            Outcome got = outcome([&](long *s) { return o(p, s); }, in);
            if (!same(want, got)) {
                std::printf("%s: s0 %ld s1 %ld: original %ld '%s' s3 %ld, optimized %ld '%s' s3 %ld\n", name, a, b,
                            want.v, want.exc.c_str(), want.s[3], got.v, got.exc.c_str(), got.s[3]);
                return 1;
            }
            ++*n;
        }
    return 0;
}

static int check()
{
    int n = 0, bad = 0;
    unsigned long long seed = 12345;
    bad |= check_node("loop", prog_loop(), &n);
    bad |= check_node("throw", prog_throw(), &n);
    bad |= check_node("try", prog_try(), &n);
    bad |= check_node("guard", prog_guard(), &n);
    bad |= check_node("tree", tree(1000, &seed), &n);
    seed = 12345;
    const Fn *ft = ftree(1000, &seed);
    typedef long (*run_t)(const Fn *, long *);
    run_t o = reinterpret_cast<run_t>(lf_optimize(reinterpret_cast<void *>(run_fn), ft));
    report("function-tree");
    for (long a = -20; a < 20 && !bad; a++) {
        long s1[4] = {a, 2, 3, 4}, s2[4] = {a, 2, 3, 4};
        long want = run_fn(ft, s1), got = o(ft, s2);
        if (want != got) { std::printf("function-tree: s0 %ld: original %ld, optimized %ld\n", a, want, got); bad = 1; }
        n++;
    }
    if (!bad) std::printf("ok %d results\n", n);
    return bad;
}

// -- Speed -----------------------------------------------------------------------------

long tree_direct(const long *s);   // the same tree written directly (direct.cpp), when linked

template <class F> static double ns_per_call(F f, long iters, long *sum)
{
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        long acc = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (long k = 0; k < iters; k++) {
            long s[4] = {k, 2, 3, 4};
            acc += f(s);
        }
        double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / iters;
        if (ns < best) best = ns;
        *sum = acc;
    }
    return best;
}

static int bench()
{
    const long iters = 20000;
    unsigned long long seed = 777;
    const Node *p = tree(1000, &seed);
    eval_fn f = eval_of(p);
    eval_fn o = reinterpret_cast<eval_fn>(lf_optimize(reinterpret_cast<void *>(f), p));
    report("tree");
    long s1, s2, s3, s4, s5;
    double orig = ns_per_call([&](long *s) { return f(p, s); }, iters, &s1);
    double fast = ns_per_call([&](long *s) { return o(p, s); }, iters, &s2);
    seed = 777;
    const Fn *ft = ftree(1000, &seed);
    typedef long (*run_t)(const Fn *, long *);
    run_t fo = reinterpret_cast<run_t>(lf_optimize(reinterpret_cast<void *>(run_fn), ft));
    report("function-tree");
    double forig = ns_per_call([&](long *s) { return run_fn(ft, s); }, iters, &s3);
    double ffast = ns_per_call([&](long *s) { return fo(ft, s); }, iters, &s4);
    double direct = ns_per_call([&](long *s) { return tree_direct(s); }, iters, &s5);
    if (s1 != s2 || s1 != s3 || s1 != s4 || s1 != s5) {
        std::printf("bench: sums differ: %ld %ld %ld %ld %ld\n", s1, s2, s3, s4, s5);
        return 1;
    }
    std::printf("bench: virtual eval %.1f ns, optimized %.1f ns, speedup %.1fx; std::function %.1f ns, "
                "optimized %.1f ns, speedup %.1fx; direct %.1f ns\n",
                orig, fast, orig / fast, forig, ffast, forig / ffast, direct);
    return 0;
}

// The tree as C++ source: the body of tree_direct (mode emit).
static std::string tree_src(int n, unsigned long long *seed)
{
    unsigned long long r = lcg(seed);
    if (n <= 1)
        return r % 2 == 0 ? "(" + std::to_string((long)(r % 100) - 50) + "L)" : "s[" + std::to_string(r / 2 % 4) + "]";
    int left = (n - 1) / 2;
    std::string a = tree_src(left, seed), b = tree_src(n - 1 - left, seed);
    static const char *ops[5] = { "+", "+", "-", "*", "<" };
    if (r % 5 == 4) return "(long)(" + a + " < " + b + ")";
    return "(long)((unsigned long)" + a + " " + ops[r % 5] + " (unsigned long)" + b + ")";
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "check";
    if (!std::strcmp(mode, "check")) return check();
    if (!std::strcmp(mode, "bench")) return bench();
    if (!std::strcmp(mode, "emit")) {
        unsigned long long seed = 777;
        std::printf("long tree_direct(const long *s) { return %s; }\n", tree_src(1000, &seed).c_str());
        return 0;
    }
    std::fprintf(stderr, "usage: interp [check|bench|emit]\n");
    return 2;
}
