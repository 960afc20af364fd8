; A call that ends a binding form, a sequence or a conditional arm gives its
; value to the enclosing expression whether or not the form is itself in
; tail position (the form's last expression is a tail call only when the
; form is).  Each form is tried at top level, as an operand (non-tail), as
; a non-last form of a body, and as the last form of a lambda body (tail).
(define (r a) (display a) (+ a 1))
(define (show tag v) (display " ") (display tag) (display "=") (display v) (newline))

; top level, value dropped: the call must still run
(let ((s 1)) (r s)) (newline)
(let* ((s 1) (t (+ s 1))) (r t)) (newline)
(letrec ((s 3)) (r s)) (newline)
(letrec* ((s 4) (t s)) (r t)) (newline)
(let () (r 5)) (newline)
(let ((s 6)) (define u (* s 2)) (r u)) (newline)
(begin (r 7)) (newline)
(when #t (r 8)) (newline)
(unless #f (r 9)) (newline)

; operands (non-tail): the value of the call is the form's value
(show 'let (let ((s 10)) (r s)))
(show 'let* (let* ((s 11) (t s)) (r t)))
(show 'letrec (letrec ((s 12)) (r s)))
(show 'letrec* (letrec* ((s 13) (t s)) (r t)))
(show 'let0 (let () (r 14)))
(show 'let-define (let () (define x 15) (r x)))
(show 'named-let (let lp ((i 0)) (if (< i 3) (lp (+ i 1)) (r i))))
(show 'named-let-proc (let lp ((i 0)) (if (< i 2) (+ 100 (lp (+ i 1))) (r i))))
(show 'begin (begin (r 16)))
(show 'when (when #t (r 17)))
(show 'unless (unless #f (r 18)))
(show 'if (if #t (r 19) 0))
(show 'cond (cond (#f 0) ((r 20) => (lambda (x) (r x)))))
(show 'cond-else (cond (#f 0) (else (r 21))))
(show 'cond-body (cond ((= 1 1) (r 22))))
(show 'cond-test-only (cond ((r 23)) (else 0)))
(show 'case (case 2 ((1) 0) ((2) (r 24)) (else 0)))
(show 'case-else (case 9 ((1) 0) (else (r 25))))
(show 'and (and #t (r 26)))
(show 'or (or #f (r 27)))
(show 'do (do ((i 0 (+ i 1))) ((= i 2) (r 28))))
(show 'lambda ((lambda (x) (r x)) 29))
(show 'apply (apply r '(30)))

; non-last forms of a body: the let's value is dropped, the call still runs
(define (seq-body)
  (let ((s 31)) (r s))
  (let* ((s 32)) (r s))
  (letrec ((s 33)) (r s))
  (letrec* ((s 34)) (r s))
  (let () (r 35))
  (let lp ((i 36)) (r i))
  (when #t (r 37))
  (cond (else (r 38)))
  (case 1 (else (r 39)))
  (and (r 40))
  (or (r 41))
  (do ((i 0 (+ i 1))) ((= i 1) (r 42)))
  'end)
(show 'seq-body (seq-body))

; nested: a non-tail let inside a tail let inside a loop
(define (nested n)
  (let loop ((i 0) (acc 0))
    (if (= i n)
        acc
        (let ((x (let ((y i)) (r y))))
          (loop (+ i 1) (+ acc x))))))
(show 'nested (nested 4))

; a self call at the end of a non-tail let inside the procedure is not a
; tail call: its result flows into the addition
(define (count-down n)
  (if (= n 0)
      0
      (+ 1 (let ((m (- n 1))) (count-down m)))))
(show 'count-down (count-down 5))
(define (count-loop n)
  (let lp ((k n))
    (if (= k 0)
        0
        (+ 1 (let ((m (- k 1))) (lp m))))))
(show 'count-loop (count-loop 5))

; tail position: the last form of a lambda body, through every form;
; deep enough that a non-tail call would overflow the stack
(define (t-let n) (if (= n 0) 'let (let ((m (- n 1))) (t-let m))))
(define (t-let* n) (if (= n 0) 'let* (let* ((m (- n 1))) (t-let* m))))
(define (t-letrec n) (if (= n 0) 'letrec (letrec ((m (- n 1))) (t-letrec m))))
(define (t-letrec* n) (if (= n 0) 'letrec* (letrec* ((m (- n 1))) (t-letrec* m))))
(define (t-let0 n) (if (= n 0) 'let0 (let () (define m (- n 1)) (t-let0 m))))
(define (t-begin n) (if (= n 0) 'begin (begin (t-begin (- n 1)))))
(define (t-when n) (if (= n 0) 'when (when #t (t-when (- n 1)))))
(define (t-unless n) (if (= n 0) 'unless (unless #f (t-unless (- n 1)))))
(define (t-cond n) (cond ((= n 0) 'cond) (else (t-cond (- n 1)))))
(define (t-case n) (case n ((0) 'case) (else (t-case (- n 1)))))
(define (t-and n) (and #t (if (= n 0) 'and (t-and (- n 1)))))
(define (t-or n) (or #f (if (= n 0) 'or (t-or (- n 1)))))
(define (t-named n) (let lp ((k n)) (if (= k 0) 'named (t-named-helper k))))
(define (t-named-helper k) (t-named (- k 1)))
(define (t-do n) (do ((i 0 (+ i 1))) ((= i 1) (if (= n 0) 'do (t-do (- n 1))))))
(define (t-mutual-a n) (if (= n 0) 'mutual (let ((m (- n 1))) (t-mutual-b m))))
(define (t-mutual-b n) (let* ((m n)) (t-mutual-a m)))
(define deep 300000)
(for-each (lambda (f) (display (f deep)) (display " "))
          (list t-let t-let* t-letrec t-letrec* t-let0 t-begin t-when t-unless
                t-cond t-case t-and t-or t-named t-do t-mutual-a))
(newline)
