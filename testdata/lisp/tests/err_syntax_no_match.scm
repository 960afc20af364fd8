; A macro use that no syntax-rules pattern matches is a compile-time error
; naming the macro and the position of the use.
(define-syntax two-args (syntax-rules () ((_ a b) (list a b))))
(display (two-args 1 2))
(newline)
(display (two-args 1))
