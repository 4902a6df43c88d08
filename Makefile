# segwal: thin wrapper over CMake, plus RocksDB tool builds and benchmarks.
#
#   make / make build   configure (if needed) and build
#   make check          deps + build + unit tests (+ $(CHECK_EXTRA) steps)
#   make bench          deps + build + stock-vs-segwal db_bench comparison
#   make deps           install Debian packages (.ci/install-deps.sh)
#   make rocksdb-source fetch RocksDB's Debian source package
#   make db_stress      RocksDB's db_stress with libsegwal.so linked in
#   make db_bench_src   RocksDB's db_bench (from source) with libsegwal.so linked in
#   make crash-test     RocksDB's db_crashtest.py with the WAL in segwal
#                       (DURATION=seconds MODE=blackbox|whitebox OPTIONS=...)
#   make clean          remove build outputs (keeps the fetched RocksDB source)
#   make distclean      remove $(BUILD_DIR) entirely

MAKEFLAGS   += --no-print-directory

BUILD_DIR   ?= build
JOBS        ?= $(shell nproc)
BUILD_TYPE  ?= RelWithDebInfo
CMAKE_ARGS  ?=
CTEST_JOBS  ?= 2
CTEST_ARGS  ?=
# Further check steps: names of make targets run after the unit tests,
# e.g. `CHECK_EXTRA += crash-test`.
CHECK_EXTRA ?=
BENCH_ARGS  ?=

ROCKSDB_VERSION  := 7.8.3
ROCKSDB_SRC_ROOT := $(BUILD_DIR)/rocksdb-src
ROCKSDB_SRC      := $(ROCKSDB_SRC_ROOT)/rocksdb-$(ROCKSDB_VERSION)
LIBSEGWAL        := $(BUILD_DIR)/libsegwal.so
TOOL_BUILD        = db_bench_ext/build-rocksdb-tool.sh --src $(ROCKSDB_SRC) \
                    --segwal $(LIBSEGWAL) --jobs $(JOBS)

.PHONY: all build configure deps check unit-tests bench rocksdb-source \
        db_stress db_bench_src crash-test clean distclean

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

bench: build
	python3 db_bench_ext/compare.py --build-dir $(BUILD_DIR) $(BENCH_ARGS)

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

clean:
	@if [ -d $(BUILD_DIR) ]; then \
	  find $(BUILD_DIR) -mindepth 1 -maxdepth 1 ! -name rocksdb-src -exec rm -rf {} +; fi

distclean:
	rm -rf $(BUILD_DIR)
