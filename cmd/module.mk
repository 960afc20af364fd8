# cmd/: the lineiform program.
# lineiform (launcher: analyze, query, run; no LLVM, so it starts fast) and
# lineiform-snapshot (the snapshot command, with the lifter and LLVM), which
# the launcher execs for `lineiform snapshot` (cmd/cli_exec.c).
CFLAGS_cmd := $(LLVM_CFLAGS)
CLI_COMMON_OBJS := $(BUILD)/obj/cmd/cli_util.o
CLI_LAUNCH_OBJS := $(addprefix $(BUILD)/obj/cmd/,main.o cli_analyze.o cli_query.o cli_run.o cli_exec.o) $(CLI_COMMON_OBJS)
CLI_SNAP_OBJS := $(addprefix $(BUILD)/obj/cmd/,snapshot_main.o cli_snapshot.o cli_child.o) $(CLI_COMMON_OBJS)
$(BUILD)/lineiform: $(CLI_LAUNCH_OBJS) $(BUILD)/libsnapshot.a $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a
	$(CC) $(LDFLAGS_BASE) -o $@ $(CLI_LAUNCH_OBJS) $(BUILD)/libsnapshot.a \
	  $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a $(DEP_LIBS)
$(BUILD)/lineiform-snapshot: $(CLI_SNAP_OBJS) $(BUILD)/libsnapshot.a $(BUILD)/liblifter.a $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a
	$(CC) $(LDFLAGS_BASE) -o $@ $(CLI_SNAP_OBJS) $(BUILD)/libsnapshot.a $(BUILD)/liblifter.a \
	  $(BUILD)/libanalyzer.a $(BUILD)/liblineiform-rt.a $(LLVM_LIBS) $(DEP_LIBS)
ALL_TARGETS += $(BUILD)/lineiform $(BUILD)/lineiform-snapshot
INSTALL_BINS += $(BUILD)/lineiform-snapshot
