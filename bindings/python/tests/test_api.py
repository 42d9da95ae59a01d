"""The Python API: values, options, errors."""

from __future__ import annotations

import json

import pytest

import tmbridge

REPORT = """<?xml version="1.0"?>
<testsuite name="cart" tests="3">
  <testcase classname="shop.Cart" name="adds \u20ac" time="0.25"/>
  <testcase classname="shop.Cart" name="removes"><failure message="expected 0">trace</failure></testcase>
  <testcase classname="shop.Cart" name="later"><skipped/></testcase>
</testsuite>"""


def display(e: tmbridge.Error) -> str:
    """The core's Display, to check that str(e) is the core's text and nothing else."""
    at = "" if e.line is None else f"line {e.line}, column {e.column}: "
    hint = "" if e.hint is None else f"; hint: {e.hint}"
    return f"{at}{e.detail} [{e.code}]{hint}"


def test_parse_str_and_bytes_alike() -> None:
    from_text = tmbridge.parse_junit(REPORT)
    assert from_text == tmbridge.parse_junit(REPORT.encode("utf-8"))
    assert from_text == tmbridge.parse_junit(bytearray(REPORT.encode("utf-8")))
    assert from_text["counts"] == {"tests": 3, "passed": 1, "failed": 1, "errors": 0, "skipped": 1, "flaky": 0}
    first = from_text["suites"][0]["cases"][0]
    assert first["name"] == "adds \u20ac"
    assert first["duration_us"] == 250000
    assert first["system_out"] is None
    assert from_text["suites"][0]["cases"][1]["message"] == "expected 0"


def test_options_reach_the_reader() -> None:
    xml = '<testsuite name="s"><testcase name="a"><system-out>0123456789</system-out></testcase></testsuite>'
    report = tmbridge.parse_junit(xml, {"max_captured_bytes": 4})
    assert report["suites"][0]["cases"][0]["system_out"] == {"text": "0123", "truncated": True, "original_bytes": 10}


def test_errors_carry_the_core_text_code_and_position() -> None:
    with pytest.raises(tmbridge.JunitError) as info:
        tmbridge.parse_junit(b'<testsuite name="\xe9"/>')
    e = info.value
    assert isinstance(e, tmbridge.Error)
    assert (e.code, e.line, e.column, e.offset) == ("junit.invalid_utf8", 1, 18, 17)
    assert isinstance(e.hint, str)
    assert str(e) == display(e)


def test_input_errors() -> None:
    with pytest.raises(tmbridge.InputError) as info:
        tmbridge.call("junit.pars", {"xml": "<a/>"})
    assert info.value.code == "ops.unknown_op"
    assert "junit.parse" in (info.value.hint or "")
    with pytest.raises(tmbridge.InputError) as info:
        tmbridge.call("junit.parse", {"xml": "<testsuite/>", "extra": 1})
    assert info.value.code == "ops.invalid_input"
    with pytest.raises(tmbridge.JunitError) as junit:
        tmbridge.parse_junit("")
    assert junit.value.code == "junit.empty_input"
    with pytest.raises(TypeError):
        tmbridge.call_json("ops.list", 42)  # type: ignore[arg-type]


def test_error_classes_by_area() -> None:
    assert tmbridge.error_class_for("rally_query.unexpected_token") is tmbridge.RallyQueryError
    assert tmbridge.error_class_for("autofill.empty_schema") is tmbridge.AutofillError
    assert tmbridge.error_class_for("status.unknown") is tmbridge.ConfigError
    assert tmbridge.error_class_for("something.new") is tmbridge.Error


def test_call_json_is_the_envelope_text() -> None:
    input_json = json.dumps({"xml": REPORT})
    a = tmbridge.call_json("junit.parse", input_json)
    assert a == tmbridge.call_json("junit.parse", input_json.encode("utf-8"))
    assert a == tmbridge.call_json("junit.parse", "{}", REPORT.encode("utf-8"))
    assert a.startswith('{"ok":{"root":"testsuite"')
    assert tmbridge.call_json("nope").startswith('{"ok":null,"error":{"code":"ops.unknown_op"')


def test_list_ops_and_version() -> None:
    ops = tmbridge.list_ops()
    parse = next(o for o in ops if o["name"] == "junit.parse")
    assert parse["document"] == "xml" and parse["output"] == "Report"
    assert len({o["name"] for o in ops}) == len(ops)
    assert tmbridge.version()["ops"] == len(ops)
