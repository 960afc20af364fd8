(display "partial output")
(error "something failed:" 42 'sym "str")
