-- ack: the Ackermann function, repeated.
-- Same algorithm and size as testdata/lisp/bench/ack.scm.
local function ack(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ack(m - 1, 1) end
  return ack(m - 1, ack(m, n - 1))
end

local acc = 0
for _ = 1, 6 do acc = acc + ack(3, 9) end
io.write(string.format("%d\n", acc))
