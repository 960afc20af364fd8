# testdata/lua/: a closure-compiling Lua 5.4 subset -> build/bin/lua.  It
# links only the runtime library (as an interpreter outside this repository
# would) and Boehm GC.  Built without sanitizers (its machine code is what
# gets lifted), so under SAN=1 it is not built.
LUA_SRCS := $(wildcard testdata/lua/*.c)
LUA_OBJS := $(LUA_SRCS:%.c=$(BUILD)/obj/%.o)
LUA_CFLAGS := -std=gnu11 -O2 -g $(WARN) -MMD -MP -Iinclude
$(BUILD)/obj/testdata/lua/%.o: testdata/lua/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LUA_CFLAGS) -c $< -o $@
$(BUILD)/bin/lua: $(LUA_OBJS) $(BUILD)/liblineiform-rt.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(LUA_OBJS) $(BUILD)/liblineiform-rt.a -lgc -lm
ifneq ($(LUA_SRCS),)
ifneq ($(SAN),1)
ALL_TARGETS += $(BUILD)/bin/lua
INSTALL_BINS += $(BUILD)/bin/lua
endif
endif
