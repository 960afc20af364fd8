(import (scheme base) (scheme write) (scheme time))
; current-jiffy, jiffies-per-second and current-second: exact jiffies that
; do not go backwards, an exact positive rate, an inexact time after 2020.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(define j0 (current-jiffy))
(define (spin n) (if (> n 0) (spin (- n 1))))
(spin 10000)
(define j1 (current-jiffy))
(show (exact-integer? j0) (>= j1 j0) (exact-integer? (jiffies-per-second)) (> (jiffies-per-second) 0))
(show (inexact? (current-second)) (> (current-second) 1577836800.0))
(show (real? (/ (- j1 j0) (jiffies-per-second))))
