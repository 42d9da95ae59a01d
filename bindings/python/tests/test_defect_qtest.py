"""tmbridge.qtest.submit_defect against the Rally and qTest simulators: a failed qTest
run (made through qTest's API) becomes a Rally defect linked to the Rally test case that
holds the qTest case's address and to its story, with the log's files, linked back in a
comment on the run; a run that passed raises and sends nothing to Rally."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import urllib.request
from typing import Any, Dict, Iterator, Optional

import pytest

import tmbridge
import tmbridge.qtest
from rally_sim import ROOT, binary

SHOT = b"\x89PNG\r\n\x1a\n-shot-"


class Sims:
    """The Rally and qTest simulators of one process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(binary()), "--rally", "127.0.0.1:0", "--gitlab", "127.0.0.1:0", "--qtest", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        seen: Dict[str, str] = {}
        assert self.proc.stdout is not None
        patterns = {
            "rally_url": r"rally\.url = (\S+)",
            "rally_key": r"rally api key \(ZSESSIONID\) = (\S+)",
            "workspace": r"rally\.workspace = (\S+)",
            "project": r"rally\.project = (\S+)",
        }
        for line in self.proc.stdout:
            for name, pattern in patterns.items():
                if m := re.match(pattern, line):
                    seen[name] = m.group(1)
            if m := re.match(r"qtest url = (\S+)\s+\(bearer token (\S+), project (\d+)\)", line):
                seen.update(qtest_url=m.group(1), qtest_token=m.group(2), qtest_project=m.group(3))
                break
        self.seen = seen

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def _json(self, url: str, method: str, headers: Dict[str, str], body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **headers})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def qtest(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        s = self.seen
        url = f"{s['qtest_url']}/api/v3/projects/{s['qtest_project']}/{path}"
        return self._json(url, method, {"Authorization": f"Bearer {s['qtest_token']}"}, body)

    def rally(self, type_name: str, fields: Dict[str, Any]) -> str:
        s = self.seen
        body = {type_name: {"Workspace": s["workspace"], "Project": s["project"], **fields}}
        url = f"{s['rally_url']}/slm/webservice/v2.0/{type_name.lower()}/create"
        created = self._json(url, "POST", {"ZSESSIONID": s["rally_key"]}, body)
        return str(created["CreateResult"]["Object"]["_ref"])

    def failed_run(self, status: str) -> Dict[str, Any]:
        case = self.qtest("POST", "test-cases", {"name": "Checkout rejects an expired card"})
        run = self.qtest("POST", "test-runs?parentId=0&parentType=root", {"name": "Checkout rejects an expired card", "test_case": {"id": case["id"]}})
        self.qtest(
            "POST",
            f"test-runs/{run['id']}/auto-test-logs",
            {
                "status": status,
                "exe_start_date": "2026-05-13T10:00:00Z",
                "exe_end_date": "2026-05-13T10:01:00Z",
                "name": "Checkout rejects an expired card",
                "test_step_logs": [{"order": 0, "description": "Pay", "expected_result": "An error", "actual_result": "A spinner", "status": status}],
                "attachments": [{"name": "checkout.png", "content_type": "image/png", "data": base64.b64encode(SHOT).decode()}],
            },
        )
        return {"run": run["id"], "case_url": self.qtest("GET", f"test-cases/{case['id']}")["web_url"]}

    def config(self) -> Dict[str, Any]:
        s = self.seen
        return {
            "rally": {"url": s["rally_url"], "workspace": s["workspace"], "project": s["project"]},
            "qtest": {"url": s["qtest_url"], "project_id": int(s["qtest_project"])},
        }

    def settings(self) -> Dict[str, Any]:
        project = self.seen["project"]
        return {
            "hidden": ["SubmittedBy", "Owner", "Workspace", "Iteration", "Release"],
            "allowed_values": {"Project": [{"value": "Web Team", "reference": project}]},
            "rules": [{"field": "Name", "template": "{test_case.name}"}],
            "defaults": {"Project": project, "Environment": "Test", "State": "Submitted", "ScheduleState": "Defined"},
        }


@pytest.fixture
def sims() -> Iterator[Sims]:
    s = Sims()
    try:
        yield s
    finally:
        s.close()


def schema() -> Any:
    return tmbridge.autofill_schema((ROOT / "tests/fixtures/autofill/rally-defect-typedef.json").read_bytes())


def test_a_failed_qtest_run_becomes_a_linked_defect_with_its_files(sims: Sims) -> None:
    failed = sims.failed_run("FAIL")
    story = sims.rally("HierarchicalRequirement", {"Name": "Pay by card"})
    case = sims.rally("TestCase", {"Name": "Checkout rejects an expired card", "WorkProduct": story, "Description": f"From qTest: {failed['case_url']}"})
    done = tmbridge.qtest.submit_defect(
        failed["run"],
        sims.config(),
        schema=schema(),
        settings=sims.settings(),  # type: ignore[arg-type]
        qtest_secrets={"api_key": sims.seen["qtest_token"]},
        rally_secrets={"api_key": sims.seen["rally_key"]},
    )
    assert done["form"]["ready"]
    assert done["defect"] is not None and done["link_back"] is not None
    filed: Dict[str, Any] = dict(done["defect"]["details"])
    assert re.fullmatch(r"DE\d+", filed["formatted_id"])
    assert case.endswith(filed["test_case"]) and story.endswith(filed["requirement"])
    assert filed["attachments"] == ["checkout.png"]
    assert done["url"] is not None and "/#/detail/defect/" in done["url"]
    comments = sims.qtest("GET", f"test-runs/{failed['run']}/comments")
    assert comments["total"] == 1
    assert f">{filed['formatted_id']}</a>" in comments["items"][0]["content"]


def test_a_run_that_passed_raises_and_files_nothing(sims: Sims) -> None:
    passed = sims.failed_run("PASS")
    with pytest.raises(tmbridge.QtestError) as raised:
        tmbridge.qtest.submit_defect(
            passed["run"],
            sims.config(),
            schema=schema(),
            settings=sims.settings(),  # type: ignore[arg-type]
            qtest_secrets={"api_key": sims.seen["qtest_token"]},
            rally_secrets={"api_key": sims.seen["rally_key"]},
        )
    assert raised.value.code == "qtest.run_passed"
    assert sims.qtest("GET", f"test-runs/{passed['run']}/comments")["total"] == 0
