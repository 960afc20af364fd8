;;; tak: the Takeuchi function, repeated.
;;; Measures non-tail calls with three arguments and fixnum comparison.
(define (tak x y z)
  (if (not (< y x))
      z
      (tak (tak (- x 1) y z)
           (tak (- y 1) z x)
           (tak (- z 1) x y))))

(define (repeat-tak k acc)
  (if (= k 0)
      acc
      (repeat-tak (- k 1) (+ acc (tak 18 12 6)))))

(display (repeat-tak 1000 0))
(newline)
