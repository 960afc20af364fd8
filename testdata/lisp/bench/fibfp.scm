;;; fibfp: doubly recursive Fibonacci on flonums.
;;; Measures the same calls as fib, with every value a flonum (boxing,
;;; allocation, inexact arithmetic and comparison).
(define (fibfp n)
  (if (< n 2.0)
      n
      (+ (fibfp (- n 1.0)) (fibfp (- n 2.0)))))

(display (fibfp 36.0))
(newline)
