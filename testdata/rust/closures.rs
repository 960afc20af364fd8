// closures.rs -- a closure-generating interpreter in Rust, as an outside
// author would write it against lineiform (plain rustc, no crates).
//
// Every node of a program is a `Box<dyn Fn(&mut [i64]) -> i64>`: literals,
// slot variables, arithmetic, If, While, Seq, a call node (a body run on a
// fresh frame of its own) and a checked slot read that panics when out of
// range.  Each box is frozen (lf_freeze of the closure's bytes) and its fat
// pointer rebuilt from the frozen data pointer and the original vtable, so
// the lifter sees the whole tree as constants.
//
// Run: closures [check|bench|panic|emit]
//   check  every program, original against lf_optimize's code on many
//          inputs; prints "ok <n> results" or the first difference (exit 1)
//   bench  a 1,000-node tree: ns per run of the plain closures and of
//          the optimized code, and the sum of the results
//   emit   the same tree as a Rust function (direct.rs times it)
//   panic  an out-of-bounds slot inside optimized code: the panic's message
//          and catch_unwind's result
// Each mode prints the last lf_report (specializations, bailouts, reason).
use std::os::raw::{c_char, c_void};
use std::panic;
use std::time::Instant;

// -- lineiform.h, the part this interpreter uses -----------------------------

#[repr(C)]
pub struct LfReport {
    specializations: u32,
    inlined: u32,
    native_calls: u32,
    bailouts: u32,
    insns_lifted: u32,
    frame_private: u32,
    frame_shared: u32,
    windows: u32,
    kept_calls: u32,
    fast_exits: u32,
    returns_forwarded: u32,
    recursion_cc: u32,
    tag_threaded: u32,
    unrolled: u32,
    eh_native: u32,
    code_size: usize,
    ms_lift: f64,
    ms_opt: f64,
    ms_codegen: f64,
    reason: [c_char; 256],
}

extern "C" {
    fn lf_freeze(obj: *const c_void, size: usize) -> *mut c_void;
    fn lf_optimize(f: *mut c_void, env: *const c_void) -> *mut c_void;
    fn lf_last_report() -> *const LfReport;
}

// -- Frozen boxes --------------------------------------------------------------

type Node = Box<dyn Fn(&mut [i64]) -> i64>;
/// A node whose closure lives in frozen memory: never freed, never written.
type Frozen = &'static dyn Fn(&mut [i64]) -> i64;

/// Copy the closure a box holds into frozen memory and rebuild the fat
/// pointer from the frozen data pointer and the box's own vtable.  The box's
/// heap block is released without running the closure's destructor: its
/// captures (frozen nodes, integers) now belong to the frozen copy.
fn freeze(b: Node) -> Frozen {
    let size = std::mem::size_of_val(&*b);
    let align = std::mem::align_of_val(&*b);
    assert!(align <= 16, "lf_freeze aligns to 16 bytes");
    let raw: *mut (dyn Fn(&mut [i64]) -> i64) = Box::into_raw(b);
    let parts: [usize; 2] = unsafe { std::mem::transmute(raw) };
    let frozen = unsafe { lf_freeze(parts[0] as *const c_void, size) };
    assert!(!frozen.is_null(), "lf_freeze failed");
    if size > 0 {
        unsafe {
            std::alloc::dealloc(parts[0] as *mut u8, std::alloc::Layout::from_size_align_unchecked(size, align))
        };
    }
    unsafe { &*std::mem::transmute::<[usize; 2], *const (dyn Fn(&mut [i64]) -> i64)>([frozen as usize, parts[1]]) }
}

