(lambda (a a) a)
