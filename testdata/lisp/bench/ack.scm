;;; ack: the Ackermann function, repeated.
;;; Measures deep non-tail recursion (about 4000 frames) mixed with tail calls.
(define (ack m n)
  (cond ((= m 0) (+ n 1))
        ((= n 0) (ack (- m 1) 1))
        (else (ack (- m 1) (ack m (- n 1))))))

(define (repeat-ack k acc)
  (if (= k 0)
      acc
      (repeat-ack (- k 1) (+ acc (ack 3 9)))))

(display (repeat-ack 6 0))
(newline)
