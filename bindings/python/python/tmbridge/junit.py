"""Walking a parsed report: every test case of every suite, at any depth."""

from __future__ import annotations

from typing import Iterator

from .types import Report, Suite, TestCase

__all__ = ["iter_cases"]


def iter_cases(report: Report) -> Iterator[TestCase]:
    """Every test case of ``parse_junit``'s report, suite by suite, however deeply
    its suites nest (PHPUnit nests one suite per class inside one per file)."""
    for suite in report["suites"]:
        yield from _suite_cases(suite)


def _suite_cases(suite: Suite) -> Iterator[TestCase]:
    yield from suite["cases"]
    for child in suite["suites"]:
        yield from _suite_cases(child)
