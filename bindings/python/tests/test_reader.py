"""The streaming JUnit reader as a Python iterator."""

from __future__ import annotations

import io
from pathlib import Path
from typing import List

import pytest

import tmbridge

REPORT = """<?xml version="1.0"?>
<testsuite name="cart" tests="3">
  <testcase classname="shop.Cart" name="adds \u20ac" time="0.25"/>
  <testcase classname="shop.Cart" name="removes"><failure message="expected 0">trace</failure></testcase>
  <testcase classname="shop.Cart" name="later"><skipped/></testcase>
</testsuite>"""
TRUNCATED = '<testsuite name="s"><testcase name="a"/><testcase name="b"><failure>cut'


def whole() -> List[tmbridge.types.JunitEvent]:
    return tmbridge.junit_events(REPORT)


def test_same_events_from_str_bytes_and_files(tmp_path: Path) -> None:
    assert [e["event"] for e in whole()] == [
        "report_start", "suite_start", "case", "case", "case", "suite_end", "report_end",
    ]
    assert list(tmbridge.read_junit(REPORT)) == whole()
    assert list(tmbridge.JunitReader(REPORT.encode("utf-8"))) == whole()
    path = tmp_path / "report.xml"
    path.write_text(REPORT, encoding="utf-8")
    with open(path, "rb") as binary:
        assert list(tmbridge.read_junit(binary)) == whole()
    with open(path, encoding="utf-8") as text:
        assert list(tmbridge.read_junit(text)) == whole()


class Trickle(io.RawIOBase):
    """Returns at most 3 bytes per read, splitting multi-byte characters."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.sizes = data, 0, []  # type: List[int]

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.sizes.append(size)
        chunk = self.data[self.at : self.at + 3]
        self.at += len(chunk)
        return chunk


def test_reads_a_file_object_in_chunks() -> None:
    source = Trickle(REPORT.encode("utf-8"))
    assert list(tmbridge.read_junit(source)) == whole()
    assert len(source.sizes) > 10 and all(s > 0 for s in source.sizes)


def test_events_before_an_error_then_the_error() -> None:
    seen = []
    with pytest.raises(tmbridge.JunitError) as info:
        for event in tmbridge.read_junit(TRUNCATED):
            seen.append(event["name"] if event["event"] == "case" else event["event"])
    assert seen == ["report_start", "suite_start", "a"]
    assert info.value.code == "junit.truncated" and info.value.line == 1


def test_stays_done_after_the_end_and_after_errors() -> None:
    reader = tmbridge.read_junit(REPORT)
    assert len(list(reader)) == 7
    assert list(reader) == []
    failing = tmbridge.read_junit(TRUNCATED)
    with pytest.raises(tmbridge.JunitError):
        list(failing)
    assert list(failing) == []


def test_the_exception_of_read_is_the_cause() -> None:
    class Broken:
        def read(self, size: int) -> bytes:
            raise OSError("disk gone")

    with pytest.raises(tmbridge.JunitError) as info:
        list(tmbridge.read_junit(Broken()))  # type: ignore[arg-type]
    assert info.value.code == "junit.io"
    assert isinstance(info.value.__cause__, OSError)
    assert "disk gone" in str(info.value)


def test_bad_options_on_first_step_bad_sources_at_once() -> None:
    reader = tmbridge.read_junit(REPORT, {"max_depth": "deep"})  # type: ignore[typeddict-item]
    with pytest.raises(tmbridge.InputError) as info:
        next(reader)
    assert info.value.code == "ops.invalid_input"
    with pytest.raises(StopIteration):
        next(reader)
    with pytest.raises(TypeError):
        tmbridge.read_junit(42)  # type: ignore[arg-type]
