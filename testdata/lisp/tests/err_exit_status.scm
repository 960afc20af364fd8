(display "bye")
(exit 3)
(display "not reached")
