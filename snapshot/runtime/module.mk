# snapshot/runtime/: what interpreters link (libc only) -> liblineiform-rt.a
# rt_image_none.c is the image-loader default, used only while rt_image.c is absent.
RT_SRCS := $(wildcard snapshot/runtime/*.c)
ifneq ($(wildcard snapshot/runtime/rt_image.c),)
RT_SRCS := $(filter-out snapshot/runtime/rt_image_none.c,$(RT_SRCS))
endif
RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/liblineiform-rt.a: $(RT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(BUILD)/liblineiform-rt.a
INSTALL_LIBS += $(BUILD)/liblineiform-rt.a
