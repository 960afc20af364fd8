(display (exact 2.5))