fn lit(k: i64) -> Frozen { freeze(Box::new(move |_s: &mut [i64]| k)) }
fn var(i: usize) -> Frozen { freeze(Box::new(move |s: &mut [i64]| s[i])) }
fn set(i: usize, e: Frozen) -> Frozen { freeze(Box::new(move |s: &mut [i64]| { let v = e(s); s[i] = v; v })) }
fn add(a: Frozen, b: Frozen) -> Frozen { freeze(Box::new(move |s: &mut [i64]| a(s).wrapping_add(b(s)))) }
fn sub(a: Frozen, b: Frozen) -> Frozen { freeze(Box::new(move |s: &mut [i64]| a(s).wrapping_sub(b(s)))) }
fn mul(a: Frozen, b: Frozen) -> Frozen { freeze(Box::new(move |s: &mut [i64]| a(s).wrapping_mul(b(s)))) }
fn lt(a: Frozen, b: Frozen) -> Frozen { freeze(Box::new(move |s: &mut [i64]| (a(s) < b(s)) as i64)) }
fn rem(a: Frozen, k: i64) -> Frozen { freeze(Box::new(move |s: &mut [i64]| a(s).wrapping_rem(k))) }
fn if_(c: Frozen, t: Frozen, e: Frozen) -> Frozen {
    freeze(Box::new(move |s: &mut [i64]| if c(s) != 0 { t(s) } else { e(s) }))
}
fn while_(c: Frozen, body: Frozen) -> Frozen {
    freeze(Box::new(move |s: &mut [i64]| { while c(s) != 0 { body(s); } 0 }))
}
fn seq(a: Frozen, b: Frozen) -> Frozen { freeze(Box::new(move |s: &mut [i64]| { a(s); b(s) })) }
/// A call: the argument evaluated in the caller's slots, the body run on a
/// fresh frame of four slots whose slot 0 holds it.
fn call(body: Frozen, arg: Frozen) -> Frozen {
    freeze(Box::new(move |s: &mut [i64]| { let mut f = [0i64; 4]; f[0] = arg(s); body(&mut f) }))
}
/// A slot read through a run-time index (slot j holds i): out of range
/// panics with Rust's own bounds-check message.
fn index(j: usize) -> Frozen { freeze(Box::new(move |s: &mut [i64]| { let i = s[j] as usize; s[i] })) }

// -- Programs ------------------------------------------------------------------

/// s1 = 0; while 0 < s0 { s1 = s1 + (s0 * s0) % 7; s0 = s0 - 1 }; s1
fn prog_loop() -> Frozen {
    let body = seq(set(1, add(var(1), rem(mul(var(0), var(0)), 7))), set(0, sub(var(0), lit(1))));
    seq(set(1, lit(0)), seq(while_(lt(lit(0), var(0)), body), var(1)))
}

/// square(s0 + 3) - (if s1 < s0 then s1 else s0 * 2), square on its own frame
fn prog_call() -> Frozen {
    let square = mul(var(0), var(0));
    let pick = if_(lt(var(1), var(0)), var(1), mul(var(0), lit(2)));
    sub(call(square, add(var(0), lit(3))), pick)
}

/// A tree of n nodes over slots 0..3, shaped by seed (same seed, same tree).
fn tree(n: usize, seed: &mut u64) -> Frozen {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let r = (*seed >> 33) as usize;
    if n <= 1 {
        return if r % 2 == 0 { lit((r % 100) as i64 - 50) } else { var(r / 2 % 4) };
    }
    let left = (n - 1) / 2;
    let (a, b) = (tree(left, seed), tree(n - 1 - left, seed));
    match r % 5 {
        0 | 1 => add(a, b),
        2 => sub(a, b),
        3 => mul(a, b),
        _ => lt(a, b),
    }
}

/// The same tree as `tree`, as Rust source: the body of
/// `fn tree(s: &[i64]) -> i64` (mode emit; direct.rs times it).
fn tree_src(n: usize, seed: &mut u64) -> String {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let r = (*seed >> 33) as usize;
    if n <= 1 {
        return if r % 2 == 0 { format!("({}i64)", (r % 100) as i64 - 50) } else { format!("s[{}]", r / 2 % 4) };
    }
    let left = (n - 1) / 2;
    let a = tree_src(left, seed);
    let b = tree_src(n - 1 - left, seed);
    match r % 5 {
        0 | 1 => format!("{}.wrapping_add({})", a, b),
        2 => format!("{}.wrapping_sub({})", a, b),
        3 => format!("{}.wrapping_mul({})", a, b),
        _ => format!("((({}) < ({})) as i64)", a, b),
    }
}

// -- Specializing a node -------------------------------------------------------

// Rust ABI (not extern "C"): a panic must unwind through it to catch_unwind.
type Code = fn(*const u8, *mut i64, usize) -> i64;

/// The node's call function: slot 5 of a `dyn Fn` vtable (drop, size,
/// align, call_once, call_mut, call).  Its machine-level signature is
/// (closure data, slice pointer, slice length) -> i64.
fn call_fn(f: Frozen) -> (Code, *const u8) {
    let parts: [usize; 2] = unsafe { std::mem::transmute(f) };
    let vt = parts[1] as *const usize;
    let code: Code = unsafe { std::mem::transmute(*vt.add(5)) };
    (code, parts[0] as *const u8)
}

