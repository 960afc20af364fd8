-- strings: length, concatenation, escapes, library
local s = "Hello, World"
print(#s, s:len(), string.len(s))
print(s:sub(1, 5), s:sub(-5), s:sub(8), s:sub(0), s:sub(5, 2), s:sub(-100, 3))
print(s:upper(), s:lower(), s:reverse())
print(s:byte(1), s:byte(-1), s:byte(1, 3))
print(string.char(72, 101, 108, 108, 111))
print(("ab"):rep(3), ("ab"):rep(3, "-"), ("x"):rep(0))
print(s:find("World"), s:find("o", 6), s:find("xyz"), s:find(", ", 1, true))
print("a" .. "b" .. 1 .. 2.0)
print("tab\tnew\\line \"q\" \65\066 \x41 \u{48}\u{49} \z
      continued")
print([[long
string]], [==[with ]] inside]==])
print(#"\0abc", ("\0x"):byte(1))
local parts = {}
for i = 1, 5 do parts[#parts + 1] = tostring(i) end
print(table.concat(parts), table.concat(parts, ", "), table.concat(parts, "-", 2, 4))
print(tostring(nil), tostring(true), tostring(false))
print(("x"):upper(), ("%d"):format(5))
print("abc" == "abc", "abc" == "abd", "a" .. "bc" == "abc")
local t = {}
t["key" .. 1] = "v"
print(t.key1)
print(string.format("[%s]", ""), #"")
print(("hello world"):find("o w"))
