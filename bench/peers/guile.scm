;;; Prelude put in front of every benchmark program run by Guile 3.
;;; The programs use only R7RS-small procedures that Guile 3 provides at
;;; top level, so nothing needs defining here; a program that uses a name
;;; Guile lacks gets its definition here, not a variant of the program.
