(display "before")
(newline)
(display (car 5))
