(display (if #t (define z 1) 2))
