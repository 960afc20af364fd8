-- locals, globals, multiple assignment, scoping, shadowing
local a, b, c = 1, 2
print(a, b, c)
x, y = 10, 20
print(x, y)
x, y = y, x
print(x, y)
local t = {}
local i = 1
i, t[i] = i + 1, 20
print(i, t[1], t[2])
local a = a + 100
print(a)
do local a = "inner"; print(a) end
print(a)
local function f() return 1, 2, 3 end
local p, q, r, s = f()
print(p, q, r, s)
local u, v = f(), 10
print(u, v)
local w = (f())
print(w)
g1, g2, g3 = f()
print(g1, g2, g3)
print(undefined_global)
local n = nil
print(n == nil, not n)
local big = {f()}
print(#big)
local z <const> = 5
print(z)
