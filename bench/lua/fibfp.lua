-- fibfp: doubly recursive Fibonacci on floats.
-- Same algorithm and size as testdata/lisp/bench/fibfp.scm.
local function fibfp(n)
  if n < 2.0 then return n end
  return fibfp(n - 1.0) + fibfp(n - 2.0)
end

io.write(string.format("%.1f\n", fibfp(36.0)))
