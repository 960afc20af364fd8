;;; strings: number->string, string-append, substring, string->list,
;;; list->string, string-ref and string=? in a loop.
;;; Measures string allocation and copying and character access.
(define (reverse-string s)
  (list->string (reverse (string->list s))))

(define (count-char c s)
  (let loop ((i 0) (n 0))
    (if (= i (string-length s))
        n
        (loop (+ i 1) (if (char=? (string-ref s i) c) (+ n 1) n)))))

(define (string-round i)
  (let* ((a (number->string i))
         (r (reverse-string a))
         (b (string-append a ":" r ":" a))
         (c (substring b 1 (string-length b)))
         (d (string-append c c)))
    (+ (count-char #\7 d)
       (string-length d)
       (if (string=? r a) 1 0))))

(define (repeat-strings n)
  (let loop ((i 0) (acc 0))
    (if (= i n)
        acc
        (loop (+ i 1) (+ acc (string-round i))))))

(display (repeat-strings 300000))
(newline)
