# lineiform — top-level build.
#
#   make            build/lineiform, the libraries, the bundled interpreter
#   make deps       install the Debian packages the project needs (root), or name them
#   make test       deps + build + every test (cmocka summaries at the end)
#   make test-asan  the same tests under AddressSanitizer + UBSan (build-asan/)
#   make demo       deps + build + analyze, snapshot and run a benchmark end to end
#   make bench      the benchmark table (bench/), QUICK=1 for a smoke run
#   make install PREFIX=/usr/local DESTDIR=   /   make uninstall
#
# Each folder contributes a fragment (<folder>/module.mk) that appends to the
# variables below; this file holds only what they share.

CC        ?= cc
ifeq ($(origin CC),default)
CC        := gcc
endif
PREFIX    ?= /usr/local
DESTDIR   ?=
LLVM_CONFIG ?= llvm-config-14

ifeq ($(SAN),1)
BUILD     ?= build-asan
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     ?= build
SANFLAGS  :=
endif

OPT       ?= -O2
WARN      := -Wall -Wextra -Werror
CFLAGS_BASE := -std=gnu11 $(OPT) -g $(WARN) -MMD -MP -Iinclude -I. -I$(BUILD)/gen $(SANFLAGS)
LLVM_CFLAGS := $(shell $(LLVM_CONFIG) --cflags 2>/dev/null | sed 's/-D_GNU_SOURCE//')
LLVM_LIBS   := $(shell $(LLVM_CONFIG) --ldflags 2>/dev/null) -lLLVM-14
DEP_LIBS    := -lZydis -lZycore -ldwarf -lelf -lz -lsqlite3 -lm -lpthread -ldl
LDFLAGS_BASE := $(SANFLAGS)

# Debian packages: header or tool that proves each one is present.
DEB_PKGS := libzydis-dev:/usr/include/Zydis/Zydis.h \
            libelf-dev:/usr/include/libelf.h \
            libdwarf-dev:/usr/include/libdwarf/libdwarf.h \
            libsqlite3-dev:/usr/include/sqlite3.h \
            libcmocka-dev:/usr/include/cmocka.h \
            libgc-dev:/usr/include/gc.h \
            zlib1g-dev:/usr/include/zlib.h \
            llvm-14-dev:/usr/lib/llvm-14/include/llvm-c/Core.h \
            clang:/usr/bin/clang \
            pkg-config:/usr/bin/pkg-config \
            valgrind:/usr/bin/valgrind \
            hyperfine:/usr/bin/hyperfine \
            lua5.4:/usr/bin/lua5.4 \
            gnuplot-nox:/usr/bin/gnuplot \
            python3:/usr/bin/python3 \
            libpython3.11:/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 \
            rustc:/usr/bin/rustc \
            g++:/usr/bin/g++

.PHONY: all deps test test-asan demo bench bench-peers install uninstall clean
all:

# Keep objects of pattern-built test binaries.
.SECONDARY:

deps:
	@missing=""; for p in $(DEB_PKGS); do f=$${p#*:}; n=$${p%%:*}; \
	  [ -e "$$f" ] || missing="$$missing $$n"; done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq $$missing </dev/null; \
	else echo "deps: missing Debian packages:$$missing"; \
	  echo "deps: run as root: apt-get install -y$$missing"; exit 1; fi

# Pattern rules shared by every fragment.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS_$(firstword $(subst /, ,$*))) -c $< -o $@

# Test binaries run by `make test`, appended to by the fragments.
TEST_BINS :=
TEST_SCRIPTS :=
INSTALL_BINS :=
INSTALL_LIBS :=

include snapshot/runtime/module.mk
include analyzer/module.mk
include lifter/module.mk
include snapshot/module.mk
include cmd/module.mk
include testdata/lisp/module.mk
include testdata/lua/module.mk
include tests/module.mk
include bench/module.mk

all: $(ALL_TARGETS) $(BUILD)/lineiform.pc $(BUILD)/lineiform-rt.pc

$(BUILD)/lineiform.pc: Makefile
	@mkdir -p $(dir $@)
	@printf 'prefix=%s\nincludedir=%s\nlibdir=%s\n\nName: lineiform\nDescription: meta-JIT for closure-generating interpreters\nVersion: 0.1\nCflags: -I%s\nLibs: -L%s -llineiform %s %s\n' \
	  "$(abspath .)" "$(abspath include)" "$(abspath $(BUILD))" "$(abspath include)" "$(abspath $(BUILD))" \
	  "$(LLVM_LIBS)" "$(DEP_LIBS)" > $@

# lineiform-rt: the runtime alone (libc only), what an interpreter links;
# lineiform: runtime + lifter + LLVM, for in-process lf_optimize.
$(BUILD)/lineiform-rt.pc: Makefile
	@mkdir -p $(dir $@)
	@printf 'prefix=%s\nincludedir=%s\nlibdir=%s\n\nName: lineiform-rt\nDescription: lineiform runtime for interpreters (snapshot and image modes; libc only)\nVersion: 0.1\nCflags: -I%s\nLibs: -L%s -llineiform-rt\n' \
	  "$(abspath .)" "$(abspath include)" "$(abspath $(BUILD))" "$(abspath include)" "$(abspath $(BUILD))" > $@

test: deps
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@$(MAKE) --no-print-directory run-tests

test-asan: deps
	@$(MAKE) --no-print-directory SAN=1 test-asan-run

demo: deps
	@$(MAKE) --no-print-directory all
	@sh bench/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/libexec/lineiform
	install -m 755 $(BUILD)/lineiform $(DESTDIR)$(PREFIX)/bin/lineiform
	install -m 644 include/lineiform.h $(DESTDIR)$(PREFIX)/include/lineiform.h
	for l in $(INSTALL_LIBS); do install -m 644 $$l $(DESTDIR)$(PREFIX)/lib/; done
	sed -e 's|^prefix=.*|prefix=$(PREFIX)|' -e 's|^includedir=.*|includedir=$(PREFIX)/include|' \
	  -e 's|^libdir=.*|libdir=$(PREFIX)/lib|' -e 's|^Cflags: .*|Cflags: -I$${includedir}|' \
	  -e 's|-L$(abspath $(BUILD)) |-L$${libdir} |' $(BUILD)/lineiform.pc > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lineiform.pc
	sed -e 's|^prefix=.*|prefix=$(PREFIX)|' -e 's|^includedir=.*|includedir=$(PREFIX)/include|' \
	  -e 's|^libdir=.*|libdir=$(PREFIX)/lib|' -e 's|^Cflags: .*|Cflags: -I$${includedir}|' \
	  -e 's|-L$(abspath $(BUILD)) |-L$${libdir} |' $(BUILD)/lineiform-rt.pc > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lineiform-rt.pc
	for b in $(INSTALL_BINS); do install -m 755 $$b $(DESTDIR)$(PREFIX)/libexec/lineiform/; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lineiform $(DESTDIR)$(PREFIX)/include/lineiform.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/lineiform.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/lineiform-rt.pc
	for l in $(INSTALL_LIBS); do rm -f $(DESTDIR)$(PREFIX)/lib/$$(basename $$l); done
	rm -rf $(DESTDIR)$(PREFIX)/libexec/lineiform

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
