#!/usr/bin/env python3
"""Recovery time of a compressed log against an uncompressed one: DB::Open
replaying the same logical WAL (db_open_bench --compressible: values as
db_bench's at --compression_ratio=0.5) from segwal logs written with each
codec, warm cache. One DB per codec is prepared once; then each round
opens every DB once (one db_open_bench process per open, the order
alternating round by round). Prints the median open time (wall, and CPU
time of the process during the open, which a shared machine disturbs
less) per codec and the median of the per-round ratios to the first
codec.

  python3 db_bench_ext/recovery_pairs.py --pairs 5 [--codecs none,lz4,zstd]
      [--wal-bytes 134217728] [--value-size 512] [--cache warm|cold]
      [--prepare/--no-prepare] [--perf CODEC]

--perf CODEC runs one more open of that codec's DB under `perf record -g`
(perf.data in the work directory) after the rounds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def bench(args, codec, extra, perf=False):
    cmd = [args.db_open_bench, f"--dir={os.path.join(args.work, codec)}",
           f"--wal_bytes={args.wal_bytes}", f"--value_size={args.value_size}",
           "--compressible", "--sides=segwal",
           f"--segwal_uri=id=segwal;compression={codec}"] + extra
    if perf:
        cmd = ["perf", "record", "-g", "-o",
               os.path.join(args.work, f"perf-{codec}.data"), "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()
            if line.startswith("{")]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--codecs", default="none,lz4,zstd")
    p.add_argument("--wal-bytes", type=int, default=128 << 20)
    p.add_argument("--value-size", type=int, default=512)
    p.add_argument("--cache", default="warm", choices=["warm", "cold"])
    p.add_argument("--prepare", action=argparse.BooleanOptionalAction,
                   default=True, help="write the DBs first (else reuse "
                   "those a run with the same --work left)")
    p.add_argument("--perf", default="", help="profile one more open")
    p.add_argument("--db-open-bench",
                   default=os.path.join(HERE, "..", "build", "db_open_bench"))
    p.add_argument("--work", default="/tmp/segwal-recovery-pairs")
    args = p.parse_args()
    args.db_open_bench = os.path.abspath(args.db_open_bench)
    codecs = args.codecs.split(",")
    os.makedirs(args.work, exist_ok=True)
    if args.prepare:
        for c in codecs:
            for line in bench(args, c, ["--rounds=0"]):
                if line.get("what") == "prepare":
                    print(f"prepared {c}: {line['keys']} keys, "
                          f"{line['bytes'] / 2**20:.0f} MiB in "
                          f"{line['ms']:.0f} ms", flush=True)
    times = {c: [] for c in codecs}
    cpu = {c: [] for c in codecs}
    for r in range(args.pairs):
        for c in codecs if r % 2 == 0 else list(reversed(codecs)):
            lines = bench(args, c, ["--prepare=false", "--rounds=1",
                                    f"--cache={args.cache}"])
            line = next(x for x in lines if x.get("what") == "open")
            times[c].append(line["open_ms"])
            cpu[c].append(line["open_cpu_ms"])
        print(f"round {r + 1}: " + "  ".join(
            f"{c} {times[c][-1]:.0f} ms (cpu {cpu[c][-1]:.0f})"
            for c in codecs), flush=True)
    base = codecs[0]
    print(f"\nDB::Open, {args.wal_bytes / 2**20:.0f} MiB of WAL, "
          f"{args.cache} cache, medians of {args.pairs} interleaved rounds")
    for what, t in (("wall", times), ("cpu", cpu)):
        for c in codecs:
            r = [a / b for a, b in zip(t[c], t[base])]
            print(f"  {what:4s} {c:6s} {statistics.median(t[c]):8.0f} ms  "
                  f"per-round ratio to {base} x{statistics.median(r):.3f} "
                  f"({min(r):.3f}-{max(r):.3f})")
    if args.perf:
        bench(args, args.perf, ["--prepare=false", "--rounds=1",
                                f"--cache={args.cache}"], perf=True)
        print(f"perf data: {args.work}/perf-{args.perf}.data")


if __name__ == "__main__":
    sys.exit(main())
