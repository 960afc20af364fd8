; A raised object no handler takes ends the program with a one-line
; message naming it, status 1.
(display "before") (newline)
(raise (list 'my-condition 42))
(display "not reached")
