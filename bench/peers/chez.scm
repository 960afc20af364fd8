;;; Prelude put in front of every benchmark program run by Chez Scheme.
;;; Chez is R6RS with the R7RS-small procedures the programs use (when,
;;; unless, exact->inexact, string ports aside), so nothing needs defining
;;; here; a program that uses a name Chez lacks gets its definition here,
;;; not a variant of the program.
