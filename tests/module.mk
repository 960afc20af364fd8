# tests/: cmocka tests, one binary per tests/test_<module>_<topic>.c.
# The module prefix decides what a test links:
#   test_analyzer_*  libanalyzer.a          test_runtime_*  liblineiform-rt.a
#   test_lift_*      liblineiform.a         test_snapshot_* libsnapshot.a + analyzer + runtime
#   test_cli_*, test_lisp_*, test_image_*   nothing (they run build/ programs)
# tests/tutil.c (helpers: run a command, compile a fixture, temp dirs) links into all.
CFLAGS_tests := $(LLVM_CFLAGS)
TEST_SRCS  := $(wildcard tests/test_*.c)
TEST_BINS  += $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TUTIL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/tutil*.c))
TEST_LIBS  := -lcmocka $(DEP_LIBS)
TEST_DEFS  = -DLF_BUILD_DIR='"$(abspath $(BUILD))"' -DLF_SRC_DIR='"$(abspath .)"'

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS_tests) $(TEST_DEFS) -c $< -o $@

$(BUILD)/tests/test_analyzer_%: $(BUILD)/obj/tests/test_analyzer_%.o $(TUTIL_OBJS) $(BUILD)/libanalyzer.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) -o $@ $^ $(TEST_LIBS)
$(BUILD)/tests/test_runtime_%: $(BUILD)/obj/tests/test_runtime_%.o $(TUTIL_OBJS) $(BUILD)/liblineiform-rt.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) -o $@ $^ $(TEST_LIBS)
$(BUILD)/tests/test_lift_%: $(BUILD)/obj/tests/test_lift_%.o $(TUTIL_OBJS) $(BUILD)/liblineiform.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) -o $@ $^ $(LLVM_LIBS) $(TEST_LIBS)
$(BUILD)/tests/test_snapshot_%: $(BUILD)/obj/tests/test_snapshot_%.o $(TUTIL_OBJS) $(BUILD)/libsnapshot.a $(BUILD)/liblifter.a $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) -o $@ $^ $(LLVM_LIBS) $(TEST_LIBS)
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/test_%.o $(TUTIL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) -o $@ $^ $(TEST_LIBS)

# Run every test binary; keep going, fail at the end if any failed.
.PHONY: run-tests test-asan-run
run-tests:
	@fail=0; for t in $(sort $(TEST_BINS)); do echo "== $$(basename $$t)"; \
	  LF_BUILD=$(abspath $(BUILD)) $$t || fail=1; done; \
	for s in $(TEST_SCRIPTS); do echo "== $$s"; LF_BUILD=$(abspath $(BUILD)) sh $$s || fail=1; done; \
	if [ $$fail = 0 ]; then echo "make test: all passed"; else echo "make test: FAILED"; exit 1; fi

# Under ASan: the analyzer, runtime, snapshot (image loader), CLI and Scheme
# interpreter tests (the last with build-asan/bin/lisp, instrumented:
# test_lisp_scripts took 25 s and test_lisp_cli 14 s that way on a loaded
# 2-core machine), and the lift and image tests that fit the CI budget.
# Seconds each took alone under ASan+UBSan on the loaded 2-core machine
# (LF_BUILD=build-asan build-asan/tests/T): aot 5, facts 0.3, fast 3.8,
# frame_align 6.8, globals 3.4, insn_golden 9.8, ipara 4.3, live 0.3,
# nanbox 67, protos 1.6, refuse 1.8, returns 2.1, saved 3.3, shapes 56,
# snippet 1.0, image_mini 34.  Left out: lift_closures (519 s), lift_cpp
# (200 s), lift_fuzz (108 s), lift_lisp (over 6 min), image_deep (over
# 150 s) and the other image tests, which snapshot the instrumented
# build-asan/bin/lisp (image_coverage over 60 s): too long for CI, and the
# fuzz-lift target covers closure trees under the sanitizers; lift_cc,
# lift_kept and lift_windows count shapes (GHC convention, kept calls,
# windows) of functions of the test binary itself, which ASan's checks
# change; lift_rust links with rustc, which is not given the sanitizer
# runtimes; lift_insn_forms and lift_interp were not measured.
ASAN_LIFT_TESTS = aot facts fast frame_align globals insn_golden ipara live nanbox protos refuse returns \
                  saved shapes snippet
ASAN_TEST_BINS = $(filter $(BUILD)/tests/test_analyzer_% $(BUILD)/tests/test_runtime_% \
                   $(BUILD)/tests/test_snapshot_% $(BUILD)/tests/test_cli_% \
                   $(BUILD)/tests/test_lisp_% $(ASAN_LIFT_TESTS:%=$(BUILD)/tests/test_lift_%) \
                   $(BUILD)/tests/test_image_mini,$(TEST_BINS))
test-asan-run:
	@$(MAKE) --no-print-directory SAN=1 all $(BUILD)/bin/lisp $(ASAN_TEST_BINS)
	@fail=0; for t in $(sort $(ASAN_TEST_BINS)); do echo "== $$(basename $$t) (asan)"; \
	  LF_BUILD=$(abspath $(BUILD)) ASAN_OPTIONS=detect_leaks=0 $$t || fail=1; done; \
	if [ $$fail = 0 ]; then echo "make test-asan: all passed"; else echo "make test-asan: FAILED"; exit 1; fi

# Under SAN=1 the Scheme interpreter's tests need an interpreter to run:
# build-asan/bin/lisp, instrumented like everything else in that tree (the
# normal build's lisp stays uninstrumented: its machine code is what the
# image tests lift).  Target-specific, so its objects are instrumented too.
ifeq ($(SAN),1)
$(BUILD)/bin/lisp: CC += $(SANFLAGS)
endif
