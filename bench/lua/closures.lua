-- closures: higher-order functions and closures created in a loop.
-- Same algorithm and size as testdata/lisp/bench/closures.scm.
local function make_adder(k) return function(x) return x + k end end
local function make_scaler(k, m) return function(x) return (x * k) % m end end
local function compose(f, g) return function(x) return f(g(x)) end end
local function twice(f) return compose(f, f) end

local function make_counter()
  local n = 0
  return function() n = n + 1; return n end
end

local function apply_all(fs, x)
  for i = 1, #fs do x = fs[i](x) end
  return x
end

local function closure_round(i)
  local count = make_counter()
  local fs = { make_adder(i),
               twice(make_adder(1)),
               make_scaler(7, 10007),
               compose(make_adder(3), make_adder(-3)),
               function(x) count(); return x + count() end }
  for j = 1, #fs do local _ = fs[j]; count() end
  return apply_all(fs, i) + count()
end

local acc = 0
for i = 0, 600000 - 1 do acc = (acc + closure_round(i)) % 1000003 end
io.write(string.format("%d\n", acc))
