(display #\bogus)
