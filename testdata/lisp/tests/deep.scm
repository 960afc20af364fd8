; Deep non-tail recursion: 100000 (and 1000000) frames deep.
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(display (length (build 100000))) (newline)
(define (sum-to n) (if (= n 0) 0 (+ n (sum-to (- n 1)))))
(display (sum-to 1000000)) (newline)
(define (my-map f l) (if (null? l) '() (cons (f (car l)) (my-map f (cdr l)))))
(display (apply + (my-map (lambda (x) (* 2 x)) (build 100000)))) (newline)
(define nested (let loop ((i 0) (acc '())) (if (= i 100000) acc (loop (+ i 1) (list acc)))))
(display (equal? nested nested)) (newline)
