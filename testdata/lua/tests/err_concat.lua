local s = "a" .. {}
