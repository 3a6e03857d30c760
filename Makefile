# minik build. `make help` lists the targets.
#
# Objects go under $(BUILDDIR) (build/ by default; build/asan for `make test`,
# build/fuzz for `make fuzz`). Each component folder becomes a static library, and the
# binary is main.c linked against all of them.

MODULES    := lib proto store apiserver scheduler controllers agent cli
BUILDDIR   ?= build
PREFIX     ?= /usr/local
CC         ?= cc
SANITIZE   ?=
FUZZ       ?=
FUZZ_SECONDS ?= 30

VERSION    := $(shell cat VERSION)
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
BUILD_DATE := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)

# The binary links only the light libraries; the heavy ones (LAZY_PKGS) are loaded with
# dlopen on first use through lib/lazy_*.h, so the runtime, its shim and `minik version`
# start without them (docs/runtime.md). Tests, tools and fuzz targets may call them
# directly and link them too (TEST_LIBS).
PKGS       := libuv libcjson yaml-0.1 libseccomp
LAZY_PKGS  := sqlite3 openssl libarchive libcurl ldns
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm
TEST_LIBS  := $(shell pkg-config --libs $(LAZY_PKGS) 2>/dev/null)

OPTFLAGS   ?= -O2 -g
CFLAGS     := $(OPTFLAGS) -std=c11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
ifneq ($(SANITIZE),)
CFLAGS     += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif
ifneq ($(FUZZ),)
CFLAGS     += -fsanitize=fuzzer-no-link,address,undefined -DMINIK_FUZZING
endif

# Every .c under a module folder belongs to that module's library.
mod_srcs    = $(shell find $(1) -name '*.c' 2>/dev/null | sort)
ALL_SRCS   := $(foreach m,$(MODULES),$(call mod_srcs,$(m)))
LIBS_WITH_SRC := $(foreach m,$(MODULES),$(if $(call mod_srcs,$(m)),$(m)))
ARCHIVES   := $(foreach m,$(LIBS_WITH_SRC),$(BUILDDIR)/lib$(m).a)
LINK_LIBS  := -Wl,--start-group $(ARCHIVES) -Wl,--end-group $(PKG_LIBS)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILDDIR)/tests/%,$(UNIT_SRCS))
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
TOOL_SRCS  := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS  = $(patsubst tests/tools/%.c,$(BUILDDIR)/tools/%,$(TOOL_SRCS))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILDDIR)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps test unit e2e bench fuzz fuzz-build format lint install uninstall clean help tools \
        demo demo-stop

all: $(BUILDDIR)/minik

help:
	@echo "make            build build/minik"
	@echo "make deps       install every Debian package the project needs (apt-get)"
	@echo "make test       ASan+UBSan build, cmocka unit tests, then bats end-to-end tests"
	@echo "make unit|e2e   one half of make test"
	@echo "make bench      benchmarks side by side with their peers (docs/benchmarks.md)"
	@echo "make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 30)"
	@echo "make format     rewrite sources with clang-format; make lint checks format + cppcheck"
	@echo "make install PREFIX=/usr/local, make uninstall, make clean"
	@echo "make demo       a local cluster with the example app; make demo-stop removes it"

deps:
	@bash deploy/deps.sh

$(BUILDDIR)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# version.c carries the build identity; rebuild it whenever the commit changes.
$(BUILDDIR)/obj/lib/version.o: lib/version.c $(BUILDDIR)/.commit | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMINIK_VERSION='"$(VERSION)"' -DMINIK_GIT_COMMIT='"$(GIT_COMMIT)"' \
		-DMINIK_BUILD_DATE='"$(BUILD_DATE)"' -c $< -o $@

$(BUILDDIR)/.commit: FORCE
	@mkdir -p $(BUILDDIR)
	@echo "$(VERSION) $(GIT_COMMIT)" | cmp -s - $@ || echo "$(VERSION) $(GIT_COMMIT)" > $@
FORCE:

# Keep intermediate objects (unit-test and fuzz objects are built through pattern chains).
.SECONDARY:

