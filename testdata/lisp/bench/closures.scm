;;; closures: higher-order procedures and closures created in a loop.
;;; Measures closure creation, calls through closures (compose, twice, a
;;; list of procedures folded over a value), and a counter closure that
;;; mutates its captured variable with set!.
(define (make-adder k) (lambda (x) (+ x k)))
(define (make-scaler k m) (lambda (x) (remainder (* x k) m)))
(define (compose f g) (lambda (x) (f (g x))))
(define (twice f) (compose f f))

(define (make-counter)
  (let ((n 0))
    (lambda () (set! n (+ n 1)) n)))

(define (apply-all fs x)
  (if (null? fs)
      x
      (apply-all (cdr fs) ((car fs) x))))

(define (closure-round i)
  (let* ((count (make-counter))
         (fs (list (make-adder i)
                   (twice (make-adder 1))
                   (make-scaler 7 10007)
                   (compose (make-adder 3) (make-adder -3))
                   (lambda (x) (count) (+ x (count))))))
    (for-each (lambda (f) (count)) fs)
    (+ (apply-all fs i) (count))))

(define (repeat-closures n)
  (let loop ((i 0) (acc 0))
    (if (= i n)
        acc
        (loop (+ i 1) (remainder (+ acc (closure-round i)) 1000003)))))

(display (repeat-closures 600000))
(newline)
