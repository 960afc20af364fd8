# snapshot/: image writer, heap-dump and image readers used by the CLI -> libsnapshot.a
SNAP_SRCS := $(wildcard snapshot/*.c)
SNAP_OBJS := $(SNAP_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/libsnapshot.a: $(SNAP_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(BUILD)/libsnapshot.a
