# tsfs build.  Layers: format/ (bytes) <- engine/ <- fs/; tools/ and bench/ use
# them.  Everything lands in $(BUILD) (build/ by default; build-asan/ for the
# sanitizer run).  Sources are found by wildcard: a new .c file needs no edit.

BUILD   ?= build
CC      ?= gcc
PKGS    := glib-2.0 zlib snappy liblz4 libzstd liblzma
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -pthread -MMD -MP $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm -pthread
TEST_LIBS := $(shell pkg-config --libs criterion)
SECONDS ?= 60

FORMAT_SRC := $(wildcard format/*.c)
FORMAT_OBJ := $(FORMAT_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC   := $(wildcard tools/tsfile/*.c)
TOOL_OBJ   := $(TOOL_SRC:%.c=$(BUILD)/%.o)
TEST_SRC   := $(wildcard tests/format/*.c)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)
ENGINE_SRC := $(wildcard engine/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
ETEST_SRC  := $(wildcard tests/engine/*.c)
ETEST_OBJ  := $(ETEST_SRC:%.c=$(BUILD)/%.o)
EBENCH_OBJ := $(BUILD)/bench/engine/bench_engine.o
QBENCH_OBJ := $(BUILD)/bench/engine/bench_query.o
BENCH_SRC  := $(wildcard bench/format/*.c)
BENCH_OBJ  := $(BENCH_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC   := $(wildcard tests/fuzz/*.c)
FS_SRC     := $(filter-out fs/main.c,$(wildcard fs/*.c))
FS_OBJ     := $(FS_SRC:%.c=$(BUILD)/%.o)
FSTEST_SRC := $(wildcard tests/fs/*.c)
FSTEST_OBJ := $(FSTEST_SRC:%.c=$(BUILD)/%.o)
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3)
FUSE_LIBS   := $(shell pkg-config --libs fuse3)

LIBFORMAT := $(BUILD)/libtsfformat.a
LIBENGINE := $(BUILD)/libtsfengine.a
LIBFS     := $(BUILD)/libtsfs.a

.PHONY: all test asan valgrind fuzz bench run check clean format-check install crash load
all: $(LIBFORMAT) $(LIBENGINE) $(BUILD)/tsfs $(BUILD)/test-fs $(BUILD)/tsfile $(BUILD)/test-format $(BUILD)/test-engine \
     $(BUILD)/bench-format $(BUILD)/bench-engine $(BUILD)/bench-query

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iformat -Iengine -c $< -o $@

$(LIBFORMAT): $(FORMAT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBENGINE): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# fs/: the filesystem (FUSE); tests/fs: its unit tests.
$(FS_OBJ) $(BUILD)/fs/main.o $(FSTEST_OBJ): CFLAGS += $(FUSE_CFLAGS) -Ifs

$(LIBFS): $(FS_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tsfs: $(BUILD)/fs/main.o $(LIBFS) $(LIBENGINE) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(LDLIBS)

$(BUILD)/test-fs: $(FSTEST_OBJ) $(LIBFS) $(LIBENGINE) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(FUSE_LIBS) $(LDLIBS)

$(BUILD)/test-engine: $(ETEST_OBJ) $(LIBENGINE) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

$(BUILD)/bench-engine: $(EBENCH_OBJ) $(LIBENGINE) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-query: $(QBENCH_OBJ) $(LIBENGINE) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the tool also uses the engine's .resource/.mods code and fs/lines.c (value
# rendering and parsing; no FUSE in it)
$(TOOL_OBJ): CFLAGS += -Ifs
$(BUILD)/tsfile: $(TOOL_OBJ) $(BUILD)/fs/lines.o $(LIBENGINE) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test-format: $(TEST_OBJ) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

$(BUILD)/bench-format: $(BENCH_OBJ) $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# FSBENCH: the filesystem benchmark (bench/fs/run.sh) measures tsfs against a
# plain libfuse passthrough (the FUSE floor) on a CSV from bench-gen-csv.
FSBENCH_PT_OBJ  := $(BUILD)/bench/fs/passthrough.o
FSBENCH_GEN_OBJ := $(BUILD)/bench/fs/gen_csv.o
FSBENCH_BIN     := $(BUILD)/tsfs $(BUILD)/bench-passthrough $(BUILD)/bench-gen-csv
$(FSBENCH_PT_OBJ): CFLAGS += $(FUSE_CFLAGS)

$(BUILD)/bench-passthrough: $(FSBENCH_PT_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS)

$(BUILD)/bench-gen-csv: $(FSBENCH_GEN_OBJ)
	$(CC) $(CFLAGS) -o $@ $^

# rendering and parsing of lines (fs/lines.c) alone, without FUSE
LBENCH_OBJ := $(BUILD)/bench/fs/bench_lines.o
$(LBENCH_OBJ): CFLAGS += -Ifs
$(BUILD)/bench-lines: $(LBENCH_OBJ) $(BUILD)/fs/lines.o $(LIBFORMAT)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

-include $(FSBENCH_PT_OBJ:.o=.d) $(FSBENCH_GEN_OBJ:.o=.d) $(LBENCH_OBJ:.o=.d)

# Unit tests (criterion) then the command-line tests (shell, driving build/tsfile).
test: all
	TSFILE_BIN=$(BUILD)/tsfile $(BUILD)/test-format --jobs 2
	TSFILE_BIN=$(BUILD)/tsfile $(BUILD)/test-engine --jobs 2
	$(BUILD)/test-fs --jobs 2
	BUILD=$(BUILD) tests/cli/run.sh
	BUILD=$(BUILD) tests/mount/run.sh
	BUILD=$(BUILD) tests/reliability/posix.sh
	BUILD=$(BUILD) tests/crash/run.sh 5
	BUILD=$(BUILD) tests/reliability/diskfull.sh
	BUILD=$(BUILD) tests/reliability/load.sh 10

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" test

# Everything CI runs: unit and command-line tests, the same under sanitizers,
# and a short fuzz run of every target.
check:
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) fuzz SECONDS=$(if $(FUZZ_SECONDS),$(FUZZ_SECONDS),20)
	@echo "check: 3 passed, 0 failed"

# The engine's unit tests under valgrind memcheck (not part of check: about
# 25 minutes; VALGRIND_SUITES="test-engine test-format" adds the format's).
valgrind: $(BUILD)/test-engine $(BUILD)/test-format $(BUILD)/tsfile
	tests/valgrind.sh $(BUILD)

# kill -9 of the daemon at random moments through the mount, ROUNDS times.
ROUNDS ?= 200
crash: $(BUILD)/tsfs $(BUILD)/tsfile
	BUILD=$(BUILD) tests/crash/run.sh $(ROUNDS)

# 8 writers, 4 readers, seals and compactions on one mount for SECONDS (30 here).
load: $(BUILD)/tsfs $(BUILD)/tsfile
	BUILD=$(BUILD) tests/reliability/load.sh $(if $(filter command line environment,$(origin SECONDS)),$(SECONDS),30)

# libFuzzer targets (clang), each run for SECONDS.
fuzz:
	tests/fuzz/run.sh $(SECONDS)

bench: $(BUILD)/bench-format $(BUILD)/bench-engine $(BUILD)/bench-query $(FSBENCH_BIN) $(BUILD)/bench-lines
	bench/run.sh $(BUILD)
	$(BUILD)/bench-lines
	bench/fs/run.sh $(BUILD)

# The main job: mount ./data on ./mnt in the foreground with demo data (Ctrl-C unmounts).
run: $(BUILD)/tsfs $(BUILD)/tsfile
	tools/demo.sh $(BUILD)

format-check:
	clang-format --dry-run --Werror format/*.[ch] engine/*.[ch] fs/*.[ch] tools/tsfile/*.[ch] tests/*/*.c bench/*/*.c

PREFIX ?= /usr/local
install: $(BUILD)/tsfs $(BUILD)/tsfile
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/tsfs $(DESTDIR)$(PREFIX)/bin/tsfs
	install -m 755 $(BUILD)/tsfile $(DESTDIR)$(PREFIX)/bin/tsfile
	install -m 644 docs/tsfs.1 docs/tsfile.1 $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build build-asan build-fuzz

-include $(FORMAT_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) \
         $(ENGINE_OBJ:.o=.d) $(ETEST_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(FSTEST_OBJ:.o=.d) $(BUILD)/fs/main.d $(EBENCH_OBJ:.o=.d) $(QBENCH_OBJ:.o=.d)
