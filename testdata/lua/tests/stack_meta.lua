-- recursion through metamethods and library calls is a stack overflow error
local t = setmetatable({}, {__index = function(t, k) return t[k] end})
print((pcall(function() return t.x end)))
local function deep(n) return deep(n + 1) + 1 end
print((pcall(deep, 1)))
local s = setmetatable({}, {__tostring = function(x) return tostring(x) end})
print((pcall(tostring, s)))
print("after")
