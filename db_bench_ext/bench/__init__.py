"""`make bench`: stock RocksDB against segwal, the report a user reads first.

Modules:
  cases    what is measured: cases, their variants, the profiles
  runner   runs db_bench and the db_bench_ext programs, interleaved, with
           progress and an estimate of the time left
  parse    reads db_bench output, histograms, RocksDB statistics and
           segwal's LOG lines
  stats    medians, spreads and per-pair ratios
  machine  what the machine and the software are
  plots    the PNG figures (matplotlib)
  report   the Markdown report and the terminal summary
  cli      the command line (db_bench_ext/compare.py, python3 -m bench)
"""
