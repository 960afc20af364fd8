-- fib: doubly recursive Fibonacci on integers.
-- Same algorithm and size as testdata/lisp/bench/fib.scm.  Lua 5.1 syntax
-- (runs on lua5.4 and luajit).
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

io.write(string.format("%d\n", fib(36)))
