# slm — build, test, bench, demo.  See README.md and docs/.
#
#   make            build ./slm (and build/libslm.a)
#   make test       install test dependencies if missing, build, run every test
#   make bench      run the benchmarks, results under bench/results/
#   make demo       whole pipeline on data/samples
#   make debug      ASan/UBSan build (same as SANITIZE=address,undefined DEBUG=1)
#   make fuzz       libFuzzer harnesses tests/fuzz/fuzz_*.c, FUZZ_SECONDS each (clang)
#
# Variables: BUILD (build directory, default build), SANITIZE=address,undefined,
# DEBUG=1, ARCH (default native), MPI=1.

CC      ?= gcc
BUILD   ?= build
ARCH    ?= native
PKGS    := openblas hdf5 zlib jansson inih

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

GIT_SHA := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CFLAGS  := -DSLM_VERSION=\"0.1-$(GIT_SHA)\" -std=c11 -Wall -Wextra -Werror -fopenmp -D_GNU_SOURCE -I. $(PKG_CFLAGS)
ifeq ($(DEBUG),1)
CFLAGS  += -O1 -g
else
CFLAGS  += -O3 -g
endif
ifneq ($(ARCH),)
CFLAGS  += -march=$(ARCH)
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifeq ($(MPI),1)
CC      := mpicc
CFLAGS  += -DSLM_MPI=1
endif
LDLIBS  := $(PKG_LIBS) -fopenmp -lm -ldl -lpthread

LIB_DIRS := core model train distill quantize data
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRCS := $(wildcard cli/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libslm.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all test unit bench demo debug clean deps fmt fuzz
all: slm

slm: $(BUILD)/slm
	@ln -sf $(BUILD)/slm slm

$(BUILD)/slm: $(CLI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka $(LDFLAGS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(LDFLAGS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(LDFLAGS)

deps:
	@bash scripts/deps.sh

unit: $(UNIT_BINS)

test: deps slm $(UNIT_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) bash tests/run.sh

bench: deps slm $(BENCH_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) bash scripts/bench.sh

demo: deps slm
	@bash scripts/demo.sh

debug:
	$(MAKE) BUILD=build-debug SANITIZE=address,undefined DEBUG=1

FUZZ_SECONDS ?= 60
fuzz:
	@SLM_DEPS_FUZZ=1 bash scripts/deps.sh
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) build-debug build-fuzz slm

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
