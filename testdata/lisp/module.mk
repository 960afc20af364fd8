# testdata/lisp/: the reference closure-generating Scheme interpreter -> build/bin/lisp
# Built without sanitizers even in SAN=1 builds (its machine code is what gets
# lifted), so under SAN=1 it is not built; ASan-built tests use build/bin/lisp.
LISP_SRCS := $(wildcard testdata/lisp/*.c)
LISP_OBJS := $(LISP_SRCS:%.c=$(BUILD)/obj/%.o)
LISP_CFLAGS := -std=gnu11 -O2 -g $(WARN) -MMD -MP -Iinclude
$(BUILD)/obj/testdata/lisp/%.o: testdata/lisp/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LISP_CFLAGS) -c $< -o $@
$(BUILD)/bin/lisp: $(LISP_OBJS) $(BUILD)/liblineiform-rt.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(LISP_OBJS) $(BUILD)/liblineiform-rt.a -lgc -lm
ifneq ($(LISP_SRCS),)
ifneq ($(SAN),1)
ALL_TARGETS += $(BUILD)/bin/lisp
INSTALL_BINS += $(BUILD)/bin/lisp
endif
endif
# `make fuzz-lisp FUZZ_SECONDS=60`: fuzz the reader and compiler (fuzz.py).
.PHONY: fuzz-lisp
fuzz-lisp: $(BUILD)/bin/lisp
	python3 testdata/lisp/fuzz/fuzz.py --lisp $(BUILD)/bin/lisp --seconds $(or $(FUZZ_SECONDS),60)
