; R7RS extras: member/assoc with a predicate, list-set!, boolean=?,
; vector-map, vector-for-each, string-for-each, write-string.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(show (member 2.0 '(1 2 3) =) (assoc 2.0 '((1 . a) (2 . b)) =) (member 5 '(1 2) =))
(define l (list 1 2 3))
(list-set! l 1 'x)
(show l (boolean=? #t #t) (boolean=? #t #f))
(show (vector-map + #(1 2 3) #(10 20)) (vector-map (lambda (x) (* x x)) #(1 2 3)))
(vector-for-each (lambda (x) (display x)) #(a b c)) (newline)
(string-for-each (lambda (c) (write c)) "hi") (newline)
(write-string "written") (newline)
