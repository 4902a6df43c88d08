#!/usr/bin/python3
"""Parses a Prometheus text exposition file with prometheus_client (Debian's
python3-prometheus-client), the parser scrapers use, and prints what it
understood, one item a line, for the C++ tool tests:

  family<TAB><name><TAB><type>
  sample<TAB><name>{<label>=<value>,...}<TAB><value>   (labels sorted)

Exits 1 with the parser's message if the text does not parse, or holds no
family at all.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    path = sys.argv[1]
    text = sys.stdin.read() if path == "-" else open(path).read()
    families = 0
    try:
        for family in text_string_to_metric_families(text):
            families += 1
            print("family\t%s\t%s" % (family.name, family.type))
            for s in family.samples:
                labels = ",".join("%s=%s" % (k, v)
                                  for k, v in sorted(s.labels.items()))
                print("sample\t%s{%s}\t%r" % (s.name, labels, s.value))
    except Exception as e:  # the parser raises ValueError and others
        print("parse error: %s" % e, file=sys.stderr)
        return 1
    if families == 0:
        print("no metric family in %s" % path, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