define module_rule
$(BUILDDIR)/lib$(1).a: $(patsubst %.c,$(BUILDDIR)/obj/%.o,$(call mod_srcs,$(1)))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(LIBS_WITH_SRC),$(eval $(call module_rule,$(m))))

$(BUILDDIR)/minik: $(BUILDDIR)/obj/main.o $(ARCHIVES)
	$(CC) $(LDFLAGS) -o $@ $< $(LINK_LIBS)

# ---- tests -------------------------------------------------------------------------------
UNIT_HELPER_OBJS := $(patsubst %.c,$(BUILDDIR)/obj/%.o,$(UNIT_HELPERS))
$(BUILDDIR)/tests/%: $(BUILDDIR)/obj/tests/unit/%.o $(UNIT_HELPER_OBJS) $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(UNIT_HELPER_OBJS) $(LINK_LIBS) $(TEST_LIBS) $(shell pkg-config --libs cmocka)

# Test tools (tests/tools/*.c: load generators, crash-test writers) link like the binary.
$(BUILDDIR)/tools/%: $(BUILDDIR)/obj/tests/tools/%.o $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LINK_LIBS) $(TEST_LIBS)

tools: $(TOOL_BINS)

ASAN_DIR := build/asan
test: deps
	$(MAKE) --no-print-directory BUILDDIR=$(ASAN_DIR) SANITIZE=1 OPTFLAGS="-O1 -g" \
		$(ASAN_DIR)/minik $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/%,$(UNIT_SRCS)) \
		$(patsubst tests/tools/%.c,$(ASAN_DIR)/tools/%,$(TOOL_SRCS))
	@MINIK_BIN=$(CURDIR)/$(ASAN_DIR)/minik UNIT_DIR=$(CURDIR)/$(ASAN_DIR)/tests \
		bash tests/run.sh all

unit e2e: deps
	$(MAKE) --no-print-directory BUILDDIR=$(ASAN_DIR) SANITIZE=1 OPTFLAGS="-O1 -g" \
		$(ASAN_DIR)/minik $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/%,$(UNIT_SRCS)) \
		$(patsubst tests/tools/%.c,$(ASAN_DIR)/tools/%,$(TOOL_SRCS))
	@MINIK_BIN=$(CURDIR)/$(ASAN_DIR)/minik UNIT_DIR=$(CURDIR)/$(ASAN_DIR)/tests \
		bash tests/run.sh $@

bench: all tools
	@MINIK_BIN=$(CURDIR)/$(BUILDDIR)/minik bash tests/bench/run.sh

# ---- fuzzing -----------------------------------------------------------------------------
FUZZ_DIR := build/fuzz
$(BUILDDIR)/fuzz/%: $(BUILDDIR)/obj/tests/fuzz/%.o $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $< $(LINK_LIBS) $(TEST_LIBS)

fuzz-build: deps
ifneq ($(FUZZ_SRCS),)
	$(MAKE) --no-print-directory BUILDDIR=$(FUZZ_DIR) CC=clang FUZZ=1 OPTFLAGS="-O1 -g" \
		$(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/fuzz/%,$(FUZZ_SRCS))
endif

fuzz: fuzz-build
	@FUZZ_DIR=$(CURDIR)/$(FUZZ_DIR)/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

# ---- style -------------------------------------------------------------------------------
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

lint: deps
	clang-format --dry-run --Werror $(FORMAT_FILES)
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
			--inline-suppr --suppress=missingIncludeSystem --suppress=varFuncNullUB -j2 --max-configs=1 -D_GNU_SOURCE -D__CPPCHECK__ -I. \
		$(MODULES) main.c tests/unit tests/fuzz tests/tools

# ---- install -----------------------------------------------------------------------------
install: all
	install -D -m 0755 $(BUILDDIR)/minik $(DESTDIR)$(PREFIX)/bin/minik

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/minik

clean:
	rm -rf build

# A one-machine cluster with the hello app (deploy/demo.sh); demo-stop removes it all.
demo: all
	@bash deploy/demo.sh start

demo-stop:
	@bash deploy/demo.sh stop

-include $(shell find $(BUILDDIR) -name '*.d' 2>/dev/null)
