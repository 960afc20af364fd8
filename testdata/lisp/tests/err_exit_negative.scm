(display "before")
(newline)
(exit -1)
(display "not reached")
