# bench/: `make bench` times every testdata/lisp/bench/*.scm program in each
# column (interpreter, image, C, Lua 5.4, LuaJIT, Guile, Chez) and writes
# bench/results/latest.{json,md,png}.
#   make bench QUICK=1       one run of each (smoke), results in $(BUILD)/bench/quick
#   make bench CALLGRIND=1   instruction counts (valgrind) instead of times
#   make bench BENCH_ARGS='--only fib,tak --columns interp,image --runs 9'
#   make bench-peers         install lua5.4 luajit guile-3.0 chezscheme (root)
# Then the Lua section (bench/runbench_lua.py): every bench/lua/*.lua program
# by lua5.4, luajit -joff, luajit, build/bin/lua, its image and C, written to
# bench/results/lua.{json,md}; LUA_BENCH_ARGS='--only fib --runs 5'.
# The C versions (bench/c/*.c) and the empty start-up program are built at
# -O2 without sanitizers into $(BUILD)/bench/.
BENCH_C_SRCS   := $(wildcard bench/c/*.c)
BENCH_C_BINS   := $(BENCH_C_SRCS:bench/c/%.c=$(BUILD)/bench/c/%) $(BUILD)/bench/startup/empty
BENCH_CFLAGS   := -std=gnu11 -O2 $(WARN)
BENCH_PY       := /usr/bin/python3 -B bench/runbench.py
ALL_TARGETS    += $(BENCH_C_BINS)
TEST_SCRIPTS   += bench/smoke_test.sh

$(BUILD)/bench/c/%: bench/c/%.c $(wildcard bench/c/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<
$(BUILD)/bench/startup/empty: bench/startup/empty.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench: all
	@BENCH_CC="$(CC)" $(BENCH_PY) --build $(BUILD) $(if $(filter 1,$(QUICK)),--quick) \
	  $(if $(filter 1,$(CALLGRIND)),--callgrind) $(BENCH_ARGS)
	@$(if $(filter 1,$(CALLGRIND)),true,/usr/bin/python3 -B bench/runbench_lua.py --build $(BUILD) \
	  $(if $(filter 1,$(QUICK)),--quick) $(LUA_BENCH_ARGS))
bench-peers:
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq lua5.4 luajit guile-3.0 chezscheme </dev/null; \
	else echo "bench-peers: run as root: apt-get install -y lua5.4 luajit guile-3.0 chezscheme"; exit 1; fi
