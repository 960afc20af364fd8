local s = "abc"
local u = s.x.y
