# neardup - one entry point.  `make help` lists the targets.
#
# Sources are found by wildcard: a new .c file under src/<stage>/ joins the
# library, under src/cli/ the command, under tests/ the unit-test binary.

VERSION_MAJOR := $(shell sed -n 's/^\#define ND_VERSION_MAJOR \([0-9]*\)/\1/p' src/neardup.h)
VERSION_MINOR := $(shell sed -n 's/^\#define ND_VERSION_MINOR \([0-9]*\)/\1/p' src/neardup.h)
VERSION_PATCH := $(shell sed -n 's/^\#define ND_VERSION_PATCH \([0-9]*\)/\1/p' src/neardup.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC ?= cc
BUILD ?= build
OPT ?= -O2
SAN ?=
WERROR ?=

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wvla -Wcast-align -Wundef -pedantic
CFLAGS_ALL := -std=c11 $(OPT) -g $(WARN) $(WERROR) -fopenmp -D_GNU_SOURCE \
              $(SAN) $(CFLAGS)
LIB_CFLAGS := $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DND_BUILDING_LIBRARY
DEP_LIBS := -lxxhash -lutf8proc -ljansson -lcsv -lz -lzstd -lm
LDFLAGS_ALL := -fopenmp $(SAN) $(LDFLAGS)

LIB_SRC := $(sort $(filter-out src/cli/% src/mpi/%,$(wildcard src/*/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
GEN_SRC := $(sort $(wildcard datasets/*.c))

MPI_SRC := $(sort $(wildcard src/mpi/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
MPI_OBJ := $(MPI_SRC:%.c=$(BUILD)/obj/%.o) $(filter-out %/main.o,$(CLI_OBJ))

# Fault injection (tests/oom/failalloc.c): the unit tests and $(CLI_OOM)
# reach these functions through hooks that fail an allocation on demand or
# make reads and writes short.
WRAP_FNS := malloc calloc realloc free strdup strndup fopen opendir getline \
            realpath inflateInit2_ ZSTD_createDCtx read pread pwrite
WRAP_LDFLAGS := $(foreach f,$(WRAP_FNS),-Wl,--wrap=$(f))
OOM_OBJ := $(BUILD)/obj/tests/oom/failalloc.o

SONAME := libneardup.so.$(VERSION_MAJOR)
STATIC := $(BUILD)/libneardup.a
SHARED := $(BUILD)/libneardup.so
CLI := $(BUILD)/neardup
CLI_OOM := $(BUILD)/neardup-oom
TESTS := $(BUILD)/nd-tests
PC := $(BUILD)/neardup.pc
MAN := $(BUILD)/neardup.1
BENCH_BINS := $(BENCH_SRC:bench/%.c=$(BUILD)/%)
GEN_BINS := $(GEN_SRC:datasets/%.c=$(BUILD)/%)
EXAMPLES := $(BUILD)/examples/cluster
MPI_BIN := $(BUILD)/neardup-mpi
# Open MPI's flags (libopenmpi-dev); empty when it is not installed.
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null)
MPI_LIBS := $(shell mpicc --showme:link 2>/dev/null)

# Debian packages: what building, testing and benchmarking need.
PKGS_BUILD := gcc make pkg-config python3 libxxhash-dev libutf8proc-dev libjansson-dev \
              zlib1g-dev libzstd-dev libcsv-dev help2man
PKGS_TEST := libcriterion-dev python3 python3-pytest gzip zstd strace \
             libopenmpi-dev openmpi-bin
PKGS_BENCH := gnuplot-nox python3 python3-numpy python3-scipy time
# tests/python.sh installs the Python package offline into a venv
PKGS_TEST += python3-venv python3-pip python3-setuptools python3-wheel

PKGS_FUZZ := clang

.PHONY: all lib cli test run bench bench-results install uninstall clean help asan ubsan tsan \
        deps deps-test deps-bench check unit cli-tests gen mpi \
        fuzz fuzz-build deps-fuzz

all: lib cli $(PC) $(EXAMPLES) mpi

help:
	@echo "neardup $(VERSION) - targets:"
	@echo "  make run        install missing packages, build, cluster the bundled sample"
	@echo "  make test       install missing packages, build, run every test"
	@echo "  make / all      build $(CLI), the static and shared library, neardup.pc"
	@echo "  make lib | cli  build only the library | only the command"
	@echo "  make mpi        build $(MPI_BIN) (needs libopenmpi-dev; skipped without)"
	@echo "  make bench      build and run the short benchmark suite into $(BUILD)/bench/"
	@echo "  make bench-results  the same, written over the committed bench/results/"
	@echo "  make asan|ubsan rerun the tests under AddressSanitizer | UBSan"
	@echo "  make tsan       readers during writes on one index, under ThreadSanitizer"
	@echo "  make fuzz       build the libFuzzer targets, run each FUZZ_SECONDS (60)"
	@echo "  make install    install to DESTDIR/PREFIX (now $(DESTDIR)$(PREFIX)); uninstall"
	@echo "  make clean      remove $(BUILD)/"

# --------------------------------------------------------------- set-up
deps:
	@./scripts/deps.sh $(PKGS_BUILD)
deps-test:
	@./scripts/deps.sh $(PKGS_BUILD) $(PKGS_TEST)
deps-bench:
	@./scripts/deps.sh $(PKGS_BUILD) $(PKGS_BENCH)
deps-fuzz:
	@./scripts/deps.sh $(PKGS_BUILD) $(PKGS_FUZZ) gzip zstd

# --------------------------------------------------------------- build
lib: $(STATIC) $(SHARED)
cli: $(CLI)

$(BUILD)/obj/src/cli/%.o: src/cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/obj/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

# SIMD kernels get their instruction set; the library runs them only on CPUs
# that have it (src/sketch/minhash.c).
ifneq ($(filter x86_64%,$(shell $(CC) -dumpmachine)),)
SIMD_AVX2 := -mavx2
SIMD_AVX512 := -mavx512f -mavx512dq
endif
$(BUILD)/obj/src/%_avx2.o: src/%_avx2.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(SIMD_AVX2) -MMD -MP -c $< -o $@

$(BUILD)/obj/src/%_avx512.o: src/%_avx512.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(SIMD_AVX512) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $(BUILD)/$(SONAME) $^ $(LDFLAGS_ALL) $(DEP_LIBS)
	ln -sf $(SONAME) $@

$(CLI): $(CLI_OBJ) $(STATIC)
	$(CC) -o $@ $(CLI_OBJ) $(STATIC) $(LDFLAGS_ALL) $(DEP_LIBS)

# neardup-mpi: the command's files but its main, and src/mpi/.
ifneq ($(MPI_LIBS),)
mpi: $(MPI_BIN)
else
mpi:
	@echo "mpi: no MPI here (mpicc missing: apt-get install libopenmpi-dev); $(MPI_BIN) not built"
endif

$(BUILD)/obj/src/mpi/%.o: src/mpi/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(MPI_CFLAGS) -MMD -MP -c $< -o $@

$(MPI_BIN): $(MPI_OBJ) $(STATIC)
	$(CC) -o $@ $(MPI_OBJ) $(STATIC) $(LDFLAGS_ALL) $(MPI_LIBS) $(DEP_LIBS)

$(TESTS): $(TEST_OBJ) $(OOM_OBJ) $(STATIC)
	$(CC) -o $@ $(TEST_OBJ) $(OOM_OBJ) $(STATIC) $(LDFLAGS_ALL) $(WRAP_LDFLAGS) \
	  $(DEP_LIBS) -lcriterion

$(CLI_OOM): $(CLI_OBJ) $(OOM_OBJ) $(STATIC)
	$(CC) -o $@ $(CLI_OBJ) $(OOM_OBJ) $(STATIC) $(LDFLAGS_ALL) $(WRAP_LDFLAGS) $(DEP_LIBS)

$(BUILD)/%: bench/%.c $(STATIC) src/neardup.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(LDFLAGS_ALL) $(DEP_LIBS)

$(BUILD)/%: datasets/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL) -ljansson -lz -lm

gen: $(GEN_BINS)

# examples/cluster.c: the job through the public header only (tests/job/).
$(BUILD)/examples/%: examples/%.c $(STATIC) src/neardup.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< $(STATIC) $(LDFLAGS_ALL) $(DEP_LIBS)

# neardup.pc for the current PREFIX/LIBDIR (install writes it again, so
# `make install PREFIX=...` is right even after a plain `make`).
PC_LINES := 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: neardup' 'Description: near-duplicate text detection and clustering' \
	  'Version: $(VERSION)' 'Requires.private: libxxhash libutf8proc jansson zlib libzstd' \
	  'Libs: -L$${libdir} -lneardup' 'Libs.private: -fopenmp -lcsv -lm' \
	  'Cflags: -I$${includedir}'

$(PC): src/neardup.h Makefile
	@mkdir -p $(@D)
	@printf '%s\n' $(PC_LINES) > $@

# The man page, made by help2man from `neardup --help` and `--version`, with
# `neardup index --help` as a section of its own.
$(MAN): $(CLI)
	@command -v help2man >/dev/null || { echo "help2man is missing ('make deps' installs it)" >&2; exit 1; }
	{ printf '[INDEX COMMANDS]\n.nf\n'; $(CLI) index --help | sed 's/\\/\\e/g; s/-/\\-/g'; \
	  printf '.fi\n'; } > $(BUILD)/neardup.h2m
	help2man --no-info --name='find and cluster near-duplicate texts' \
	  --include=$(BUILD)/neardup.h2m --output=$@ $(CLI)

# --------------------------------------------------------------- run
SAMPLE := datasets/sample.jsonl
run: deps
	@$(MAKE) --no-print-directory all
	$(CLI) cluster --stats $(SAMPLE) | ./scripts/show-clusters.py $(SAMPLE)

# --------------------------------------------------------------- tests
test: deps-test
	@$(MAKE) --no-print-directory WERROR=-Werror check

check: all $(TESTS) $(CLI_OOM) $(GEN_BINS) $(BENCH_BINS)
	@./tests/cli/run.sh $(CLI)
	@./tests/job/run.sh $(BUILD)
	@./tests/oom/run.sh $(BUILD)
	@./tests/io/run.sh $(BUILD)
	@./tests/accounting.sh $(BUILD)
	@./tests/eval/run.sh $(BUILD)
	@./tests/newscopy/run.sh $(BUILD)
	@./tests/mpi/run.sh $(BUILD)
	@./datasets/check-gen.sh $(BUILD)/ndgen
	@SAN="$(SAN)" ./tests/install.sh $(BUILD)
	@SAN="$(SAN)" ./tests/python.sh $(BUILD)
	$(TESTS) --jobs 2

unit: $(TESTS)
	$(TESTS) --jobs 2

cli-tests: $(CLI)
	./tests/cli/run.sh $(CLI)

asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  SAN="-fsanitize=address -fno-omit-frame-pointer" check
# Criterion cannot start under ThreadSanitizer, so the race check is a
# program: one writer and several readers on one index (examples/).
# Then the command, which reads the next chunk on a thread of its own while
# the current one is sketched: built without OpenMP (whose barriers
# ThreadSanitizer cannot see) the library sketches on the calling thread, and
# the CLI cases that ask for --threads 2 exercise the hand-over.
TSAN_BUILD := build/tsan
tsan: deps-test
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) OPT=-O1 SAN=-fsanitize=thread \
	  $(TSAN_BUILD)/libneardup.a
	$(CC) -std=c11 -O1 -g -D_GNU_SOURCE -fsanitize=thread -Isrc examples/index_threads.c \
	  $(TSAN_BUILD)/libneardup.a -fopenmp $(DEP_LIBS) -lpthread -o $(TSAN_BUILD)/index_threads
	TSAN_OPTIONS=halt_on_error=1 $(TSAN_BUILD)/index_threads 3
	@echo "tsan: 1 passed, 0 failed"
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD)-cli OPT=-O1 SAN=-fsanitize=thread \
	  CFLAGS="-fno-openmp -Wno-unknown-pragmas" $(TSAN_BUILD)-cli/neardup
	TSAN_OPTIONS=halt_on_error=1 ./tests/cli/run.sh $(TSAN_BUILD)-cli/neardup

ubsan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/ubsan OPT=-O1 \
	  SAN="-fsanitize=undefined -fno-sanitize-recover=all" check

# --------------------------------------------------------------- fuzz
# libFuzzer targets, one a tests/fuzz/fuzz_*.c (tests/fuzz/README.md).  The
# library is built by clang with the fuzzer's coverage, AddressSanitizer and
# UBSan, without OpenMP (as for tsan); each target then runs FUZZ_SECONDS
# from its seed corpus, tests/fuzz/corpus/<target>/.
FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 60
# FUZZ_RUNS=N: N inputs a target from a fixed seed, the same every run (CI).
FUZZ_RUNS ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB := $(FUZZ_BUILD)/libneardup.a
FUZZ_CLI_OBJ := $(FUZZ_BUILD)/obj/src/cli/options.o

fuzz: deps-fuzz fuzz-build
	FUZZ_RUNS=$(FUZZ_RUNS) ./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT=-O1 \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	  CFLAGS="-fno-openmp -Wno-unknown-pragmas" $(FUZZ_LIB) $(FUZZ_CLI_OBJ)
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_BINS): $(FUZZ_BUILD)/%: tests/fuzz/%.c tests/fuzz/harness.h $(wildcard $(FUZZ_LIB)) \
  $(wildcard src/*/*.h)
	$(FUZZ_CC) -std=c11 -O1 -g -D_GNU_SOURCE $(WARN) -Wno-missing-prototypes \
	  -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_EXTRA) $(FUZZ_LIB) $(DEP_LIBS) -lgomp

# The option parser is the command's, not the library's.
$(FUZZ_BUILD)/fuzz_options: FUZZ_EXTRA := $(FUZZ_CLI_OBJ)
$(FUZZ_BUILD)/fuzz_options: $(wildcard $(FUZZ_CLI_OBJ))

# --------------------------------------------------------------- bench
bench: deps-bench
	@$(MAKE) --no-print-directory all $(GEN_BINS) $(BENCH_BINS)
	BUILD=$(BUILD) ./bench/run.sh

# The committed figures under bench/results, made anew with today's defaults
# (needs ../shared/datasets/reuters21578 beside the tree, or REUTERS=path).
bench-results: deps-bench
	@$(MAKE) --no-print-directory all $(GEN_BINS) $(BENCH_BINS)
	BUILD=$(BUILD) BENCH_OUT=bench/results BENCH_REQUIRE_REUTERS=1 ./bench/run.sh
	BUILD=$(BUILD) FEATURE_OUT=bench/results FEATURE_REQUIRE_REUTERS=1 ./bench/features.sh

# --------------------------------------------------------------- install
install: all $(MAN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 $(MAN) $(DESTDIR)$(MANDIR)/man1/neardup.1
	install -m 644 scripts/neardup-completion.bash $(DESTDIR)$(BASHCOMPDIR)/neardup
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/neardup
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libneardup.a
	install -m 755 $(BUILD)/$(SONAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libneardup.so
	install -m 644 src/neardup.h $(DESTDIR)$(INCLUDEDIR)/neardup.h
	printf '%s\n' $(PC_LINES) > $(DESTDIR)$(PKGCONFIGDIR)/neardup.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/neardup $(DESTDIR)$(LIBDIR)/libneardup.a \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libneardup.so \
	  $(DESTDIR)$(INCLUDEDIR)/neardup.h $(DESTDIR)$(PKGCONFIGDIR)/neardup.pc \
	  $(DESTDIR)$(MANDIR)/man1/neardup.1 $(DESTDIR)$(BASHCOMPDIR)/neardup

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(OOM_OBJ:.o=.d) \
  $(MPI_SRC:%.c=$(BUILD)/obj/%.d)
