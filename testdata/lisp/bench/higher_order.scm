;;; higher_order: closures made at run time (make-adder, compose), a fold
;;; and a map over lambdas, and a benchmark runner that calls each test
;;; through a thunk.  Measures calls through procedure objects on the heap.
(define (make-adder k) (lambda (x) (+ x k)))
(define (compose f g) (lambda (x) (f (g x))))
(define (fold f acc lst) (if (null? lst) acc (fold f (f acc (car lst)) (cdr lst))))
(define (iota n) (let loop ((i (- n 1)) (acc '())) (if (< i 0) acc (loop (- i 1) (cons i acc)))))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (run-benchmark name count thunk)
  (let loop ((i 1) (r (thunk)))
    (if (< i count) (loop (+ i 1) (thunk))
        (begin (display name) (display ": ") (display r) (newline)))))
(define add5 (make-adder 5))
(define inc2 (compose add5 (make-adder -3)))
(define xs (iota 1000))
(run-benchmark "fold" 5000 (lambda () (fold (lambda (a x) (+ a (inc2 x))) 0 xs)))
(run-benchmark "map" 500 (lambda () (length (map add5 xs))))
(run-benchmark "fib" 1 (lambda () (fib 32)))
