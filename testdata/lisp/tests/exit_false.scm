(display "before")
(newline)
(exit #f)
(display "not reached")
