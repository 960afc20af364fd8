(import (scheme base) (scheme write))
; Exceptions: raise and raise-continuable to handlers installed with
; with-exception-handler, guard with test, => and else clauses, re-raising
; to an outer guard when no clause matches, error objects, run-time errors
; of builtins caught as error objects, and dynamic-wind around a raise.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(show (guard (e (#t (list 'caught e))) (raise 'boom)))
(show (guard (e ((symbol? e) (list 'sym e)) ((string? e) (list 'str e))) (raise "text")))
(show (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42)))))
(show (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'b 23)))))
(show (guard (e (else 'otherwise)) (raise 1)))
(show (guard (e ((string? e) 'outer-string))
        (guard (e2 ((number? e2) 'inner-number)) (raise "not a number"))))
(show (guard (e (#t 'unused)) 'no-exception))
(show (with-exception-handler
        (lambda (e) (* e 2))
        (lambda () (+ 1 (raise-continuable 20)))))
(show (with-exception-handler
        (lambda (e) 10)
        (lambda () (with-exception-handler
                     (lambda (e) (+ e (raise-continuable 1)))
                     (lambda () (raise-continuable 5))))))
(show (call/cc (lambda (k)
  (with-exception-handler
    (lambda (e) (k (list 'escaped e)))
    (lambda () (raise 'oops))))))
(define e1 (guard (e (#t e)) (error "Something bad:" 42 'foo "str")))
(show (error-object? e1) (error-object-message e1) (error-object-irritants e1))
(show (error-object? 'x) (error-object? "str"))
(show (guard (e ((error-object? e) (error-object-message e))) (error "no irritants")))
(show (guard (e ((error-object? e) 'builtin-error)) (car 5)))
(show (guard (e ((error-object? e) 'builtin-error)) (vector-ref (vector 1 2) 5)))
(show (guard (e ((error-object? e) 'builtin-error)) (undefined-procedure-xyz 1)))
(show (guard (e ((error-object? e) 'builtin-error)) (+ 1 "a")))
(define trace '())
(show (guard (e (#t (list 'handled e (reverse trace))))
  (dynamic-wind
    (lambda () (set! trace (cons 'in trace)))
    (lambda () (raise 'inside))
    (lambda () (set! trace (cons 'out trace))))))
(define (safe-div a b) (guard (e (#t 'div-error)) (if (= b 0) (raise 'zero) (/ a b))))
(show (safe-div 10 2) (safe-div 1 0))
(define n 0)
(do ((i 0 (+ i 1))) ((= i 1000)) (set! n (+ n (guard (e (#t e)) (if (odd? i) (raise i) 0)))))
(show n)
(show (guard (e (#t (list 'reraised e)))
        (guard (e ((number? e) 'num)) (raise 'sym))))
