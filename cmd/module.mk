# cmd/: the lineiform program
CFLAGS_cmd := $(LLVM_CFLAGS)
CLI_SRCS := $(wildcard cmd/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/lineiform: $(CLI_OBJS) $(BUILD)/libsnapshot.a $(BUILD)/liblifter.a $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a
	$(CC) $(LDFLAGS_BASE) -o $@ $(CLI_OBJS) $(BUILD)/libsnapshot.a $(BUILD)/liblifter.a \
	  $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a $(LLVM_LIBS) $(DEP_LIBS)
ALL_TARGETS += $(BUILD)/lineiform
