(import (scheme base) (scheme read) (scheme write) (scheme time))
; The shape of an r7rs-benchmarks program and its harness: parameters read
; from standard input (harness.in), the work hidden behind
; call-with-values so it cannot be folded, timed with current-jiffy and
; current-second, output flushed on the current output port, the result
; checked.  Times vary, so only their kind is printed.
(define (run-benchmark name count thunk ok?)
  (define (rounded x) (/ (round (* 100 x)) 100))
  (display "Running ") (display name) (newline)
  (flush-output-port (current-output-port))
  (let* ((j/s (jiffies-per-second)) (t0 (current-second)) (j0 (current-jiffy)))
    (let loop ((i 0) (result #f))
      (cond ((< i count) (loop (+ i 1) (thunk)))
            ((ok? result)
             (let* ((j1 (current-jiffy)) (t1 (current-second))
                    (secs (inexact (/ (- j1 j0) j/s))) (secs2 (rounded (- t1 t0))))
               (display "Elapsed time is a ")
               (display (if (and (real? secs) (>= secs 0) (real? secs2)) "number" "surprise"))
               (display " for ") (display name) (newline)
               (flush-output-port (current-output-port))
               result))
            (else
             (display "ERROR: returned incorrect result: ") (write result) (newline)
             (flush-output-port (current-output-port))
             (exit 1))))))
(define (hide r x)
  (call-with-values
      (lambda () (values (vector values (lambda (x) x)) (if (< r 100) 0 1)))
    (lambda (v i) ((vector-ref v i) x))))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (main)
  (let* ((count (read)) (input1 (read)) (output (read))
         (s2 (number->string count)) (s1 (number->string input1))
         (name "fib"))
    (run-benchmark (string-append name ":" s1 ":" s2) count
                   (lambda () (fib (hide count input1)))
                   (lambda (result) (= result output)))))
(write (main))
(newline)
