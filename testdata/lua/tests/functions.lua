-- functions, closures, upvalues, recursion, varargs, select, method calls
local function counter()
  local n = 0
  return function() n = n + 1; return n end, function() return n end
end
local inc, get = counter()
inc(); inc()
print(get())
local fs = {}
for i = 1, 3 do fs[i] = function() return i end end
print(fs[1](), fs[2](), fs[3]())
local gs = {}
local j = 0
while j < 3 do j = j + 1; local k = j; gs[j] = function() k = k + 10; return k end end
print(gs[1](), gs[1](), gs[2]())
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
print(fact(20))
local function va(...)
  local a, b = ...
  return select('#', ...), a, b, ...
end
print(va())
print(va(1, nil, 3))
print(select(2, "a", "b", "c"))
print(select(-1, "a", "b", "c"))
local function pack(...) return {...} end
print(#pack(1, 2, 3, 4))
local obj = {name = "obj"}
function obj:greet(g) return g .. ", " .. self.name end
print(obj:greet("hello"))
function obj.static(x) return x * 2 end
print(obj.static(21))
local function multi() return 1, 2 end
print(multi(), multi())
print((multi()))
local t = {multi(), multi()}
print(#t)
function globalf(a, b) return a + b end
print(globalf(2, 3))
local function deep(n) if n == 0 then return 0 end return 1 + deep(n - 1) end
print(deep(10000))
local function tail(n, acc) if n == 0 then return acc end return tail(n - 1, acc + n) end
print(tail(1000, 0))
local compose = function(f, g) return function(...) return f(g(...)) end end
print(compose(function(x) return x + 1 end, function(x, y) return x * y end)(3, 4))
local a = {}
a.b = {c = function(self, x) return x end}
print(a.b:c(7))
print(string.format("%s", "method on string"):upper())
local function three(a, b, c) return a, b, c end
local function two() return 1, 2 end
local function none() end
print(three(0, two()))
print(three(two(), two()))
print(three(none()))
print(three(0, 0, 0, two()))
print(three(9, none()))
local function self_multi(n, ...) if n == 0 then return select("#", ...) end return self_multi(n - 1, two()) end
print(self_multi(3))
