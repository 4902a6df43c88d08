"""python3 -m bench (from db_bench_ext/): the same as db_bench_ext/compare.py."""
import sys

from .cli import main

sys.exit(main())
