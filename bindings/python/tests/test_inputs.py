"""What a new user passes first: report paths and file objects, nested suites, the
package version, a TOML configuration."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import tmbridge

from rally_sim import ROOT

REPORT = ROOT / "tests" / "fixtures" / "publish" / "e2e-report.xml"
PHPUNIT = ROOT / "tests" / "corpus" / "junit" / "xunit-plugin" / "types__phpunit__testcase3__input.xml"


def test_a_report_is_read_from_a_path_or_a_file_object() -> None:
    expected = tmbridge.parse_junit(REPORT.read_bytes())
    assert tmbridge.parse_junit(REPORT) == expected
    with open(REPORT, "rb") as binary:
        assert tmbridge.parse_junit(binary) == expected
    assert tmbridge.parse_junit(io.StringIO(REPORT.read_text(encoding="utf-8"))) == expected
    events = list(tmbridge.read_junit(REPORT))
    assert sum(1 for e in events if e["event"] == "case") == expected["counts"]["tests"]


def test_a_file_name_in_a_str_is_refused_with_the_fix() -> None:
    with pytest.raises(TypeError) as info:
        tmbridge.parse_junit(str(REPORT))
    assert "pathlib.Path" in str(info.value)
    with pytest.raises(TypeError) as info:
        tmbridge.rally.publish("<testsuite/>", {}, dry_run=True)
    assert "bytes" in str(info.value)
    # A str that is XML is still XML, leading whitespace or not.
    assert tmbridge.parse_junit("\n  <testsuite name='s'><testcase name='t'/></testsuite>")["counts"]["tests"] == 1


def test_iter_cases_walks_every_nested_suite() -> None:
    report = tmbridge.parse_junit(PHPUNIT)
    one_level = [c for s in report["suites"] for c in s["cases"]]
    cases = list(tmbridge.iter_cases(report))
    assert one_level == [] and len(cases) == report["counts"]["tests"] == 75


def test_the_package_has_a_version() -> None:
    assert tmbridge.__version__ == tmbridge.version()["core"]


def test_a_toml_configuration_is_loaded(tmp_path: Path) -> None:
    config = tmbridge.load_config(ROOT / "tests" / "fixtures" / "publish" / "rally.toml")
    assert config["rally"]["api_key_env"] == "RALLY_API_KEY"
    assert tmbridge.validate_config(config, "rally") == []
    broken = tmp_path / "broken.toml"
    broken.write_text("[rally\nurl = 1\n")
    with pytest.raises(ValueError) as info:
        tmbridge.load_config(broken)
    assert "broken.toml" in str(info.value)


def test_template_errors_are_config_errors() -> None:
    config = tmbridge.load_config(ROOT / "tests" / "fixtures" / "publish" / "rally.toml")
    with pytest.raises(tmbridge.ConfigError) as info:
        tmbridge.rally.publish(REPORT, config, context={"pipeline_id": "1"}, secrets={"api_key": "k"}, dry_run=True)
    assert info.value.code.startswith("template.")
