// direct.rs -- the 1,000-node tree of closures.rs written directly in
// Rust: the figure lf_optimize's code is compared with.  Built by
// appending the output of `closures emit` (fn tree) to this file.
// Prints "direct: <ns> ns, sum <n>" with the same loop as closures bench.
use std::time::Instant;

fn main() {
    let iters = 20000i64;
    let mut best = f64::MAX;
    let mut acc = 0i64;
    for _ in 0..5 {
        acc = 0;
        let t = Instant::now();
        for k in 0..iters {
            // Through a volatile read: the slots are not known to the compiler.
            let s = unsafe { std::ptr::read_volatile(&[k, 2, 3, 4]) };
            acc = acc.wrapping_add(tree(&s));
        }
        best = best.min(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    println!("direct: {:.1} ns, sum {}", best, acc);
}
