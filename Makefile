# The two commands of the contract are `make run` and `make test`; both install
# what is missing (scripts/deps.sh) and build first.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 600
# cmake --build runs make again; without this every step says which directory it is in.
MAKEFLAGS += --no-print-directory

.PHONY: all deps build build-asan build-fuzz run test test-normal test-asan bench fuzz fuzz-short clean modules golden linux-parity

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DPCILAB_SANITIZE=ON >/dev/null

build-asan: deps $(BUILD_ASAN)/CMakeCache.txt
	@cmake --build $(BUILD_ASAN) -j$(JOBS)

run: build
	@./$(BUILD)/pcilab run

test-normal: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: build-asan
	@cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

test: test-normal test-asan fuzz-short modules
	@echo "make test: all suites passed"

$(BUILD_FUZZ)/CMakeCache.txt:
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCILAB_FUZZ=ON >/dev/null

# Only the fuzz targets: the tests run in the two builds above.
FUZZ_TARGETS = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
build-fuzz: deps $(BUILD_FUZZ)/CMakeCache.txt
	@cmake --build $(BUILD_FUZZ) -j$(JOBS) --target $(FUZZ_TARGETS)

# Parity with real Linux (docs/parity.md): installs QEMU and Debian's kernel
# (tests/linux/setup.sh), boots the real kernel once per edu scenario and
# configuration (35 boots, about 8 minutes under TCG; the lines are checked
# against tests/linux/captured), then compares each real log with pcilab's
# run of the same scenario and rewrites docs/parity.md. make test runs the
# same comparison against the committed captures (tests/linux/parity_cached.sh).
PARITY_OUT ?= $(BUILD)/linux-parity
linux-parity: build
	@sh tests/linux/setup.sh
	@rm -rf $(PARITY_OUT) && mkdir -p $(PARITY_OUT)
	@sh tests/linux/edu_bugs.sh $(PARITY_OUT); s=$$?; \
	    python3 tests/linux/parity.py --pcilab $(BUILD)/pcilab --real $(PARITY_OUT) \
	        --write docs/parity.md && exit $$s

# A short run of every fuzz target over its committed corpus (part of make test).
fuzz-short: build-fuzz
	@sh scripts/fuzz.sh $(BUILD_FUZZ) 15

# The long campaign: FUZZ_SECONDS per target; new inputs land in fuzz/corpus.
fuzz: build-fuzz
	@sh scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) --grow

# The drivers of src/drivers as real Linux modules (docs/drivers.md): the
# sources are copied to $(BUILD)/modules and built there by the kernel's
# kbuild, against KDIR (the running kernel's build tree if it has one, else
# the newest Debian linux-headers-*-amd64).
KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; [ -d $$d ] && echo $$d || \
          ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1)
modules: deps
	@sh scripts/build-modules.sh "$(KDIR)" $(BUILD)/modules

# Regenerates the golden outputs of tests/cli/golden.sh after an intended
# change of pcilab run's output (review git diff tests/cli/golden after).
golden: build
	@sh scripts/update-golden.sh $(BUILD)/pcilab

bench: build
	@./$(BUILD)/pcilab-bench

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