fn report() -> String {
    let r = unsafe { &*lf_last_report() };
    let reason = unsafe { std::ffi::CStr::from_ptr(r.reason.as_ptr()) }.to_string_lossy().into_owned();
    format!("specializations {} bailouts {} native_calls {} code_size {} reason '{}'",
            r.specializations, r.bailouts, r.native_calls, r.code_size, reason)
}

/// lf_optimize on the node's call function with its frozen data as env.
fn optimize(f: Frozen) -> (Code, *const u8) {
    let (code, env) = call_fn(f);
    let mut s = [1i64, 3, 0, 0];
    assert_eq!(code(env, s.as_mut_ptr(), 4), f(&mut [1, 3, 0, 0]), "vtable slot 5 is not the call function");
    let opt = unsafe { lf_optimize(code as *mut c_void, env as *const c_void) };
    println!("report: {}", report());
    (unsafe { std::mem::transmute(opt) }, env)
}

fn check() -> i32 {
    let progs: Vec<(&str, Frozen)> = vec![
        ("loop", prog_loop()),
        ("call", prog_call()),
        ("tree", tree(1000, &mut 12345)),
    ];
    let mut n = 0;
    for (name, p) in progs {
        let (opt, env) = optimize(p);
        for a in -40i64..40 {
            for b in [-7i64, 0, 1, 5, 1000] {
                let mut s1 = [a, b, 3, -2];
                let mut s2 = s1;
                let want = p(&mut s1);
                let got = opt(env, s2.as_mut_ptr(), s2.len());
                if want != got || s1 != s2 {
                    println!("{}: s0 {} s1 {}: original {} {:?}, optimized {} {:?}", name, a, b, want, s1, got, s2);
                    return 1;
                }
                n += 1;
            }
        }
    }
    println!("ok {} results", n);
    0
}

/// Best of five runs of iters calls, in ns per call; and the sum of the
/// results (the same for every variant of the same computation).
fn time_ns<F: FnMut(i64) -> i64>(mut f: F, iters: i64) -> (f64, i64) {
    let mut acc = 0i64;
    let mut best = f64::MAX;
    for _ in 0..5 {
        acc = 0;
        let t = Instant::now();
        for k in 0..iters { acc = acc.wrapping_add(f(k)); }
        best = best.min(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    (best, acc)
}

/// The tree direct.rs computes (seed and size shared with emit).
const BENCH_SEED: u64 = 777;
const BENCH_NODES: usize = 1000;
const BENCH_ITERS: i64 = 20000;

fn bench() -> i32 {
    let p = tree(BENCH_NODES, &mut BENCH_SEED.clone());
    let (opt, env) = optimize(p);
    let (orig, a1) = time_ns(|k| p(&mut [k, 2, 3, 4]), BENCH_ITERS);
    let (fast, a2) = time_ns(|k| { let mut s = [k, 2, 3, 4]; opt(env, s.as_mut_ptr(), 4) }, BENCH_ITERS);
    if a1 != a2 {
        println!("bench: results differ: {} {}", a1, a2);
        return 1;
    }
    println!("bench: 1000-node tree: closures {:.1} ns, optimized {:.1} ns, speedup {:.1}x, sum {}",
             orig, fast, orig / fast, a1);
    0
}

fn panics() -> i32 {
    // s1 = s[s0]: in range for s0 < 4, a bounds-check panic otherwise.
    let p = add(index(0), lit(1));
    let (opt, env) = optimize(p);
    let mut s = [2i64, 0, 40, 0];
    let ok = opt(env, s.as_mut_ptr(), 4);
    if ok != 41 { println!("panic: in range gave {}", ok); return 1; }
    panic::set_hook(Box::new(|info| {
        let msg = info.payload().downcast_ref::<String>().cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
        println!("panicked: {}", msg);
    }));
    let r = panic::catch_unwind(|| { let mut s = [9i64, 0, 40, 0]; opt(env, s.as_mut_ptr(), 4) });
    println!("caught: {}", r.is_err());
    if r.is_ok() { return 1; }
    0
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "check".to_string());
    let rc = match mode.as_str() {
        "check" => check(),
        "bench" => bench(),
        "panic" => panics(),
        "emit" => { println!("fn tree(s: &[i64]) -> i64 {{ {} }}", tree_src(BENCH_NODES, &mut BENCH_SEED.clone())); 0 }
        _ => { eprintln!("usage: closures [check|bench|panic|emit]"); 2 }
    };
    std::process::exit(rc);
}
