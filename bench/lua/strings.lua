-- strings: number->string, concatenation, substrings, string <-> character
-- list, character access and string equality in a loop.
-- Same algorithm and size as testdata/lisp/bench/strings.scm: a character
-- list is an array of one-character strings.
local function reverse_string(s)
  local chars = {}
  local n = #s
  for i = 1, n do chars[i] = s:sub(i, i) end
  local rev = {}
  for i = 1, n do rev[i] = chars[n + 1 - i] end
  return table.concat(rev)
end

local function count_char(c, s)
  local n = 0
  for i = 1, #s do
    if s:byte(i) == c then n = n + 1 end
  end
  return n
end

local function string_round(i)
  local a = string.format("%d", i)
  local r = reverse_string(a)
  local b = a .. ":" .. r .. ":" .. a
  local c = b:sub(2)
  local d = c .. c
  return count_char(55, d) + #d + (r == a and 1 or 0)
end

local acc = 0
for i = 0, 300000 - 1 do acc = acc + string_round(i) end
io.write(string.format("%d\n", acc))
