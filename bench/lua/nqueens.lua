-- nqueens: count the placements of n queens by backtracking on boolean
-- arrays (columns and both diagonals).
-- Same algorithm and size as testdata/lisp/bench/nqueens.scm; Scheme's
-- 0-based vector index i is Lua's index i + 1.
local function free(cols, d1, d2, n, row, c)
  return not (cols[c + 1] or d1[row + c + 1] or d2[row - c + n + 1])
end

local function mark(cols, d1, d2, n, row, c, v)
  cols[c + 1] = v
  d1[row + c + 1] = v
  d2[row - c + n + 1] = v
end

local function place(cols, d1, d2, n, row)
  if row == n then return 1 end
  local count = 0
  for c = 0, n - 1 do
    if free(cols, d1, d2, n, row, c) then
      mark(cols, d1, d2, n, row, c, true)
      count = count + place(cols, d1, d2, n, row + 1)
      mark(cols, d1, d2, n, row, c, false)
    end
  end
  return count
end

local function filled(len, v)
  local t = {}
  for i = 1, len do t[i] = v end
  return t
end

local function queens(n)
  return place(filled(n, false), filled(2 * n, false), filled(2 * n, false), n, 0)
end

local acc = 0
for _ = 1, 2 do acc = acc + queens(12) end
io.write(string.format("%d\n", acc))
