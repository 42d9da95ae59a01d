"""Writes a JUnit report of N small test cases (the shape of a large unit-test suite:
short names, a failure every 20th case) to stdout: `python gen_small.py 100000`."""

from __future__ import annotations

import sys


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = sys.stdout
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="unit">\n')
    per_suite = 100
    for suite in range((n + per_suite - 1) // per_suite):
        out.write(f'<testsuite name="pkg{suite}.ModuleTest" tests="{per_suite}">\n')
        for case in range(per_suite):
            i = suite * per_suite + case
            if i >= n:
                break
            name = f"C{i + 1} test_{case}"
            if i % 20 == 7:
                out.write(f'<testcase classname="pkg{suite}.ModuleTest" name="{name}" time="0.002">'
                          f'<failure message="assert 1 == 2">AssertionError</failure></testcase>\n')
            else:
                out.write(f'<testcase classname="pkg{suite}.ModuleTest" name="{name}" time="0.001"/>\n')
        out.write("</testsuite>\n")
    out.write("</testsuites>\n")


if __name__ == "__main__":
    main()
