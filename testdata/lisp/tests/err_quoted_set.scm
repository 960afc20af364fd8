(define l '(1 2))
(set-car! l 9)
