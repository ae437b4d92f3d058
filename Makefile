# The commands a user types. CMake does the building; this file installs what
# is missing, picks build directories and runs the test passes in order.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
PYTEST     := /usr/bin/python3 -m pytest
PYTEST_ARGS ?= -q -x --durations=10

.PHONY: all deps build check unit system asan demo bench clean format

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/cohortd: FORCE
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCOHORT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
FORCE:

# check: unit + system tests on the normal build, then both again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
check:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory unit system BUILD=$(BUILD)
	@$(MAKE) --no-print-directory $(ASAN_BUILD)/cohortd
	@$(MAKE) --no-print-directory unit system BUILD=$(ASAN_BUILD)
	@echo "make check: all passes green"

unit:
	@echo "== unit tests ($(BUILD))"
	@cd $(BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

system:
	@echo "== system tests ($(BUILD))"
	@COHORT_BUILD=$(abspath $(BUILD)) $(PYTEST) $(PYTEST_ARGS) tests/system

demo:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory build
	@scripts/demo.sh $(abspath $(BUILD))

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh $(abspath $(BUILD)) $(if $(QUICK),quick,full)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
