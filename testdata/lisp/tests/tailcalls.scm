; Proper tail calls: every loop below would overflow any C stack if a tail
; call took stack space.
(define (count-up n) (let loop ((i 0)) (if (= i n) i (loop (+ i 1)))))
(display (count-up 10000000)) (newline)
(define (my-even? n) (if (= n 0) #t (my-odd? (- n 1))))
(define (my-odd? n) (if (= n 0) #f (my-even? (- n 1))))
(display (list (my-even? 1000000) (my-odd? 1000001) (my-even? 7))) (newline)
(define (self-loop n acc) (if (= n 0) acc (self-loop (- n 1) (+ acc 1))))
(display (self-loop 5000000 0)) (newline)
; tail calls through closures and variables
(define (make-looper)
  (define (ping n) (if (= n 0) 'ping-done (pong (- n 1))))
  (define (pong n) (if (= n 0) 'pong-done (ping (- n 1))))
  ping)
(display ((make-looper) 1000001)) (newline)
; a tail call in cond, and, or, when, case, do bodies
(define (via-cond n) (cond ((= n 0) 'cond-ok) (else (via-and (- n 1)))))
(define (via-and n) (and #t (via-or n)))
(define (via-or n) (or #f (via-when n)))
(define (via-when n) (if (= n 0) 'when-ok (when #t (via-case n))))
(define (via-case n) (case (remainder n 2) ((0 1) (via-cond n))))
(display (via-cond 1000000)) (newline)
; apply in tail position
(define (apply-loop n) (if (= n 0) 'apply-ok (apply apply-loop (list (- n 1)))))
(display (apply-loop 100000)) (newline)
; a loop whose closures capture a fresh variable each iteration
(define procs
  (let loop ((i 0) (acc '()))
    (if (= i 3) acc (loop (+ i 1) (cons (lambda () i) acc)))))
(display (map (lambda (p) (p)) procs)) (newline)
(define (capture-each n acc)
  (if (= n 0) (map (lambda (p) (p)) acc) (capture-each (- n 1) (cons (lambda () n) acc))))
(display (capture-each 3 '())) (newline)
(display (do ((i 0 (+ i 1)) (fs '() (cons (lambda () i) fs))) ((= i 3) (map (lambda (f) (f)) fs)))) (newline)
