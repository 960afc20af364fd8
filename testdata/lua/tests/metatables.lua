-- setmetatable/getmetatable and metamethods
local V = {}
V.__index = V
local function vec(x, y) return setmetatable({x = x, y = y}, V) end
V.__add = function(a, b) return vec(a.x + b.x, a.y + b.y) end
V.__sub = function(a, b) return vec(a.x - b.x, a.y - b.y) end
V.__mul = function(a, b) if type(b) == "number" then return vec(a.x * b, a.y * b) end return a.x * b.x + a.y * b.y end
V.__unm = function(a) return vec(-a.x, -a.y) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__lt = function(a, b) return a.x < b.x end
V.__le = function(a, b) return a.x <= b.x end
V.__len = function(a) return 2 end
V.__concat = function(a, b) return tostring(a) .. "&" .. tostring(b) end
V.__tostring = function(a) return "(" .. a.x .. "," .. a.y .. ")" end
V.__call = function(self, k) return self.x * k end
function V:norm2() return self.x * self.x + self.y * self.y end
local a, b = vec(1, 2), vec(3, 4)
print(tostring(a + b), tostring(a - b), a * b, tostring(a * 2), tostring(-a))
print(a == vec(1, 2), a ~= b, a < b, a <= b, a > b, #a)
print(a .. b, a .. "s", "s" .. a)
print(a(10), a:norm2())
print(getmetatable(a) == V, getmetatable({}), getmetatable("x").__index == string)
local defaults = setmetatable({}, {__index = function(t, k) return k .. "!" end})
print(defaults.foo, defaults[1])
local log = {}
local proxy = setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v * 2); log[#log + 1] = k end})
proxy.a = 1; proxy.a = 5
print(proxy.a, #log)
local chain = setmetatable({}, {__index = setmetatable({mid = "m"}, {__index = {base = "b"}})})
print(chain.mid, chain.base, chain.none)
local ro = setmetatable({}, {__newindex = {}})
ro.x = 1
print(rawget(ro, "x"))
print(rawequal(a, vec(1, 2)), rawlen(a))
local Animal = {}
Animal.__index = Animal
function Animal.new(name) return setmetatable({name = name}, Animal) end
function Animal:speak() return self.name .. " makes a sound" end
local Dog = setmetatable({}, {__index = Animal})
Dog.__index = Dog
function Dog.new(name) local d = Animal.new(name); return setmetatable(d, Dog) end
function Dog:speak() return self.name .. " barks" end
print(Animal.new("cat"):speak(), Dog.new("rex"):speak())
local idiv = setmetatable({}, {__idiv = function() return "idiv" end, __mod = function() return "mod" end, __div = function() return "div" end, __pow = function() return "pow" end})
print(idiv // 1, idiv % 1, idiv / 1, idiv ^ 1)
print(print == print, tostring(print):sub(1, 9))
