"""The whole story in a few lines: parse a report, map it to Rally, auto-fill a defect
for a failed test; plus the Rally query, GitLab and configuration functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tmbridge

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"
CONTEXT = {"now": "2024-05-14T09:30:00Z", "pipeline_id": "4242", "sha": "8f3c2a1d9e7b", "sprint": "14"}
RALLY_CONFIG = {
    "matching": {"sources": ["mapping", "property"], "properties": ["rally_id"]},
    "rally": {
        "workspace": "/workspace/1001",
        "project": "/project/2002",
        "tester": "/user/3003",
        "build": "shop#{pipeline_id} ({short_sha})",
    },
}


def test_parse_map_and_autofill_a_failed_test() -> None:
    xml = (FIXTURES / "map" / "checkout-e2e.xml").read_bytes()
    report = tmbridge.parse_junit(xml)
    failed = [c for s in report["suites"] for c in s["cases"] if c["status"] == "failed"]
    assert report["counts"]["failed"] == len(failed) == 2

    refs = {"rally_test_cases": {"TC11": "/testcase/5011"}}
    plan = tmbridge.map_results("rally", CONTEXT, config=RALLY_CONFIG, xml=xml, refs=refs)
    assert [r["formatted_id"] for r in plan["results"]] == ["TC11"]
    body = plan["results"][0]["body"]["TestCaseResult"]
    assert (body["TestCase"], body["Build"], body["Verdict"]) == ("/testcase/5011", "shop#4242 (8f3c2a1d)", "Pass")
    assert plan["lookups"] == ["TC12", "TC13"]  # what the host must look up first

    schema = tmbridge.autofill_schema((FIXTURES / "autofill" / "rally-defect-typedef.json").read_bytes())
    run = tmbridge.autofill_run_from_junit(failed[0])
    defect = tmbridge.autofill(schema, run, {"rules": [{"field": "Name", "template": "{test_case.name}"}]})
    name = next(f for f in defect["fields"] if f["field"] == "Name")
    assert name["value"] == failed[0]["name"] and name["filled_by"] == "rule"
    assert defect["payload"]["Defect"]["Name"] == failed[0]["name"]


def test_autofill_with_the_example_settings_is_ready() -> None:
    schema = tmbridge.autofill_schema((FIXTURES / "autofill" / "rally-defect-typedef.json").read_text("utf-8"))
    settings = json.loads((FIXTURES / "autofill" / "defect-form-settings.json").read_text("utf-8"))
    run = json.loads((FIXTURES / "autofill" / "failed-run.json").read_text("utf-8"))
    out = tmbridge.autofill(schema, run, settings)
    assert out["ready"] is True
    assert out["payload"]["Defect"]["FoundInBuild"] == "web-2024.05.14+3"
    form = tmbridge.autofill_form(schema, settings)
    assert form["fields"][0]["name"] == "Name"
    edited = tmbridge.autofill_edit_form(schema, settings, {"op": "hide", "field": "Priority"})
    assert "Priority" in edited["settings"]["hidden"]
    assert "Priority" not in [f["name"] for f in tmbridge.autofill_form(schema, edited["settings"])["fields"]]
    assert tmbridge.autofill_render("{test_case.pid}", run) == "TC-318"
    assert any(s["path"] == "test_case.name" for s in tmbridge.autofill_sources())
    with pytest.raises(tmbridge.AutofillError) as info:
        tmbridge.autofill_render("{test_case.name|nope}")
    assert info.value.code == "autofill.template_syntax" and info.value.column == 17


def test_rally_queries() -> None:
    out = tmbridge.normalize_rally_query("(Name contains US) AND (Creation Date >= 2013-Dec-31)")
    assert out["query"] == "((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))"
    check = tmbridge.check_rally_query("State = Open Sorted by Priority desc")
    assert (check["valid"], check["canonical"], check["order"]) == (True, "(State = Open)", "Priority desc")
    assert tmbridge.parse_rally_query("(A = 1)")["type"] == "condition"
    poll = tmbridge.rally_poll_query(None, "2024-05-01T10:00:00Z")
    assert poll["query"] == "(LastUpdateDate > 2024-05-01T10:00:00Z)"
    with pytest.raises(tmbridge.RallyQueryError) as info:
        tmbridge.normalize_rally_query("(A = 1) AND AND (B = 2)")
    assert (info.value.code, info.value.line, info.value.column) == ("rally_query.missing_condition", 1, 13)


def test_gitlab_and_config() -> None:
    body = (FIXTURES / "gitlab" / "pipeline-hook-success-with-builds-go-gitlab.json").read_bytes()
    event = tmbridge.gitlab_pipeline_event(body)
    assert tmbridge.gitlab_decide(event)["process"] is True
    assert tmbridge.gitlab_verify_token("s3cret", "s3cret") is True
    assert tmbridge.gitlab_verify_token("s3cret", None) is False
    assert tmbridge.validate_config(RALLY_CONFIG, "rally") == []
    with pytest.raises(tmbridge.ConfigError):
        tmbridge.validate_config({"rally": {**RALLY_CONFIG["rally"], "statuses": {"skipped": "Maybe"}}}, "rally")
