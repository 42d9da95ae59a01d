"""allure-results folders as input: parsed like JUnit, only the folder's own files read,
and published with their attachments."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tmbridge


def result(name: str, status: str, **extra: object) -> str:
    body = {
        "uuid": name,
        "historyId": name,
        "name": name,
        "fullName": f"tests.test_shop#{name}",
        "status": status,
        "start": 1717000000000,
        "stop": 1717000001500,
        "labels": [{"name": "suite", "value": "shop"}],
    }
    body.update(extra)
    return json.dumps(body)


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "allure-results"
    folder.mkdir()
    (folder / "a-result.json").write_text(result("pays", "passed"), encoding="utf-8")
    (folder / "b-result.json").write_text(
        result(
            "TC42 refunds",
            "broken",
            statusDetails={"message": "NullPointerException", "trace": "at Shop.refund"},
            attachments=[{"name": "screen", "source": "c-attachment.png", "type": "image/png"}],
            links=[{"type": "tms", "name": "C42", "url": "https://tms/C42"}],
        ),
        encoding="utf-8",
    )
    (folder / "c-attachment.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


def test_a_folder_reads_like_a_junit_report(results: Path) -> None:
    report = tmbridge.parse_allure(results)
    assert report["root"] == "allure"
    assert report["counts"]["tests"] == 2
    cases = {c["name"]: c for c in tmbridge.iter_cases(report)}
    assert cases["pays"]["status"] == "passed"
    assert cases["TC42 refunds"]["status"] == "error"  # broken
    assert cases["TC42 refunds"]["attachments"] == ["c-attachment.png"]
    assert cases["TC42 refunds"]["duration_us"] == 1_500_000


def test_files_given_as_pairs_read_the_same(results: Path) -> None:
    pairs = [(p.name, p.read_bytes()) for p in sorted(results.iterdir())]
    assert tmbridge.parse_allure(pairs) == tmbridge.parse_allure(results)


def test_a_symbolic_link_out_of_the_folder_is_not_read(results: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere-result.json"
    outside.write_text(result("smuggled", "failed"), encoding="utf-8")
    os.symlink(outside, results / "z-result.json")
    names = [c["name"] for c in tmbridge.iter_cases(tmbridge.parse_allure(results))]
    assert "smuggled" not in names and len(names) == 2


def test_a_folder_without_results_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(tmbridge.JunitError) as raised:
        tmbridge.parse_allure(tmp_path)
    assert raised.value.code == "allure.no_results"


def test_publish_takes_the_folder_and_its_attachments(results: Path) -> None:
    config = {"rally": {"url": "https://rally1.rallydev.com", "workspace": "/workspace/1", "project": "/project/2"},
              "matching": {"sources": ["name"]}}
    report = tmbridge.rally.publish(
        results, config, context={"pipeline_id": "7"}, secrets={"api_key": "k"}, dry_run=True
    )
    bodies = [r.get("body") or "" for r in report["dry_run_requests"]]
    assert any("AttachmentContent" in b for b in bodies), report
    assert any("\"TestCaseResult\"" in b for b in bodies), bodies  # the result of TC42
