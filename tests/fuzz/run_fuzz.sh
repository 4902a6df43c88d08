#!/usr/bin/env bash
# Runs the libFuzzer targets built in BUILD_DIR (make fuzz-build):
#   run_fuzz.sh BUILD_DIR SECONDS [TARGET...]
# First every checked-in regression input (tests/fuzz/regressions/<target>/)
# once, then each target for SECONDS on its corpus (BUILD_DIR/corpus/<target>,
# kept between runs) plus the generated seeds (BUILD_DIR/seeds/<target>).
# Limits: -rss_limit_mb=2048 -malloc_limit_mb=512 (a bigger single
# allocation is a finding), -timeout=30 per input. A finding is written to
# BUILD_DIR/artifacts/<target>/ and fails the run.
set -euo pipefail
build=$1 seconds=$2; shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_recovery fuzz_frame)
src=$(cd "$(dirname "$0")" && pwd)
flags=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 -print_final_stats=1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
for t in "${targets[@]}"; do
  bin=$build/$t
  [ -x "$bin" ] || { echo "run_fuzz: no $bin (make fuzz-build)" >&2; exit 2; }
  art=$build/artifacts/$t
  mkdir -p "$build/corpus/$t" "$build/seeds/$t" "$art"
  regressions=("$src/regressions/$t"/*)
  if [ -e "${regressions[0]}" ]; then
    echo "=== fuzz: $t: ${#regressions[@]} regression inputs"
    if ! "$bin" "${flags[@]}" "${regressions[@]}" > "$art/regressions.log" 2>&1; then
      echo "run_fuzz: $t FAILED on a regression input:" >&2
      grep -E "^Running:|ERROR|SUMMARY|^[a-z].*:" "$art/regressions.log" | tail -20 >&2
      rc=1
      continue
    fi
  fi
  echo "=== fuzz: $t for ${seconds}s"
  start=$(date +%s)
  if "$bin" "${flags[@]}" -max_total_time="$seconds" \
       -artifact_prefix="$art/" "$build/corpus/$t" "$build/seeds/$t" \
       > "$art/fuzz.log" 2>&1; then
    stats=$(grep -E "^stat::(number_of_executed_units|new_units_added)" "$art/fuzz.log" \
            | sed 's/^stat:://' | tr '\n' ' ')
    echo "fuzz: $t: PASSED in $(( $(date +%s) - start ))s: $stats(corpus $(ls "$build/corpus/$t" | wc -l) inputs)"
  else
    echo "run_fuzz: $t FAILED (log $art/fuzz.log):" >&2
    grep -E "ERROR|SUMMARY|Test unit written|^ +#[0-9]+ .* in segwal" "$art/fuzz.log" | head -30 >&2
    rc=1
  fi
done
exit $rc
