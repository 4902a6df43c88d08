#!/usr/bin/env bash
# Install every Debian package segwal needs to build, test and benchmark.
# Idempotent and fast when everything is already installed: apt-get is only
# invoked when dpkg-query reports a package missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake make pkg-config
  librocksdb-dev rocksdb-tools
  libgflags-dev libgtest-dev libgmock-dev libbenchmark-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libbz2-dev
  python3 clang
  # the tool tests parse metrics files with a real Prometheus text parser
  python3-prometheus-client
  # the plots of make bench's report
  python3-matplotlib
  # libFuzzer and sanitizer runtimes for clang (make fuzz, fuzz-smoke)
  libclang-rt-dev
  # needed by .ci/fetch-rocksdb-source.sh (apt-get source unpacks with dpkg-source)
  dpkg-dev xz-utils patch
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$status" in
    ii*) ;;
    *) missing+=("$p") ;;
  esac
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi

echo "install-deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
