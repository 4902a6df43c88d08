# segwal: thin wrapper over CMake, plus RocksDB tool builds and benchmarks.
#
#   make / make build   configure (if needed) and build
#   make check          deps + build + unit tests (+ $(CHECK_EXTRA) steps)
#   make bench          deps + build + the stock-vs-segwal report (build/bench/report.md)
#                       BENCH=default|quick|smoke, CASES=group,case,...
#   make deps           install Debian packages (.ci/install-deps.sh)
#   make rocksdb-source fetch RocksDB's Debian source package
#   make db_stress      RocksDB's db_stress with libsegwal.so linked in
#   make db_bench_src   RocksDB's db_bench (from source) with libsegwal.so linked in
#   make crash-test     RocksDB's db_crashtest.py with the WAL in segwal
#                       (DURATION=seconds MODE=blackbox|whitebox OPTIONS=...)
#   make crash-test-long blackbox per sync mode and compression, and whitebox
#                       (each DURATION seconds)
#   make fuzz-smoke     libFuzzer targets (tests/fuzz), FUZZ_SMOKE_SECONDS each
#   make fuzz           the same for FUZZ_SECONDS each (FUZZ_SECONDS=3600)
#   make check-sanitizers  unit tests under ASan+UBSan (build-asan) and the
#                       engine tests under TSan (build-tsan)
#   make micro-bench    the engine's hot parts alone (Google Benchmark)
#   make clean          remove build outputs (keeps the fetched RocksDB source)
#   make distclean      remove $(BUILD_DIR) entirely

MAKEFLAGS   += --no-print-directory

BUILD_DIR   ?= build
JOBS        ?= $(shell nproc)
BUILD_TYPE  ?= RelWithDebInfo
CMAKE_ARGS  ?=
CTEST_JOBS  ?= 2
CTEST_ARGS  ?=
# Further check steps: names of make targets run after the unit tests.
# `make check CHECK_EXTRA=` runs the unit tests only.
CHECK_EXTRA ?= fuzz-smoke crash-test
# make bench: BENCH picks the profile (default 13-18 min, quick 3-5 min, smoke
# seconds), CASES a comma-separated subset (groups or case names; see
# `python3 db_bench_ext/compare.py --list`), BENCH_ARGS anything else.
BENCH       ?= default
CASES       ?=
BENCH_ARGS  ?=
# BENCH_TOOL=linked: the segwal side runs build/db_bench (RocksDB's db_bench
# built from Debian's source package with segwal linked in, make
# db_bench_src) instead of LD_PRELOAD into /usr/bin/db_bench.
BENCH_TOOL  ?= preload
# Debian's python3 (python3-matplotlib for the plots), not one earlier on PATH.
PYTHON      ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

ROCKSDB_VERSION  := 7.8.3
ROCKSDB_SRC_ROOT := $(BUILD_DIR)/rocksdb-src
ROCKSDB_SRC      := $(ROCKSDB_SRC_ROOT)/rocksdb-$(ROCKSDB_VERSION)
LIBSEGWAL        := $(BUILD_DIR)/libsegwal.so
TOOL_BUILD        = db_bench_ext/build-rocksdb-tool.sh --src $(ROCKSDB_SRC) \
                    --segwal $(LIBSEGWAL) --jobs $(JOBS)

.PHONY: all build configure deps check unit-tests bench rocksdb-source \
        db_stress db_bench_src crash-test crash-test-long fuzz-build \
        fuzz-smoke fuzz check-sanitizers check-asan check-tsan micro-bench \
        clean distclean

all: build

deps:
	@.ci/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: $(BUILD_DIR)/CMakeCache.txt

# cmake --build re-runs the configure step itself when CMakeLists.txt or a
# globbed source directory changes (CONFIGURE_DEPENDS).
build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

CTEST = cd $(BUILD_DIR) && ctest --output-on-failure --no-tests=ignore \
        -j$(CTEST_JOBS) -L unit $(CTEST_ARGS)

unit-tests: build
	$(CTEST)

