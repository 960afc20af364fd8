-- if/elseif/else, while, repeat, numeric for, break, nested loops
local function classify(n)
  if n < 0 then return "negative"
  elseif n == 0 then return "zero"
  elseif n < 10 then return "small"
  else return "large" end
end
for _, n in ipairs({-5, 0, 3, 42}) do print(n, classify(n)) end
local i = 0
while true do
  i = i + 1
  if i > 5 then break end
end
print("while", i)
local j = 10
repeat local k = j; j = j - 3 until k < 3
print("repeat", j)
for k = 1, 3 do io.write(k, " ") end print()
for k = 10, 1, -3 do io.write(k, " ") end print()
for k = 1, 0 do print("never") end
for k = 1.0, 2.0, 0.5 do io.write(k, " ") end print()
for k = 1, 2.5 do io.write(k, " ") end print()
for k = math.maxinteger - 2, math.maxinteger do io.write(k, " ") end print()
for k = math.mininteger, math.mininteger + 2 do io.write(k, " ") end print()
for k = 3, 1, -1 do for m = 1, 3 do if m > k then break end io.write(k, m, ";") end end print()
local sum = 0
for k = 1, 100 do if k % 2 == 0 then sum = sum + k end end
print(sum)
local n = 0
while n < 3 do n = n + 1 local m = n * 2 if m == 4 then goto_skip = true end end
print(n, goto_skip)
print(pcall(function() for i = 1, 10, 0 do end end))
print(pcall(function() for i = "a", 10 do end end))
