# analyzer/: ELF, DWARF, decoding, CFG, loops, the sqlite store -> libanalyzer.a
AN_SRCS := $(wildcard analyzer/*.c)
AN_OBJS := $(AN_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/libanalyzer.a: $(AN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(BUILD)/libanalyzer.a

# `make fuzz`: the libFuzzer target tests/fuzz/fuzz_elf.c over the analyzer
# sources, built with clang + ASan/UBSan into build-fuzz/, seeded with the
# test fixture built by gcc and clang (plain and stripped); runs FUZZ_SECONDS
# and keeps going after a crash (findings in build-fuzz/findings/).  DWARF is
# read in-process here, so libdwarf's own crashes show up as findings too.
FUZZ_SECONDS ?= 300
FUZZ_DIR := build-fuzz
.PHONY: fuzz
$(FUZZ_DIR)/fuzz_elf: tests/fuzz/fuzz_elf.c $(AN_SRCS) $(wildcard analyzer/*.h) analyzer/x86_forms.def
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I. \
	  tests/fuzz/fuzz_elf.c $(AN_SRCS) -o $@ $(DEP_LIBS)
fuzz: $(FUZZ_DIR)/fuzz_elf
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/findings
	@for cc in gcc clang; do $$cc -O2 -g -o $(FUZZ_DIR)/corpus/fx_$$cc testdata/analyzer/fixture.c && \
	  strip -o $(FUZZ_DIR)/corpus/fx_$$cc.stripped $(FUZZ_DIR)/corpus/fx_$$cc; done
	$(FUZZ_DIR)/fuzz_elf -fork=1 -ignore_crashes=1 -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	  -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_DIR)/findings/ $(FUZZ_DIR)/corpus
