#!/usr/bin/env bash
# Runs RocksDB's own crash test (tools/db_crashtest.py) with db_stress's WAL
# in segwal: every db_stress run is killed at random and the next one checks
# that nothing acknowledged was lost.
#
#   crash_test.sh --db-stress PATH --crashtest PATH/db_crashtest.py
#                 [--mode blackbox|whitebox] [--duration SECONDS]
#                 [--interval SECONDS] [--options "sync_mode=group;..."]
#                 [--work-dir DIR] [-- extra db_crashtest.py flags]
#
# The log is shared (log_dir) and fresh for each invocation: db_crashtest.py
# removes its DB directory itself, behind the FileSystem's back.
set -euo pipefail

db_stress="" crashtest="" mode=blackbox duration=180 interval=30 options=""
work_root="${TMPDIR:-/tmp}"
while [ $# -gt 0 ]; do
  case "$1" in
    --db-stress) db_stress=$2; shift 2 ;;
    --crashtest) crashtest=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --options) options=$2; shift 2 ;;
    --work-dir) work_root=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "crash_test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$db_stress" ] || { echo "crash_test.sh: no db_stress at '$db_stress'" >&2; exit 2; }
[ -f "$crashtest" ] || { echo "crash_test.sh: no db_crashtest.py at '$crashtest'" >&2; exit 2; }

mkdir -p "$work_root"
work=$(mktemp -d "$work_root/segwal-crash.XXXXXX")
mkdir -p "$work/tmp"
log_dir="$work/segwal-log"
fs_uri="id=segwal;log_dir=$log_dir${options:+;$options}"

echo "crash-test: mode=$mode duration=${duration}s interval=${interval}s"
echo "crash-test: fs_uri=$fs_uri"
# On two cores the default key space spends each interval verifying.
set +e +o pipefail
TEST_TMPDIR="$work/tmp" python3 "$crashtest" "$mode" \
  --stress_cmd="$db_stress" --duration="$duration" --interval="$interval" \
  --max_key=1000000 --fs_uri="$fs_uri" "$@" 2>&1 | tee "$work/crashtest.out" \
  | grep --line-buffered -E "^(Running|KILLED|WARNING|Exit|stderr has|\*\*\*|check_mode=|Crashing at|TEST FAILED)" \
  | sed -u -E 's/^(Running db_stress with pid=[0-9]+).*/\1/'
status=${PIPESTATUS[0]}
set -e -o pipefail
if [ "$status" -ne 0 ]; then
  echo "crash-test: FAILED (db_crashtest.py exit $status); output kept in $work/crashtest.out" >&2
  tail -40 "$work/crashtest.out" >&2
  exit 1
fi
# db_crashtest.py only prints what a run wrote to stderr; any of it that is
# not a warning is a failure here.
if grep -q "^stderr has error message" "$work/crashtest.out"; then
  echo "crash-test: FAILED: db_stress reported errors; output kept in $work/crashtest.out" >&2
  exit 1
fi
runs=$(grep -c "^Running db_stress" "$work/crashtest.out" || true)
segments=$(find "$log_dir" -name '*.seg' | wc -l)
if [ "$runs" -lt 2 ]; then
  # The first run is only killed; a later one verifies what it left.
  echo "crash-test: FAILED: $runs db_stress run(s) in ${duration}s: no kill was" \
    "followed by a verifying run; give it a longer DURATION (a whitebox run" \
    "lasts until a RocksDB kill point fires)" >&2
  exit 1
fi
if [ "$segments" -eq 0 ]; then
  echo "crash-test: FAILED: no segment files in $log_dir: the WAL was not in segwal" >&2
  exit 1
fi
if [ "$mode" = whitebox ]; then
  # TEST_KILL_RANDOM in the (non-NDEBUG) librocksdb prints this, then
  # SIGTERMs itself: exit code -15 in db_crashtest.py's report.
  kills=$(grep -c "^Crashing at" "$work/crashtest.out" || true)
  echo "crash-test: whitebox: $kills db_stress runs died at a RocksDB kill point:"
  grep "^Crashing at" "$work/crashtest.out" | sed 's/^/  /' | sort | uniq -c || true
fi
echo "crash-test: PASSED: $runs db_stress runs killed and verified, WAL in $segments segments"
rm -rf "$work"
