; Continuations are escape-only: calling one after the call/cc that made it
; has returned is a clear error, never a jump into a dead frame.
(define saved #f)
(display (+ 1 (call/cc (lambda (k) (set! saved k) 1))))
(newline)
(saved 10)
(display "not reached")
