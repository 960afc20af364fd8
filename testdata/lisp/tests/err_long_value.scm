; A bad value too long to show is cut after 200 bytes.
(define l (let loop ((i 0) (a (quote ()))) (if (= i 1000) a (loop (+ i 1) (cons i a)))))(car (vector l))
