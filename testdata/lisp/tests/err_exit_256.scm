(display "before")
(newline)
(exit 256)
(display "not reached")
