; A handler that returns from a non-continuable raise is an error.
(display "before") (newline)
(with-exception-handler (lambda (e) 'ignored) (lambda () (raise 'boom)))
(display "not reached")
