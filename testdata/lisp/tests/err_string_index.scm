(display (string-ref "abc" 5))
