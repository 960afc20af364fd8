(display "before")
(newline)
(exit "foo")
(display "not reached")
