(display "before")
(newline)
(exit #t)
(display "not reached")
