-- fixloop: a tight integer loop (a polynomial hash of 0..n-1).
-- Same algorithm and size as testdata/lisp/bench/fixloop.scm; every value
-- stays below 2^53, so LuaJIT's doubles compute it exactly.
local function hash_range(n)
  local acc = 0
  for i = 0, n - 1 do acc = (acc * 31 + i) % 1000003 end
  return acc
end

io.write(string.format("%d\n", hash_range(100000000)))
