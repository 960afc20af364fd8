;;; Prelude put in front of every benchmark program run by Chez Scheme.
;;; Chez provides at top level every R7RS-small procedure and syntax the
;;; programs use (when, unless, named let, exact->inexact, string->list,
;;; ...), so nothing needs defining here; a program that uses a name Chez
;;; lacks gets its definition here, not a variant of the program.
