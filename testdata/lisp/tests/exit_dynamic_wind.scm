(import (scheme base) (scheme write) (scheme process-context))
; exit runs the after thunks of the dynamic-winds it leaves, innermost
; first, then ends the program with the status asked for.
(dynamic-wind
  (lambda () (display "in1 "))
  (lambda ()
    (dynamic-wind
      (lambda () (display "in2 "))
      (lambda () (exit 7))
      (lambda () (display "out2 "))))
  (lambda () (display "out1") (newline)))
(display "not reached")
