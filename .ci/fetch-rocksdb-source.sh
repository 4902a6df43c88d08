#!/usr/bin/env bash
# Fetch RocksDB's Debian source package (matching the installed librocksdb-dev)
# into DESTDIR. Debian's librocksdb-dev ships only headers and the library; the
# source package has db_stress, db_crashtest.py and the db_bench sources.
#
# Usage: .ci/fetch-rocksdb-source.sh DESTDIR
# Result: DESTDIR/rocksdb-<upstream version>/ (e.g. rocksdb-7.8.3)
#
# The deb-src entries are derived from the system's own apt sources (no
# registry address is written anywhere) and live in a temporary directory, so
# the system's apt configuration and package lists are left untouched.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DESTDIR" >&2
  exit 2
fi
mkdir -p "$1"
DESTDIR=$(cd "$1" && pwd)

# Version to fetch: the source version of the installed librocksdb-dev.
SRC_VERSION=$(dpkg-query -W -f='${source:Version}' librocksdb-dev 2>/dev/null || true)
UPSTREAM=${SRC_VERSION#*:}; UPSTREAM=${UPSTREAM%-*}
UPSTREAM=${UPSTREAM:-7.8.3}
SRCDIR="$DESTDIR/rocksdb-$UPSTREAM"

if [ -f "$SRCDIR/tools/db_crashtest.py" ] && [ -f "$SRCDIR/src.mk" ]; then
  echo "fetch-rocksdb-source: already present: $SRCDIR"
  exit 0
fi

for tool in apt-get dpkg-source; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fetch-rocksdb-source: '$tool' missing; run .ci/install-deps.sh (needs dpkg-dev)" >&2
    exit 1
  }
done

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/lists/partial"

# Turn the system's binary entries into source entries.
shopt -s nullglob
n=0
for f in /etc/apt/sources.list.d/*.sources; do
  sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$f" > "$TMP/$(basename "$f")"
  n=$((n + 1))
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" > "$TMP/$(basename "$f" .list)-src.list"
  n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
  echo "fetch-rocksdb-source: no apt sources found under /etc/apt" >&2
  exit 1
fi

# Run apt's download sandbox as root: the temp dir and DESTDIR need not be
# accessible to the _apt user (avoids the harmless "couldn't be accessed by
# user '_apt'" warning).
APT=("${SUDO[@]}" apt-get -q
  -o Dir::Etc::SourceList=/dev/null
  -o Dir::Etc::SourceParts="$TMP"
  -o Dir::State::Lists="$TMP/lists"
  -o APT::Sandbox::User=root)

echo "fetch-rocksdb-source: updating source index (temporary)"
"${APT[@]}" update >"$TMP/update.log" 2>&1 || { cat "$TMP/update.log" >&2; exit 1; }

spec=rocksdb
[ -n "$SRC_VERSION" ] && spec="rocksdb=$SRC_VERSION"
echo "fetch-rocksdb-source: apt-get source $spec into $DESTDIR"
(
  cd "$DESTDIR"
  "${APT[@]}" source "$spec" 2>&1 | grep -v "couldn't be accessed by user '_apt'" || true
)
if [ -n "${SUDO[*]}" ]; then
  "${SUDO[@]}" chown -R "$(id -u):$(id -g)" "$DESTDIR"
fi

if [ ! -f "$SRCDIR/tools/db_crashtest.py" ]; then
  echo "fetch-rocksdb-source: FAILED: $SRCDIR/tools/db_crashtest.py not found" >&2
  exit 1
fi
echo "fetch-rocksdb-source: ok: $SRCDIR"
