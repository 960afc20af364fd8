local function f(n)
  if n == 0 then error("boom at bottom") end
  return f(n - 1)
end
io.write("partial ")
f(3)
