;;; fib: doubly recursive Fibonacci on fixnums.
;;; Measures procedure call and return, argument passing, fixnum + - <.
(define (fib n)
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))

(display (fib 36))
(newline)
