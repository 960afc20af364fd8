(let ((x 1) (y)) x)
(let ((1 2)) 3)
