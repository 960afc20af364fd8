print("ok")
local t = {}
t.method()
