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

# make fuzz-lift FUZZ_SECONDS=60: tests/fuzz/fuzz_lift.c, random frozen
# closure trees specialized with lf_optimize and compared with the closures.
# The lifter, analyzer and runtime are built again with clang, libFuzzer
# coverage, ASan and UBSan into $(BUILD)/fuzz/lift/; the closure kinds
# (fuzz_lift_nodes.c) stay plain -O2 code, as an interpreter's would be.
# Mismatches and crashes land in $(BUILD)/fuzz/lift-findings/.
FUZZ_LIFT := $(BUILD)/fuzz/lift
FUZZ_LIFT_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
.PHONY: fuzz-lift $(FUZZ_LIFT)/liblineiform.a
$(FUZZ_LIFT)/liblineiform.a:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_LIFT) CC=$(FUZZ_CC) SANFLAGS='$(FUZZ_LIFT_SAN)' OPT=-O1 $@
$(FUZZ_LIFT)/fuzz_lift: tests/fuzz/fuzz_lift.c tests/fuzz/fuzz_lift_nodes.c tests/fuzz/fuzz_lift.h $(FUZZ_LIFT)/liblineiform.a
	$(FUZZ_CC) -std=gnu11 -g -O2 -Iinclude -I. -c tests/fuzz/fuzz_lift_nodes.c -o $(FUZZ_LIFT)/fuzz_lift_nodes.o
	$(FUZZ_CC) -std=gnu11 -g -O1 -Iinclude -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -o $@ tests/fuzz/fuzz_lift.c $(FUZZ_LIFT)/fuzz_lift_nodes.o $(FUZZ_LIFT)/liblineiform.a $(LLVM_LIBS) $(DEP_LIBS)
fuzz-lift: $(FUZZ_LIFT)/fuzz_lift
	@mkdir -p $(FUZZ_LIFT)/corpus $(BUILD)/fuzz/lift-findings
	ASAN_OPTIONS=detect_leaks=0 $(FUZZ_LIFT)/fuzz_lift -max_total_time=$(FUZZ_SECONDS) -max_len=512 -len_control=0 -timeout=60 \
	  -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/lift-findings/ $(FUZZ_LIFT)/corpus
