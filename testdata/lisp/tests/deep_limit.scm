; Non-tail recursion up to the depth limit (4000000 procedure calls in
; progress) runs, interpreted and as an image alike, whatever the size of
; each level's frames: a plain recursion, and one with let*, let and cond
; between its calls.
(define (sum-to n) (if (= n 0) 0 (+ n (sum-to (- n 1)))))
(display (sum-to 3999999)) (newline)
(define (heavy n)
  (cond ((= n 0) 0)
        (else (let* ((a (- n 1)) (b (* a 1)))
                (let ((r (heavy b)))
                  (+ r 1))))))
(display (heavy 3999990)) (newline)
