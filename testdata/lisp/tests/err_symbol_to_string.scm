(display (symbol->string "s"))
