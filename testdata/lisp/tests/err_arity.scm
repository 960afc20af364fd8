(define (f a b) a)
(display (f 1))
