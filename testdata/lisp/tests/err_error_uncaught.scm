; error with no handler: the message and the irritants, status 1; the
; after thunk of an enclosing dynamic-wind does not run (the program ends).
(display "before") (newline)
(dynamic-wind (lambda () #t) (lambda () (error "Bad value:" 42 "str" 'sym)) (lambda () (display "after")))
