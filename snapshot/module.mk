# snapshot/: image writer, heap-dump and image readers used by the CLI -> libsnapshot.a
# snap_lift_none.c stands in for lift_aot_compile until a lifter/ source defines it;
# the stamp named after the choice rebuilds the archive when the choice flips.
SNAP_SRCS := $(wildcard snapshot/*.c)
SNAP_LIFT := $(if $(shell grep -ls '^enum lf_status lift_aot_compile' lifter/*.c lifter/*/*.c 2>/dev/null),lifter,none)
ifeq ($(SNAP_LIFT),lifter)
SNAP_SRCS := $(filter-out snapshot/snap_lift_none.c,$(SNAP_SRCS))
endif
SNAP_OBJS := $(SNAP_SRCS:%.c=$(BUILD)/obj/%.o)
SNAP_STAMP := $(BUILD)/gen/snap_lift.$(SNAP_LIFT)
$(SNAP_STAMP):
	@mkdir -p $(dir $@) && rm -f $(BUILD)/gen/snap_lift.* && touch $@
$(BUILD)/libsnapshot.a: $(SNAP_OBJS) $(SNAP_STAMP)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(SNAP_OBJS)
ALL_TARGETS += $(BUILD)/libsnapshot.a

# Fuzzing the heap-dump reader with clang's libFuzzer (not part of `make test`):
#   make fuzz-dump FUZZ_SECONDS=60     corpus in $(BUILD)/fuzz/dump-corpus/
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/fuzz_dump: tests/fuzz/fuzz_dump.c snapshot/snap_dump.c snapshot/snap_dump.h \
                         snapshot/runtime/rt_dump_format.h snapshot/runtime/rt_status.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -Iinclude -I. -fsanitize=fuzzer,address,undefined \
	  -o $@ tests/fuzz/fuzz_dump.c snapshot/snap_dump.c snapshot/runtime/rt_status.c
.PHONY: fuzz-dump
fuzz-dump: $(BUILD)/fuzz/fuzz_dump $(BUILD)/tests/test_snapshot_dump
	@mkdir -p $(BUILD)/fuzz/dump-corpus
	LINEIFORM_MODE=snapshot LINEIFORM_DUMP=$(BUILD)/fuzz/seed.dump $(BUILD)/tests/test_snapshot_dump --child ok >/dev/null
	{ printf '\001'; cat $(BUILD)/fuzz/seed.dump; } > $(BUILD)/fuzz/dump-corpus/seed-resealed
	{ printf '\000'; cat $(BUILD)/fuzz/seed.dump; } > $(BUILD)/fuzz/dump-corpus/seed-raw
	$(BUILD)/fuzz/fuzz_dump -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/fuzz/dump-corpus

# Fuzzing the image reader (rt_image_parse) the same way (not part of `make test`):
#   make fuzz-image FUZZ_SECONDS=60    corpus in $(BUILD)/fuzz/image-corpus/,
#   seeded with the images test_snapshot_image writes.
$(BUILD)/fuzz/fuzz_image: tests/fuzz/fuzz_image.c $(RT_SRCS) snapshot/snap_image_fmt.h snapshot/runtime/rt_internal.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -Iinclude -I. -fsanitize=fuzzer,address,undefined \
	  -o $@ tests/fuzz/fuzz_image.c $(RT_SRCS)
.PHONY: fuzz-image
fuzz-image: $(BUILD)/fuzz/fuzz_image $(BUILD)/tests/test_snapshot_image
	@mkdir -p $(BUILD)/fuzz/image-corpus $(BUILD)/fuzz/image-seeds
	LF_IMAGE_SEED_DIR=$(abspath $(BUILD))/fuzz/image-seeds $(BUILD)/tests/test_snapshot_image >/dev/null
	for f in $(BUILD)/fuzz/image-seeds/*.img; do b=$$(basename $$f .img); \
	  { printf '\001'; cat $$f; } > $(BUILD)/fuzz/image-corpus/$$b-resealed; \
	  { printf '\000'; cat $$f; } > $(BUILD)/fuzz/image-corpus/$$b-raw; done
	$(BUILD)/fuzz/fuzz_image -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/fuzz/image-corpus
