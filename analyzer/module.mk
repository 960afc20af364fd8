# analyzer/: ELF, DWARF, decoding, CFG, loops, the sqlite store -> libanalyzer.a
AN_SRCS := $(wildcard analyzer/*.c)
AN_OBJS := $(AN_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/libanalyzer.a: $(AN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(BUILD)/libanalyzer.a
