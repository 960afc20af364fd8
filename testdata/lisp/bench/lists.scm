;;; lists: build, map, reverse, filter and append lists, repeated.
;;; Measures pair allocation and garbage collection, car/cdr, the map,
;;; reverse, append and length builtins and a non-tail recursive filter.
(define (make-range n)
  (let loop ((i (- n 1)) (acc '()))
    (if (< i 0)
        acc
        (loop (- i 1) (cons i acc)))))

(define (keep-odd l)
  (cond ((null? l) '())
        ((odd? (car l)) (cons (car l) (keep-odd (cdr l))))
        (else (keep-odd (cdr l)))))

(define (sum-list l)
  (let loop ((l l) (s 0))
    (if (null? l)
        s
        (loop (cdr l) (+ s (car l))))))

(define (list-round n)
  (let* ((a (make-range n))
         (b (map (lambda (x) (* x 3)) a))
         (c (reverse b))
         (d (keep-odd c))
         (e (append d a)))
    (+ (length e) (remainder (sum-list e) 1000))))

(define (repeat-lists k acc)
  (if (= k 0)
      acc
      (repeat-lists (- k 1) (+ acc (list-round 1000)))))

(display (repeat-lists 2000 0))
(newline)
