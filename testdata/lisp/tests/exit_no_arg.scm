(display "before")
(newline)
(exit )
(display "not reached")
