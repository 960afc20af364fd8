;;; sieve: the sieve of Eratosthenes on a vector, repeated.
;;; Measures vector-ref/vector-set! in tight named-let loops and
;;; allocation of a large vector.
(define (sieve n)
  (let ((v (make-vector (+ n 1) #t)))
    (let loop ((i 2) (count 0))
      (cond ((> i n) count)
            ((vector-ref v i)
             (let mark ((j (* i i)))
               (when (<= j n)
                 (vector-set! v j #f)
                 (mark (+ j i))))
             (loop (+ i 1) (+ count 1)))
            (else (loop (+ i 1) count))))))

(define (repeat-sieve k acc)
  (if (= k 0)
      acc
      (repeat-sieve (- k 1) (+ acc (sieve 1000000)))))

(display (repeat-sieve 25 0))
(newline)
