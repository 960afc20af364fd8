(import (scheme base) (scheme write))
; define-syntax with syntax-rules: literals, ellipsis after a pattern and
; before more patterns, dotted tails, nested ellipses, vectors, (... ...),
; a custom ellipsis, recursive macros, macros that expand into
; definitions at top level and in bodies, let-syntax, and set! inside a
; macro.  The macros here do not depend on hygiene (not implemented).
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(define-syntax swap!
  (syntax-rules ()
    ((_ a b) (let ((tmp-swap a)) (set! a b) (set! b tmp-swap)))))
(define x 1) (define y 2)
(swap! x y)
(show x y)
(define-syntax my-or
  (syntax-rules ()
    ((_) #f)
    ((_ e) e)
    ((_ e r ...) (let ((t-or e)) (if t-or t-or (my-or r ...))))))
(show (my-or) (my-or #f 3) (my-or #f #f) (my-or 1 (car '())))
(define-syntax while
  (syntax-rules ()
    ((_ cond body ...) (let lp () (when cond body ... (lp))))))
(define i 0) (define acc '())
(while (< i 5) (set! acc (cons i acc)) (set! i (+ i 1)))
(show acc)
(define-syntax my-cond
  (syntax-rules (else)
    ((_ (else e ...)) (begin e ...))
    ((_ (c e ...) clause ...) (if c (begin e ...) (my-cond clause ...)))))
(show (my-cond (#f 1) ((= 1 1) 2) (else 3)) (my-cond (#f 1) (else 'e1 'e2)))
(define-syntax my-let*
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((n v) rest ...) body ...) (let ((n v)) (my-let* (rest ...) body ...)))))
(show (my-let* ((a 1) (b (+ a 1)) (c (* b 3))) (list a b c)))
(define-syntax last-of
  (syntax-rules ()
    ((_ a ... z) 'z)))
(show (last-of 1 2 3) (last-of only))
(define-syntax dotted
  (syntax-rules ()
    ((_ a . rest) '(a rest))))
(show (dotted 1 2 3) (dotted 1))
(define-syntax flat
  (syntax-rules ()
    ((_ (a ...) ...) '(a ... ...))))
(show (flat (1 2) () (3 4 5)))
(define-syntax pairs
  (syntax-rules ()
    ((_ (k v) ...) (list (cons 'k v) ...))))
(show (pairs (a 1) (b (+ 1 1)) (c 3)))
(define-syntax vec-pat
  (syntax-rules ()
    ((_ #(a b ...)) (list a '(b ...)))))
(show (vec-pat #(1 2 3)))
(define-syntax be-like-begin
  (syntax-rules ()
    ((be-like-begin name)
     (define-syntax name
       (syntax-rules ()
         ((name expr (... ...))
          (begin expr (... ...))))))))
(be-like-begin sequence)
(show (sequence 1 2 3 4))
(define-syntax my-list
  (syntax-rules ::: ()
    ((_ a :::) (list a :::))))
(show (my-list 1 2 3))
(define-syntax define-getter
  (syntax-rules ()
    ((_ name val) (define (name) val))))
(define-getter get-five 5)
(show (get-five))
(define (local-macro n)
  (define-syntax twice (syntax-rules () ((_ e) (* 2 e))))
  (define-getter get-n n)
  (twice (get-n)))
(show (local-macro 21))
(show (let-syntax ((inc (syntax-rules () ((_ v) (+ v 1))))) (inc 41)))
(define counter 0)
(define (bump) (set! counter (+ counter 1)) counter)
(define-syntax bump-twice (syntax-rules () ((_) (begin (bump) (bump)))))
(bump-twice)
(show counter)
(define-syntax my-unless
  (syntax-rules () ((_ c e ...) (if c #f (begin e ...)))))
(define (count-odd l) (let loop ((l l) (n 0)) (if (null? l) n (loop (cdr l) (+ n (or (my-unless (even? (car l)) 1) 0))))))
(show (count-odd '(1 2 3 4 5 7)))
