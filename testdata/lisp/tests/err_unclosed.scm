(display "ok")
(define (f x)
  (+ x 1)
