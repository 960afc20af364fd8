; Allocation-heavy: builds and drops millions of lists; runs in bounded
; memory only if the collector reclaims them.
(define (make-list-of n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (cons i acc)))))
(define (churn rounds total)
  (if (= rounds 0)
      total
      (churn (- rounds 1) (+ total (length (make-list-of 10000))))))
(display (churn 2000 0)) (newline)
(define (strings n acc)
  (if (= n 0) (string-length acc)
      (let ((s (string-append acc "xy"))) (strings (- n 1) (substring s 0 (min 10 (string-length s)))))))
(display (strings 1000000 "")) (newline)
(define (vectors n) (if (= n 0) 'done (begin (make-vector 1000 n) (vectors (- n 1)))))
(display (vectors 20000)) (newline)
(define (floats n x) (if (= n 0) x (floats (- n 1) (+ x 0.5))))
(display (floats 3000000 0.0)) (newline)
