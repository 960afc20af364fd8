-- lists: build, map, reverse, filter and append linked lists, repeated.
-- Same algorithm and size as testdata/lisp/bench/lists.scm: a pair is a
-- two-slot table {car, cdr}, the empty list is nil.
local function cons(a, d) return { a, d } end

local function make_range(n)
  local acc = nil
  for i = n - 1, 0, -1 do acc = cons(i, acc) end
  return acc
end

local function map(f, l)
  if l == nil then return nil end
  return cons(f(l[1]), map(f, l[2]))
end

local function reverse(l)
  local acc = nil
  while l ~= nil do acc = cons(l[1], acc); l = l[2] end
  return acc
end

local function append(a, b)
  if a == nil then return b end
  return cons(a[1], append(a[2], b))
end

local function length(l)
  local n = 0
  while l ~= nil do n = n + 1; l = l[2] end
  return n
end

local function keep_odd(l)
  if l == nil then return nil end
  if l[1] % 2 == 1 then return cons(l[1], keep_odd(l[2])) end
  return keep_odd(l[2])
end

local function sum_list(l)
  local s = 0
  while l ~= nil do s = s + l[1]; l = l[2] end
  return s
end

local function list_round(n)
  local a = make_range(n)
  local b = map(function(x) return x * 3 end, a)
  local c = reverse(b)
  local d = keep_odd(c)
  local e = append(d, a)
  return length(e) + sum_list(e) % 1000
end

local acc = 0
for _ = 1, 2000 do acc = acc + list_round(1000) end
io.write(string.format("%d\n", acc))
