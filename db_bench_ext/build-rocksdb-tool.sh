#!/usr/bin/env bash
# Build one of RocksDB's own tools (db_stress, db_bench) from the Debian source
# package against the SYSTEM librocksdb, optionally with libsegwal.so linked in
# (-Wl,--no-as-needed, so its static registration runs and --fs_uri=segwal...
# works).
#
# Usage:
#   db_bench_ext/build-rocksdb-tool.sh [options] db_stress|db_bench
# Options:
#   --src DIR       RocksDB 7.8.3 source tree (from .ci/fetch-rocksdb-source.sh)
#   --out FILE      output binary                (default: ./<tool>)
#   --objdir DIR    object directory             (default: <out>.objs)
#   --segwal FILE   libsegwal.so to link in, or "none" for a stock tool
#   --jobs N        parallel compiles            (default: nproc)
#
# Compile flags match Debian's librocksdb build. NDEBUG is never defined: the
# library was built without it, and internal struct layouts depend on it.
# Internal headers come from the source tree (-I<src>); public headers
# (rocksdb/...) from the system's /usr/include, which is the same version
# (checked below).
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

SRC='' OUT='' OBJDIR='' SEGWAL=none JOBS=$(nproc) TOOL=''
while [ $# -gt 0 ]; do
  case "$1" in
    --src) SRC=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --objdir) OBJDIR=$2; shift 2 ;;
    --segwal) SEGWAL=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) TOOL=$1; shift ;;
  esac
done
if [ -z "$TOOL" ] || [ -z "$SRC" ]; then usage; fi
[ -f "$SRC/src.mk" ] || { echo "build-rocksdb-tool: $SRC is not a RocksDB source tree (run make rocksdb-source)" >&2; exit 1; }
SRC=$(cd "$SRC" && pwd)
OUT=${OUT:-./$TOOL}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
OBJDIR=${OBJDIR:-$OUT.objs}
CXX=${CXX:-g++}

# Print a variable from RocksDB's src.mk (the authoritative source lists).
srcmk_var() {
  # shellcheck disable=SC2016  # $(VAR) is make syntax
  printf 'include %s/src.mk\nprint:\n\t@echo $(%s)\n' "$SRC" "$1" | make -s --no-print-directory -f - print
}

case "$TOOL" in
  db_stress)
    read -r -a SOURCES <<<"$(srcmk_var STRESS_LIB_SOURCES)"
    SOURCES+=(db_stress_tool/db_stress.cc) ;;
  db_bench)
    SOURCES=(tools/db_bench_tool.cc tools/simulated_hybrid_file_system.cc tools/db_bench.cc) ;;
  *) echo "build-rocksdb-tool: unsupported tool '$TOOL' (db_stress|db_bench)" >&2; exit 2 ;;
esac
[ "${#SOURCES[@]}" -gt 1 ] || { echo "build-rocksdb-tool: no sources found for $TOOL" >&2; exit 1; }

if ! diff -rq "$SRC/include/rocksdb" /usr/include/rocksdb >/dev/null 2>&1; then
  echo "build-rocksdb-tool: WARNING: $SRC/include/rocksdb differs from /usr/include/rocksdb" \
       "(source tree and librocksdb-dev versions do not match)" >&2
fi

CXXFLAGS=(
  -std=gnu++17 -O2 -g -fno-omit-frame-pointer -pthread -w -UNDEBUG
  -DOS_LINUX -DROCKSDB_PLATFORM_POSIX -DROCKSDB_LIB_IO_POSIX
  -DROCKSDB_FALLOCATE_PRESENT -DROCKSDB_MALLOC_USABLE_SIZE
  -DROCKSDB_NO_DYNAMIC_EXTENSION -DROCKSDB_PTHREAD_ADAPTIVE_MUTEX
  -DROCKSDB_RANGESYNC_PRESENT -DROCKSDB_SCHED_GETCPU_PRESENT
  -DGFLAGS=1 -DZSTD -DLZ4 -DSNAPPY -DZLIB -DBZIP2
  -I"$SRC"
)
LIBS=(-lrocksdb -lgflags -lsnappy -lz -lbz2 -llz4 -lzstd -lpthread -ldl)

# Rebuild everything if the compiler or flags changed.
mkdir -p "$OBJDIR"
STAMP="$OBJDIR/.flags"
want="$CXX ${CXXFLAGS[*]}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  find "$OBJDIR" -name '*.o' -delete
  printf '%s' "$want" > "$STAMP"
fi

# Compile out-of-date objects in parallel.
todo=()
OBJS=()
for s in "${SOURCES[@]}"; do
  o="$OBJDIR/${s%.cc}.o"
  OBJS+=("$o")
  if [ ! -f "$o" ] || [ "$SRC/$s" -nt "$o" ]; then
    todo+=("$s")
  fi
done

start=$(date +%s)
if [ "${#todo[@]}" -gt 0 ]; then
  echo "build-rocksdb-tool: compiling ${#todo[@]} files for $TOOL with $JOBS jobs"
  export CXX SRC OBJDIR
  # shellcheck disable=SC2016  # expanded by the inner bash
  printf '%s\n' "${todo[@]}" | xargs -P "$JOBS" -I{} bash -c '
    s="$1"; o="$OBJDIR/${s%.cc}.o"; mkdir -p "$(dirname "$o")"
    echo "  CXX $s"
    "$CXX" "${@:2}" -c "$SRC/$s" -o "$o.tmp" && mv "$o.tmp" "$o"
  ' _ {} "${CXXFLAGS[@]}"
fi

LINK_SEGWAL=()
if [ "$SEGWAL" != none ]; then
  [ -f "$SEGWAL" ] || { echo "build-rocksdb-tool: $SEGWAL not found (build segwal first)" >&2; exit 1; }
  SEGWAL=$(cd "$(dirname "$SEGWAL")" && pwd)/$(basename "$SEGWAL")
  # --no-as-needed: keep the DT_NEEDED entry although no symbol is referenced,
  # so segwal's static registration runs at start-up.
  # shellcheck disable=SC2054  # commas belong to the linker flags
  LINK_SEGWAL=(-Wl,--no-as-needed "$SEGWAL" -Wl,-rpath,"$(dirname "$SEGWAL")")
fi

echo "  LD  $OUT"
"$CXX" -pthread -o "$OUT.tmp" "${OBJS[@]}" "${LINK_SEGWAL[@]}" -Wl,--no-as-needed "${LIBS[@]}"
mv "$OUT.tmp" "$OUT"
echo "build-rocksdb-tool: built $OUT in $(( $(date +%s) - start ))s" \
     "(segwal: $([ "$SEGWAL" = none ] && echo no || echo "$SEGWAL"))"
