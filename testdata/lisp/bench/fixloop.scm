;;; fixloop: a tight fixnum loop (a polynomial hash of 0..n-1).
;;; Measures a named-let loop in constant stack with fixnum * + remainder =.
(define (hash-range n)
  (let loop ((i 0) (acc 0))
    (if (= i n)
        acc
        (loop (+ i 1) (remainder (+ (* acc 31) i) 1000003)))))

(display (hash-range 100000000))
(newline)
