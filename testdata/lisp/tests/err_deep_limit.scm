; A recursion 10^7 calls deep stops at the depth limit (4000000) with the
; same message and status interpreted and as an image, although compiled
; frames are smaller than the interpreter's.
(define (sum-to n) (if (= n 0) 0 (+ n (sum-to (- n 1)))))
(display "start") (newline)
(display (sum-to 10000000)) (newline)
