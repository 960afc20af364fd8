# snapshot/runtime/: what interpreters link (libc only) -> liblineiform-rt.a
RT_SRCS := $(wildcard snapshot/runtime/*.c)
RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/liblineiform-rt.a: $(RT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(BUILD)/liblineiform-rt.a
INSTALL_LIBS += $(BUILD)/liblineiform-rt.a
