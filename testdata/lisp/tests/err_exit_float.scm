(display "before")
(newline)
(exit 2.0)
(display "not reached")
