(define s "abc")
(string-set! s 0 #\x)
