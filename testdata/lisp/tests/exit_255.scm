(display "before")
(newline)
(exit 255)
(display "not reached")
