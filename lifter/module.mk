# lifter/: x86-64 -> LLVM IR, partial evaluation, code generation -> liblifter.a
# liblineiform.a = runtime + lifter + analyzer (what lf_optimize needs in-process).
CFLAGS_lifter := $(LLVM_CFLAGS)
LIFT_SRCS := $(wildcard lifter/*.c lifter/*/*.c)
LIFT_OBJS := $(LIFT_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/liblifter.a: $(LIFT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/liblineiform.a: $(RT_OBJS) $(LIFT_OBJS) $(AN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(BUILD)/liblifter.a $(BUILD)/liblineiform.a
INSTALL_LIBS += $(BUILD)/liblineiform.a
