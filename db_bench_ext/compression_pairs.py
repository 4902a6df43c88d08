#!/usr/bin/env python3
"""Issue 17's WAL-compression measurement: db_bench fillrandom with stock
RocksDB (uncompressed, wal_compression=zstd) and segwal (none, lz4, zstd),
runs interleaved round by round, medians over the rounds.

Bytes: stock's .log files left (a 1 GiB memtable: no WAL is deleted),
segwal's frame bytes (frame_bytes= in the log's LOG at close). CPU: user
plus system time of the db_bench process per write (a shared machine
disturbs it less than the throughput; it includes db_bench's start and
end).

  python3 db_bench_ext/compression_pairs.py --pairs 5 [--sync 0|1]
      [--num 100000] [--value-size 512] [--variants a,b,...] [--extra 'k=v;...']

A segwal variant may name more options after a colon, e.g.
--variants stock,segwal_lz4,segwal_lz4:compression_level=8 compares two
lz4 levels in the same interleaved rounds. Ratios are to the first variant.
"""
import argparse
import glob
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = {
    "stock": ([], None),
    "stock_zstd": (["--wal_compression=zstd"], None),
    "segwal": ([], "compression=none"),
    "segwal_lz4": ([], "compression=lz4"),
    "segwal_zstd": ([], "compression=zstd"),
}


def run(args, name, work):
    base, _, more = name.partition(":")
    flags, fs = VARIANTS[base]
    if more:
        if fs is None:
            sys.exit(f"variant {name}: options are for segwal variants only")
        fs += ";" + more
    db = os.path.join(work, "db")
    shutil.rmtree(db, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    cmd = [args.db_bench, "--benchmarks=fillrandom", f"--num={args.num}",
           f"--value_size={args.value_size}", "--compression_ratio=0.5",
           f"--sync={args.sync}", f"--db={db}",
           "--write_buffer_size=1073741824"] + flags
    env = dict(os.environ)
    if fs is not None:
        opts = fs + (";" + args.extra if args.extra else "")
        cmd.append(f"--fs_uri=id=segwal;{opts}")
        env["LD_PRELOAD"] = args.libsegwal
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_us = 1e6 * (after.ru_utime + after.ru_stime - before.ru_utime -
                    before.ru_stime) / args.num
    ops = float(re.search(r"fillrandom\s*:\s*\S+ micros/op (\d+) ops/sec",
                          out).group(1))
    if fs is None:
        size = sum(os.path.getsize(p) for p in glob.glob(db + "/*.log"))
    else:
        text = open(os.path.join(db, "segwal", "LOG")).read()
        size = int(re.findall(r"frame_bytes=(\d+)", text)[-1])
    return ops, size, cpu_us


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--num", type=int, default=100000)
    p.add_argument("--value-size", type=int, default=512)
    p.add_argument("--sync", type=int, default=0)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--extra", default="", help="more segwal options")
    p.add_argument("--db-bench", default="/usr/bin/db_bench")
    p.add_argument("--libsegwal",
                   default=os.path.join(HERE, "..", "build", "libsegwal.so"))
    p.add_argument("--work", default="/tmp/segwal-compression-pairs")
    args = p.parse_args()
    args.libsegwal = os.path.abspath(args.libsegwal)
    names = args.variants.split(",")
    results = {n: [] for n in names}
    for r in range(args.pairs):
        order = names if r % 2 == 0 else list(reversed(names))
        for n in order:
            results[n].append(run(args, n, args.work))
        print(f"round {r + 1}: " + "  ".join(
            f"{n} {results[n][-1][0]:.0f}/s {results[n][-1][1] / 1e6:.2f}MB "
            f"{results[n][-1][2]:.2f}us"
            for n in names), flush=True)
    print(f"\nmedians of {args.pairs} interleaved rounds, num={args.num} "
          f"value_size={args.value_size} sync={args.sync}")
    base = names[0]
    for n in names:
        ops = statistics.median(r[0] for r in results[n])
        size = statistics.median(r[1] for r in results[n])
        cpu = statistics.median(r[2] for r in results[n])
        ratio_ops = statistics.median(
            a[0] / b[0] for a, b in zip(results[n], results[base]))
        ratio_bytes = statistics.median(
            a[1] / b[1] for a, b in zip(results[n], results[base]))
        ratio_cpu = statistics.median(
            a[2] / b[2] for a, b in zip(results[n], results[base]))
        print(f"  {n:12s} {ops:9.0f} ops/s {size / 1e6:7.2f} MB "
              f"{cpu:6.2f} us cpu/op  vs {base}: ops x{ratio_ops:.3f} "
              f"bytes x{ratio_bytes:.3f} cpu x{ratio_cpu:.3f}")
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