# After a successful build every step runs (a failed step does not hide the
# others' results); the last line is always a one-line summary, and the exit
# status is non-zero on any failure.
check:
	@rc=0; summary=""; \
	step() { name=$$1; shift; echo "=== check: $$name"; \
	  if "$$@"; then summary="$$summary $$name=PASS"; \
	  else summary="$$summary $$name=FAIL"; rc=1; fi; }; \
	step deps .ci/install-deps.sh; \
	step build $(MAKE) --no-print-directory build; \
	if [ $$rc -eq 0 ]; then \
	  n=$$(cd $(BUILD_DIR) && ctest -N -L unit | sed -n 's/^Total Tests: //p'); \
	  step "unit($${n:-0}_binaries)" sh -c '$(CTEST)'; \
	  for s in $(CHECK_EXTRA); do step $$s $(MAKE) --no-print-directory $$s; done; \
	fi; \
	if [ $$rc -eq 0 ]; then echo "=== CHECK PASSED:$$summary"; \
	else echo "=== CHECK FAILED:$$summary"; fi; \
	exit $$rc

BENCH_LINKED = $(filter linked,$(BENCH_TOOL))
BENCH_CMD = make bench$(if $(filter-out default,$(BENCH)), BENCH=$(BENCH))$(if $(CASES), CASES=$(CASES))$(if $(BENCH_LINKED), BENCH_TOOL=linked)$(if $(strip $(BENCH_ARGS)), BENCH_ARGS='$(strip $(BENCH_ARGS))')
bench: build $(if $(BENCH_LINKED),db_bench_src)
	$(PYTHON) db_bench_ext/compare.py --build-dir $(BUILD_DIR) --profile $(BENCH) \
	  $(if $(CASES),--cases $(CASES)) $(if $(BENCH_LINKED),--segwal-db-bench $(BUILD_DIR)/db_bench) \
	  --command "$(BENCH_CMD)" $(BENCH_ARGS)

rocksdb-source: deps
	.ci/fetch-rocksdb-source.sh $(ROCKSDB_SRC_ROOT)

db_stress: build rocksdb-source
	$(TOOL_BUILD) --out $(BUILD_DIR)/db_stress --objdir $(BUILD_DIR)/rocksdb-tools/db_stress db_stress
	@$(BUILD_DIR)/db_stress --help 2>&1 | grep -q -- '-fs_uri' \
	  || { echo "$(BUILD_DIR)/db_stress --help does not run" >&2; exit 1; }

db_bench_src: build rocksdb-source
	$(TOOL_BUILD) --out $(BUILD_DIR)/db_bench --objdir $(BUILD_DIR)/rocksdb-tools/db_bench db_bench
	@$(BUILD_DIR)/db_bench --help 2>&1 | grep -q -- '-fs_uri' \
	  || { echo "$(BUILD_DIR)/db_bench --help does not run" >&2; exit 1; }

# RocksDB's own crash test, db_stress's WAL in a shared segwal log.
DURATION ?= 180
INTERVAL ?= 30
MODE     ?= blackbox
OPTIONS  ?=
crash-test: db_stress
	tests/crash/crash_test.sh --db-stress $(BUILD_DIR)/db_stress \
	  --crashtest $(ROCKSDB_SRC)/tools/db_crashtest.py --mode $(MODE) \
	  --duration $(DURATION) --interval $(INTERVAL) --options "$(OPTIONS)" \
	  --work-dir $(abspath $(BUILD_DIR))/crash-work

# Every sync mode and compression in blackbox mode, then whitebox (kill
# points inside RocksDB), each for $(DURATION) seconds. On demand only.
CRASH_LONG_OPTIONS := sync_mode=always sync_mode=group sync_mode=interval \
                      compression=none compression=lz4 compression=zstd
crash-test-long: db_stress
	@set -e; for o in $(CRASH_LONG_OPTIONS); do \
	  echo "=== crash-test-long: blackbox $$o"; \
	  $(MAKE) --no-print-directory crash-test MODE=blackbox OPTIONS="$$o" \
	    DURATION=$(DURATION) INTERVAL=$(INTERVAL); done; \
	echo "=== crash-test-long: whitebox"; \
	$(MAKE) --no-print-directory crash-test MODE=whitebox OPTIONS="$(OPTIONS)" \
	  DURATION=$(DURATION) INTERVAL=$(INTERVAL)

# ---------------------------------------------------------------------------
# Fuzzing (clang + libFuzzer, ASan+UBSan), in its own build directory.
# ---------------------------------------------------------------------------
FUZZ_BUILD_DIR     ?= build-fuzz
FUZZ_SMOKE_SECONDS ?= 45
FUZZ_SECONDS       ?= 600
FUZZ_TARGETS       ?= fuzz_recovery fuzz_frame

