(import (scheme base) (scheme write) (scheme read))
; read, read-line and read-char from standard input (read_stdin.in), as the
; r7rs-benchmarks harness reads its parameters.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(define count (read))
(define input (read))
(define label (read))
(show count input label)
(show (read-char) (read-line))
(show (read-line))
(show (read (current-input-port)))
(show (eof-object? (read)) (eof-object? (read-char)) (eof-object? (read-line)))
