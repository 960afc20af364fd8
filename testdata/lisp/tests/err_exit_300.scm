(display "before")
(newline)
(exit 300)
(display "not reached")
