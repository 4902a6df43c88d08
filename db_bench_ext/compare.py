#!/usr/bin/env python3
"""Stock RocksDB vs segwal: `make bench`'s entry point.

The code lives in db_bench_ext/bench/ (cases, runner, parse, stats, machine,
plots, report, cli); `python3 db_bench_ext/compare.py --help` lists the
options, `--list` the cases.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
