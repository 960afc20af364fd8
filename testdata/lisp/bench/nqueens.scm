;;; nqueens: count the placements of n queens by backtracking, repeated.
;;; Measures recursion, vector-ref/vector-set! on boolean vectors (columns
;;; and both diagonals), and short-circuit `or`.
(define (free? cols d1 d2 n row c)
  (not (or (vector-ref cols c)
           (vector-ref d1 (+ row c))
           (vector-ref d2 (+ (- row c) n)))))

(define (mark! cols d1 d2 n row c v)
  (vector-set! cols c v)
  (vector-set! d1 (+ row c) v)
  (vector-set! d2 (+ (- row c) n) v))

(define (place cols d1 d2 n row)
  (if (= row n)
      1
      (let loop ((c 0) (count 0))
        (cond ((= c n) count)
              ((free? cols d1 d2 n row c)
               (mark! cols d1 d2 n row c #t)
               (let ((k (place cols d1 d2 n (+ row 1))))
                 (mark! cols d1 d2 n row c #f)
                 (loop (+ c 1) (+ count k))))
              (else (loop (+ c 1) count))))))

(define (queens n)
  (place (make-vector n #f) (make-vector (* 2 n) #f) (make-vector (* 2 n) #f)
         n 0))

(define (repeat-queens k acc)
  (if (= k 0)
      acc
      (repeat-queens (- k 1) (+ acc (queens 12)))))

(display (repeat-queens 2 0))
(newline)
