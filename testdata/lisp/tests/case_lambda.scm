(import (scheme base) (scheme write) (scheme case-lambda))
; case-lambda: the first clause whose formals take the arguments, fixed and
; rest formals, recursion through the case-lambda, and no matching clause
; caught as an error.
; the program's own length and apply do not change what case-lambda does
(define (length l) 'shadowed)
(define (apply f l) 'shadowed-apply)
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(define area
  (case-lambda
    ((r) (* 3 r r))
    ((w h) (* w h))
    ((a b c . more) (list 'many a b c more))))
(show (area 2) (area 3 4) (area 1 2 3) (area 1 2 3 4 5))
(define plus
  (case-lambda
    (() 0)
    ((x) x)
    ((x y) (+ x y))
    ((x y . rest) (+ (plus x y) (plus-list rest)))))
(define (plus-list l) (if (null? l) 0 (+ (car l) (plus-list (cdr l)))))
(show (plus) (plus 1) (plus 1 2) (plus 1 2 3 4 5 6 7 8 9 10))
(define any-args (case-lambda (args args)))
(show (any-args) (any-args 1 2 3))
(define two-only (case-lambda ((a b) (list a b))))
(show (guard (e ((error-object? e) 'no-clause)) (two-only 1)))
(show (area 5) (length 1) (apply + '(1 2)))
