(display (+ 1 undefined-thing))
