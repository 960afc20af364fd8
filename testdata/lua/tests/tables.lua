-- tables: constructors, array and hash parts, #, next, pairs, ipairs, raw*
local t = {1, 2, 3, x = "x", ["y z"] = 5, [10] = 10}
print(#t, t.x, t["y z"], t[10], t[4])
t[4] = 4
print(#t)
t[#t + 1] = 5
print(#t, t[5])
local keys = {}
for k, v in pairs({a = 1, b = 2, c = 3}) do keys[#keys + 1] = k .. "=" .. v end
table.sort(keys)
print(table.concat(keys, ","))
for i, v in ipairs({"a", "b", nil, "d"}) do io.write(i, v, " ") end print()
local n = 0
for k, v in pairs({10, 20, 30, x = 1}) do n = n + 1 end
print(n)
print(next({}), next({7}))
local h = {}
for i = 1, 100 do h["k" .. i] = i end
local s = 0
for k, v in pairs(h) do s = s + v end
print(s)
for i = 1, 100, 2 do h["k" .. i] = nil end
s = 0
for k, v in pairs(h) do s = s + v end
print(s)
local r = {}
for i = 10, 1, -1 do r[i] = i * i end
print(#r, r[1], r[10])
local f = {}
f[1.0] = "one"; f[2] = "two"
print(f[1], f[2.0], #f)
print(rawget(t, "x"), rawlen(t), rawequal(t, t), rawequal(t, {}))
rawset(t, "w", 1)
print(t.w)
local nested = {a = {b = {c = "deep"}}}
print(nested.a.b.c)
local arr = {}
for i = 1, 5 do arr[i] = i end
for k in pairs(arr) do arr[k] = nil end
print(#arr, next(arr))
print(#"hello", #{n = 1})
local m = {[1] = "a", [2] = "b", [3] = "c"}
print(#m, m[3])
local tt = {}
tt[1] = 1; tt[2] = 2; tt[3] = 3; tt[3] = nil
print(#tt)
print(pcall(function() local q = {}; q[nil] = 1 end))
print(type(next), type({}), type(print))