$(FUZZ_BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_CXX_COMPILER=clang++ \
	  -DSEGWAL_FUZZ=ON -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

fuzz-build: deps $(FUZZ_BUILD_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzz_targets
	@mkdir -p $(FUZZ_BUILD_DIR)/seeds
	@$(FUZZ_BUILD_DIR)/make_seeds $(FUZZ_BUILD_DIR)/seeds/fuzz_recovery \
	  $(FUZZ_BUILD_DIR)/seeds/fuzz_frame

fuzz-smoke: fuzz-build
	tests/fuzz/run_fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz: fuzz-build
	tests/fuzz/run_fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---------------------------------------------------------------------------
# Sanitizers (gcc). RocksDB's system library is not instrumented: ASan+UBSan
# run every unit test but preload_test (it LD_PRELOADs libsegwal.so into
# stock, uninstrumented RocksDB tools); TSan runs the engine-only tests,
# since uninstrumented RocksDB internals give false reports.
# ---------------------------------------------------------------------------
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
# Tests that preload libsegwal.so into Debian's uninstrumented binaries
# (the ASan runtime must come first in such a process).
ASAN_SKIP      ?= preload_test bench_smoke
TSAN_TESTS     ?= format_test varint_test recovery_test crash_model_test \
                  engine_fault_test log_test log_follow_test group_commit_test \
                  decode_ahead_test adaptive_mutex_test mapped_write_test
TSAN_CRASH_ITERATIONS ?= 300
ASAN_CRASH_ITERATIONS ?= 1000
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_init_order=1 \
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

check-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DSEGWAL_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && $(SAN_ENV) \
	  SEGWAL_CRASH_ITERATIONS=$(ASAN_CRASH_ITERATIONS) ctest --output-on-failure -j$(CTEST_JOBS) \
	  -L unit -E '^($(subst $(eval) ,|,$(strip $(ASAN_SKIP))))$$'

check-tsan: deps
	cmake -S . -B $(TSAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DSEGWAL_SANITIZE=thread $(CMAKE_ARGS)
	@targets=""; for t in $(TSAN_TESTS); do \
	  [ -f tests/$$t.cc ] && targets="$$targets $$t"; done; \
	cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target $$targets
	@tests=""; for t in $(TSAN_TESTS); do \
	  [ -f tests/$$t.cc ] && tests="$$tests|$$t"; done; \
	cd $(TSAN_BUILD_DIR) && $(SAN_ENV) \
	  SEGWAL_CRASH_ITERATIONS=$(TSAN_CRASH_ITERATIONS) \
	  ctest --output-on-failure -j$(CTEST_JOBS) -L unit -R "^($${tests#|})$$"

check-sanitizers:
	@rc=0; s=$$(date +%s); \
	$(MAKE) --no-print-directory check-asan || rc=1; a=$$(date +%s); \
	$(MAKE) --no-print-directory check-tsan || rc=1; t=$$(date +%s); \
	echo "=== check-sanitizers: asan+ubsan $$((a-s))s, tsan $$((t-a))s: $$( [ $$rc -eq 0 ] && echo PASSED || echo FAILED)"; \
	exit $$rc

# The WAL-level group-commit benchmark and the sync-primitive measurement
# (db_bench_ext/); reports land in $(BUILD_DIR).
WAL_BENCH_ARGS ?=
wal-bench: build
	$(BUILD_DIR)/wal_flush_batch_bench --dir=$(BUILD_DIR)/wal_bench \
	  --output=$(BUILD_DIR)/wal_bench_report.md $(WAL_BENCH_ARGS)

# The engine's hot parts alone (Google Benchmark): checksums, frame codec,
# payload codecs, the group-commit barrier, a log's append path.
MICRO_BENCH_ARGS ?=
micro-bench: build
	$(BUILD_DIR)/micro_bench $(MICRO_BENCH_ARGS)

sync-primitive-bench: build
	$(BUILD_DIR)/sync_primitive_bench --dir=$(BUILD_DIR)/sync_primitive_bench.dir

clean:
	@if [ -d $(BUILD_DIR) ]; then \
	  find $(BUILD_DIR) -mindepth 1 -maxdepth 1 ! -name rocksdb-src -exec rm -rf {} +; fi

distclean:
	rm -rf $(BUILD_DIR)
