(import (scheme base) (scheme write) (scheme read) (scheme file) (scheme time))
; File ports: call-with-output-file, with-output-to-file, open-output-file,
; then reading back with call-with-input-file, with-input-from-file,
; open-input-file (read, read-line, read-char, peek-char); file-exists?,
; delete-file; opening a missing file is a file error.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(define name (string-append "/tmp/lisp-file-ports-" (number->string (current-jiffy)) ".txt"))
(show (file-exists? name))
(call-with-output-file name
  (lambda (p) (write '(data 1 "two" #\3) p) (newline p) (display "second line" p) (newline p)))
(show (file-exists? name))
(show (call-with-input-file name (lambda (p) (let* ((a (read p)) (b (read-char p)) (c (read-line p))) (list a b c)))))
(show (with-input-from-file name (lambda () (read-line) (read-line))))
(with-output-to-file name (lambda () (display "replaced") (newline) (write 42)))
(define p (open-input-file name))
(show (peek-char p) (read-line p) (read p) (eof-object? (read p)))
(close-input-port p)
(define o (open-output-file name))
(write-string "via open-output-file" o)
(close-output-port o)
(show (call-with-input-file name read-line))
(delete-file name)
(show (file-exists? name))
(show (guard (e ((file-error? e) 'file-error)) (open-input-file name)))
(show (guard (e ((file-error? e) 'file-error)) (delete-file name)))
