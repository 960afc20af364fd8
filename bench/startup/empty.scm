;;; empty: a program that does nothing; its run time is each column's
;;; start-up cost (process start, loading, for images mapping the image).
