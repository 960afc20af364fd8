(display (map 5 '(1 2)))
