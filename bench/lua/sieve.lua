-- sieve: the sieve of Eratosthenes on an array, repeated.
-- Same algorithm and size as testdata/lisp/bench/sieve.scm.
local function sieve(n)
  local v = {}
  for i = 1, n + 1 do v[i] = true end
  local count = 0
  for i = 2, n do
    if v[i + 1] then
      for j = i * i, n, i do v[j + 1] = false end
      count = count + 1
    end
  end
  return count
end

local acc = 0
for _ = 1, 25 do acc = acc + sieve(1000000) end
io.write(string.format("%d\n", acc))
