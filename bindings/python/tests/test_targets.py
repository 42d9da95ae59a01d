"""tmbridge.qtest and tmbridge.testrail against their simulators on loopback: the same
host loop as tmbridge.rally drives the core's qtest.* and testrail.* sessions, through
faults, reruns, dry runs, refused credentials, binary uploads and allure-results."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import tmbridge
import tmbridge.qtest
import tmbridge.testrail

from rally_sim import ROOT
from target_sims import TargetSims

REPORT = ROOT / "tests" / "fixtures" / "publish" / "e2e-report.xml"
SHOT = ROOT / "tests" / "fixtures" / "publish" / "shots" / "pays-by-card.png"
TESTS = 4


@pytest.fixture(scope="module")
def sims() -> Iterator[TargetSims]:
    running = TargetSims()
    try:
        yield running
    finally:
        running.close()


def kinds(entries: List[Dict[str, Any]], key: str) -> Counter[str]:
    return Counter(str(e[key]) for e in entries)


# --- qTest ------------------------------------------------------------------------------


def test_qtest_publish_under_faults_then_a_second_pipeline_adds_only_logs(sims: TargetSims, tmp_path: Path) -> None:
    config = sims.qtest_config(parent_module="py-e2e")
    secrets: tmbridge.types.SessionSecrets = {"api_key": sims.qtest_token}
    sims.fault("qtest", "kind=throttle&retry_after=1&count=1&method=POST")
    sims.fault("qtest", "kind=server_error&status=503&count=1&method=GET")
    state = tmp_path / "state.sqlite"
    seen: List[int] = []
    start = len(sims.ledger("qtest"))
    first = tmbridge.qtest.publish(
        REPORT, config, context={"pipeline_id": "101", "job_name": "e2e-chrome"},
        secrets=secrets, state=state, progress=lambda done, total: seen.append(done),
    )
    assert first["error"] is None and first["failed"] == [], first["failed"]
    assert seen and seen[-1] > 0
    made = kinds(sims.ledger("qtest")[start:], "kind")
    assert made["test-case"] == TESTS and made["test-run"] == TESTS and made["test-log"] == TESTS
    assert made["test-cycle"] == 1

    # The same script again: the stored report, nothing sent.
    ledger_size = len(sims.ledger("qtest"))
    again = tmbridge.qtest.publish(
        REPORT, config, context={"pipeline_id": "101", "job_name": "e2e-chrome"}, secrets=secrets, state=state
    )
    assert again["resumed"] is True
    assert len(sims.ledger("qtest")) == ledger_size

    # The next pipeline of the same job: one more log per test, nothing else.
    tmbridge.qtest.publish(
        REPORT, config, context={"pipeline_id": "102", "job_name": "e2e-chrome"}, secrets=secrets, state=state
    )
    after = kinds(sims.ledger("qtest")[start:], "kind")
    assert after["test-log"] == 2 * TESTS
    for kind in ("test-case", "test-run", "test-cycle", "module", "test-suite"):
        assert after[kind] == made[kind], kind


def test_qtest_dry_run_sends_nothing_and_masks_the_token(sims: TargetSims) -> None:
    count = len(sims.ledger("qtest"))
    report = tmbridge.qtest.publish(
        REPORT, sims.qtest_config(), context={"pipeline_id": "7"}, secrets={"api_key": sims.qtest_token}, dry_run=True
    )
    assert len(sims.ledger("qtest")) == count
    shown = report["dry_run_requests"]
    assert any("/auto-test-logs" in r["url"] for r in shown)
    assert sims.qtest_token not in json.dumps(shown)


def test_qtest_connect_names_the_project_and_refuses_a_bad_token(sims: TargetSims) -> None:
    ok = asyncio.run(tmbridge.qtest.connect_async(sims.qtest_config(), secrets={"api_key": sims.qtest_token}))
    assert ok["error"] is None
    with pytest.raises(tmbridge.QtestError) as refused:
        tmbridge.qtest.connect(sims.qtest_config(), secrets={"api_key": "not-a-token"})
    assert refused.value.code == "qtest.unauthorized"
    assert getattr(refused.value, "report")["error"]["code"] == "qtest.unauthorized"


def test_qtest_without_a_token_names_the_variable(sims: TargetSims, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMBRIDGE_QTEST_TOKEN", raising=False)
    with pytest.raises(tmbridge.SessionError, match="TMBRIDGE_QTEST_TOKEN"):
        tmbridge.qtest.connect(sims.qtest_config())
    monkeypatch.setenv("TMBRIDGE_QTEST_TOKEN", sims.qtest_token)
    assert tmbridge.qtest.connect(sims.qtest_config())["error"] is None


# --- TestRail ---------------------------------------------------------------------------


def allure_results(folder: Path) -> Path:
    """An allure-results folder: a passed test, a failed one with a screenshot."""
    folder.mkdir()
    base = {"start": 1717000000000, "stop": 1717000001500, "labels": [{"name": "suite", "value": "shop"}]}
    passed = dict(base, uuid="u1", historyId="h1", name="pays", fullName="tests.test_shop#pays", status="passed")
    failed = dict(
        base, uuid="u2", historyId="h2", name="refunds", fullName="tests.test_shop#refunds", status="failed",
        statusDetails={"message": "expected 42.00, was 0.00", "trace": "at refund"},
        attachments=[{"name": "screen", "source": "shot-attachment.png", "type": "image/png"}],
    )
    (folder / "u1-result.json").write_text(json.dumps(passed), encoding="utf-8")
    (folder / "u2-result.json").write_text(json.dumps(failed), encoding="utf-8")
    (folder / "shot-attachment.png").write_bytes(SHOT.read_bytes())
    return folder


def credentials(sims: TargetSims) -> tmbridge.types.SessionSecrets:
    return {"username": sims.testrail_user, "api_key": sims.testrail_key}


def test_testrail_publishes_an_allure_folder_with_its_screenshot_once(sims: TargetSims, tmp_path: Path) -> None:
    folder = allure_results(tmp_path / "allure-results")
    config = sims.testrail_config()
    sims.fault("testrail", "kind=throttle&retry_after=1&count=1&path=add_results_for_cases")
    state = tmp_path / "state.sqlite"
    start = len(sims.ledger("testrail"))
    report = tmbridge.testrail.publish(
        folder, config, context={"pipeline_id": "501"}, secrets=credentials(sims), state=state
    )
    assert report["error"] is None and report["failed"] == [], report["failed"]
    made = kinds(sims.ledger("testrail")[start:], "action")
    assert made["add_case"] == 2 and made["add_run"] == 1 and made["add_result"] == 2
    assert made["add_attachment"] == 1  # the PNG went as multipart bytes (body_base64)

    # A rerun of the same pipeline adds nothing.
    middle = len(sims.ledger("testrail"))
    tmbridge.testrail.publish(folder, config, context={"pipeline_id": "501"}, secrets=credentials(sims), state=state)
    tmbridge.testrail.publish(folder, config, context={"pipeline_id": "501"}, secrets=credentials(sims))
    assert kinds(sims.ledger("testrail")[middle:], "action")["add_case"] == 0
    assert kinds(sims.ledger("testrail")[middle:], "action")["add_result"] == 0


def test_testrail_scope_exports_only_what_it_selects(sims: TargetSims, tmp_path: Path) -> None:
    start = len(sims.ledger("testrail"))
    report = tmbridge.testrail.publish(
        REPORT, sims.testrail_config(), context={"pipeline_id": "601"}, secrets=credentials(sims),
        scope="status = failed",
    )
    assert report["error"] is None
    added = [e for e in sims.ledger("testrail")[start:] if e["action"] == "add_result"]
    assert len(added) == 1
    with pytest.raises(tmbridge.ConfigError) as bad:
        tmbridge.testrail.publish(
            REPORT, sims.testrail_config(), context={"pipeline_id": "602"}, secrets=credentials(sims),
            scope="status in (failed",
        )
    assert "column" in str(bad.value)


def test_testrail_dry_run_and_refused_credentials(sims: TargetSims, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TESTRAIL_USER", raising=False)
    count = len(sims.ledger("testrail"))
    dry = tmbridge.testrail.publish(REPORT, sims.testrail_config(), context={"pipeline_id": "701"}, dry_run=True)
    assert len(sims.ledger("testrail")) == count
    assert any("add_results_for_cases" in r["url"] for r in dry["dry_run_requests"])
    with pytest.raises(tmbridge.SessionError, match="TESTRAIL_USER"):
        tmbridge.testrail.connect(sims.testrail_config())
    with pytest.raises(tmbridge.TestrailError) as refused:
        tmbridge.testrail.connect(sims.testrail_config(), secrets={"username": sims.testrail_user, "api_key": "wrong"})
    assert refused.value.code == "testrail.unauthorized"


def test_testrail_switches_itself_off_on_a_refused_key_until_reenabled(sims: TargetSims, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    config = sims.testrail_config()
    with pytest.raises(tmbridge.TestrailError) as refused:
        tmbridge.testrail.publish(
            REPORT, config, context={"pipeline_id": "801"}, state=state,
            secrets={"username": sims.testrail_user, "api_key": "revoked"},
        )
    assert refused.value.code == "testrail.unauthorized"
    start = len(sims.ledger("testrail"))
    with pytest.raises(tmbridge.TestrailError) as off:
        tmbridge.testrail.publish(REPORT, config, context={"pipeline_id": "802"}, state=state, secrets=credentials(sims))
    assert off.value.code == "testrail.export_disabled"
    assert "testrail.unauthorized" in str(off.value) and "reenable=True" in str(off.value)
    assert len(sims.ledger("testrail")) == start, "nothing sent while the export is off"
    back = tmbridge.testrail.publish(
        REPORT, config, context={"pipeline_id": "802"}, state=state, secrets=credentials(sims), reenable=True
    )
    assert back["error"] is None
    assert kinds(sims.ledger("testrail")[start:], "action")["add_result"] == TESTS
