"""Times tmbridge's Python binding and the parsers Python users pick instead, over one
JUnit file: `python python_peers.py FILE`. Prints one `name seconds` line per reader;
each reader visits every test case once (its name and status) so that the work is the
same. Run by scripts/bench.sh in a venv with the release wheel, lxml and junitparser."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, Tuple


def tmbridge_read_junit(path: Path) -> int:
    import tmbridge

    with open(path, "rb") as f:
        return sum(1 for e in tmbridge.read_junit(f) if e["event"] == "case")


def tmbridge_parse_junit(path: Path) -> int:
    import tmbridge

    return sum(1 for _ in tmbridge.iter_cases(tmbridge.parse_junit(path)))


def lxml_iterparse(path: Path) -> int:
    from lxml import etree

    n = 0
    for _, element in etree.iterparse(str(path), events=("end",), tag="testcase"):
        _ = (element.get("name"), element.find("failure") is not None)
        n += 1
        element.clear(keep_tail=False)
        # Free what lies before: what a streaming lxml reader must do to stay small.
        while element.getprevious() is not None:
            del element.getparent()[0]
    return n


def junitparser_read(path: Path) -> int:
    from junitparser import JUnitXml

    n = 0
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            _ = (case.name, case.result)
            n += 1
    return n


READERS: Tuple[Tuple[str, Callable[[Path], int]], ...] = (
    ("tmbridge.read_junit", tmbridge_read_junit),
    ("tmbridge.parse_junit", tmbridge_parse_junit),
    ("lxml.iterparse", lxml_iterparse),
    ("junitparser", junitparser_read),
)


def main() -> None:
    path = Path(sys.argv[1])
    only = sys.argv[2] if len(sys.argv) > 2 else None
    for name, reader in READERS:
        if only and name != only:
            continue
        start = time.perf_counter()
        cases = reader(path)
        print(f"{name} {time.perf_counter() - start:.3f} {cases}", flush=True)


if __name__ == "__main__":
    main()
