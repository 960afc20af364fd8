(set! nowhere 1)
