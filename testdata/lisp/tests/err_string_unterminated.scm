(display "abc)

