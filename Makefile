# The commands a user types. CMake does the building; this file installs what
# is missing, picks build directories and runs the test passes in order.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
# TESTS=OFF builds the programs without the unit tests, whose cmocka only
# make check installs (make demo needs the build packages alone).
TESTS      ?= ON
PYTEST     := /usr/bin/python3 -m pytest
PYTEST_ARGS ?= -q -x --durations=10 -p no:cacheprovider

.PHONY: all deps build check unit system system-pg asan demo bench clean \
	format fuzz fuzz-build fuzz-check valgrind soak

all: build

# A build with the unit tests needs cmocka as well.
deps:
	@scripts/deps.sh $(if $(filter ON,$(TESTS)),build-tests,build)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCOHORT_TESTS=$(TESTS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/cohortd: FORCE
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCOHORT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
FORCE:

# check: unit + system tests on the normal build (the system tests on
# the SQLite store and on PostgreSQL, side by side), valgrind memcheck of
# one master + target scenario, unit and system tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer (the system tests in two
# lanes), then every fuzz target for 30 s on its seeds. The lanes
# (scripts/lanes.sh) keep the whole under 20 minutes on two cores: a
# system test mostly waits on timers and sockets.
check:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory unit BUILD=$(BUILD)
	@scripts/lanes.sh $(BUILD)/lanes \
		sqlite '$(MAKE) --no-print-directory system BUILD=$(BUILD) \
			NOT_PG_ONLY=1' \
		postgresql '$(MAKE) --no-print-directory system-pg BUILD=$(BUILD)'
	@$(MAKE) --no-print-directory valgrind BUILD=$(BUILD)
	@$(MAKE) --no-print-directory $(ASAN_BUILD)/cohortd
	@$(MAKE) --no-print-directory unit BUILD=$(ASAN_BUILD)
	@scripts/lanes.sh $(ASAN_BUILD)/lanes \
		first '$(MAKE) --no-print-directory system BUILD=$(ASAN_BUILD) \
			SYSTEM_TESTS="$(ASAN_LANE)" FAULT_REPORT=fault-report-1' \
		second '$(MAKE) --no-print-directory system BUILD=$(ASAN_BUILD) \
			SYSTEM_TESTS="tests/system $(ASAN_LANE:%=--ignore=%)" \
			FAULT_REPORT=fault-report-2'
	@$(MAKE) --no-print-directory fuzz-check
	@echo "make check: all passes green"

# The first lane of the sanitizer build's system tests: about half of
# their time (7.5 minutes in all, alone). The second lane runs every
# other file, so a new test file is never left out.
ASAN_LANE := $(addprefix tests/system/,test_20_scaleout.py \
	test_08_security.py test_09_ha.py test_07_events.py test_04_jobs.py \
	test_19_dashboard.py)

unit:
	@echo "== unit tests ($(BUILD))"
	@cd $(BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure --no-tests=error -j $(JOBS)

# SYSTEM_TESTS: the files (and pytest options) to run; FAULT_REPORT: the
# name of the fault tests' report in the build dir (one per lane);
# NOT_PG_ONLY=1 leaves out the tests that always run on PostgreSQL (the
# HA pairs): make check's SQLite lane, beside the PostgreSQL lane that
# runs them, so that two sets of HA timings do not share the machine.
SYSTEM_TESTS ?= tests/system
FAULT_REPORT ?= fault-report
system:
	@echo "== system tests ($(BUILD))"
	@rm -f $(BUILD)/$(FAULT_REPORT).txt
	@COHORT_BUILD=$(abspath $(BUILD)) \
		COHORT_FAULT_REPORT=$(abspath $(BUILD))/$(FAULT_REPORT).txt \
		$(PYTEST) $(PYTEST_ARGS) $(if $(NOT_PG_ONLY),-m "not pg_only") \
		$(SYSTEM_TESTS)
	@cat $(BUILD)/$(FAULT_REPORT).txt 2>/dev/null || true

# The system tests with every master on a private PostgreSQL server
# (tests/system/harness/pg.py starts and stops it).
system-pg:
	@echo "== system tests on PostgreSQL ($(BUILD))"
	@COHORT_BUILD=$(abspath $(BUILD)) $(PYTEST) $(PYTEST_ARGS) \
		--store=postgresql tests/system

# valgrind memcheck: one master + target scenario, 0 errors, 0 definite
# leaks (needs the normal build, not the sanitizer one).
valgrind:
	@echo "== valgrind memcheck ($(BUILD))"
	@COHORT_BUILD=$(abspath $(BUILD)) $(PYTEST) -q -x -s -p no:cacheprovider \
		tests/valgrind

# Fuzzing: clang + libFuzzer in its own build dir. fuzz runs each target
# FUZZ_SECONDS (keeping what it learns in $(FUZZ_BUILD)/corpus-work);
# fuzz-check (part of check) runs each 30 s on the committed seeds only.
fuzz-build:
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang-14 \
		-DCMAKE_BUILD_TYPE=Debug -DCOHORT_FUZZ=ON -DCOHORT_TESTS=OFF \
		>/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: deps fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) keep

fuzz-check: fuzz-build
	@echo "== fuzz targets, 30 s each on the seed corpus"
	@scripts/fuzz.sh $(FUZZ_BUILD) 30

# soak: the fault loops at length (200 master kills, a minute-long
# partition, ...); make check runs the short versions.
soak: build
	@scripts/deps.sh test
	@rm -f $(BUILD)/fault-report.txt
	@COHORT_SOAK=1 COHORT_BUILD=$(abspath $(BUILD)) \
		COHORT_FAULT_REPORT=$(abspath $(BUILD))/fault-report.txt \
		$(PYTEST) -q -x tests/system/test_1[0-4]_*.py
	@cat $(BUILD)/fault-report.txt

demo:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory build TESTS=OFF
	@scripts/demo.sh $(abspath $(BUILD))

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh $(abspath $(BUILD)) $(if $(QUICK),quick,full)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
