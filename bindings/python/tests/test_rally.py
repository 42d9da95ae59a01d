"""tmbridge.rally against the Rally simulator binary on loopback: publishing under
injected faults and after SIGKILL creates every record exactly once; dry runs send
nothing; requirements are imported and watched; defects are filed from a loaded
schema; files are read only inside the allowed folders."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import tmbridge
import tmbridge.rally
from tmbridge.transport import UrllibTransport
from tmbridge.types import HttpRequest, HttpResponse

from rally_sim import ROOT, RallySim

FIXTURES = ROOT / "tests" / "fixtures" / "publish"
REPORT = FIXTURES / "e2e-report.xml"
CONTEXT: tmbridge.types.MapContext = {"pipeline_id": "4242", "sha": "8f3c2a1d9e7b", "sprint": "14"}
#: The report's tests that name a Rally id (the fourth has none: it goes to review).
PUBLISHED = ["TC11", "TC12", "TC13"]


@pytest.fixture
def sim() -> Iterator[RallySim]:
    running = RallySim()
    try:
        for n in range(1, 15):  # TC1 .. TC14: the ids the report names exist
            running.create("TestCase", {"Name": f"checkout test {n}"})
        yield running
    finally:
        running.close()


def config(sim: RallySim) -> Dict[str, Any]:
    settings = tmbridge.load_config(FIXTURES / "rally.toml")
    settings["rally"].update(url=sim.url, workspace=sim.workspace, project=sim.project)
    return settings


def results_by_case(sim: RallySim) -> Counter[str]:
    """How many TestCaseResults the simulator stored for each test case."""
    ids = {e["ref"]: e["formatted_id"] for e in sim.created("TestCase")}
    refs = [e["fields"]["TestCase"] for e in sim.created("TestCaseResult")]
    return Counter(ids[r if isinstance(r, str) else r["_ref"]] for r in refs)


def assert_published_once(sim: RallySim) -> None:
    assert results_by_case(sim) == Counter(PUBLISHED)
    assert len(sim.created("TestSet")) == 1
    attachments = sim.created("Attachment")
    assert [a["fields"]["Name"] for a in attachments] == ["pays-by-card.png"]
    contents = sim.created("AttachmentContent")
    assert len(contents) == 1
    shot = (FIXTURES / "shots" / "pays-by-card.png").read_bytes()
    assert base64.b64decode(contents[0]["fields"]["Content"]) == shot


class Recording:
    """A transport that keeps every request it sends."""

    def __init__(self) -> None:
        self.inner = UrllibTransport(timeout=30)
        self.sent: List[HttpRequest] = []

    def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        return self.inner.send(request)


def test_publish_under_5xx_429_and_dropped_connections_creates_each_record_once(sim: RallySim, tmp_path: Path) -> None:
    sim.fault("server_error", 2, status=503)
    sim.fault("throttle", 1, retry_after=1)
    sim.fault("drop", 1, method="POST")
    # Applied, then the answer is lost: only looking before creating avoids a second one.
    # (The results go in one /batch request: rally.batch_size is 25 by default.)
    sim.fault("drop_after_apply", 1, path="/batch")
    seen: List[tuple] = []
    report = tmbridge.rally.publish(
        REPORT,
        config(sim),
        context=CONTEXT,
        secrets={"api_key": sim.api_key},
        state=tmp_path / "state.sqlite",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert_published_once(sim)
    assert report["error"] is None and report["failed"] == []
    assert sorted(e["key"] for e in report["created"] if e["kind"] == "test_case_result") == PUBLISHED
    # 503 twice and 429 are retried as they are; a lost POST is looked up, then sent again.
    assert report["stats"]["retries"] >= 3
    assert report["stats"]["waited_ms"] >= 1000  # Retry-After: 1 was honoured
    assert report["resumed"] is False and report["dry_run_requests"] == []
    # Progress went up to the whole work, never backwards.
    assert seen[-1][0] == seen[-1][1] > 0
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def run_script(sim: RallySim, tmp_path: Path, kill_after: int) -> subprocess.CompletedProcess:
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps(config(sim)))
    env = dict(os.environ, RALLY_API_KEY=sim.api_key, PYTHONPATH=str(Path(__file__).parent))
    script = Path(__file__).parent / "publish_script.py"
    args = [sys.executable, str(script), str(REPORT), str(settings), str(tmp_path / "state.sqlite"), str(kill_after)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def test_a_script_killed_part_way_and_rerun_creates_each_record_once(sim: RallySim, tmp_path: Path) -> None:
    sim.fault("server_error", 1, status=502)
    # Killed after the 5th, 9th and 12th request of its run (each time just after a
    # request went out, its answer lost), then run to the end with the same state.
    for kill_after in (5, 4, 3):
        killed = run_script(sim, tmp_path, kill_after)
        assert killed.returncode == -9, killed.stderr
    finished = run_script(sim, tmp_path, 0)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["resumed"] is True
    assert_published_once(sim)
    # Run again once finished: the stored report, nothing sent.
    before = len(sim.ledger())
    again = run_script(sim, tmp_path, 0)
    assert again.returncode == 0 and json.loads(again.stdout)["resumed"] is True
    assert len(sim.ledger()) == before
    # The API key came from the environment and is stored nowhere.
    assert sim.api_key.encode() not in (tmp_path / "state.sqlite").read_bytes()


def test_a_dry_run_sends_nothing_and_shows_the_requests_masked(sim: RallySim) -> None:
    transport = Recording()
    before = len(sim.ledger())
    report = tmbridge.rally.publish(
        REPORT, config(sim), context=CONTEXT, secrets={"api_key": sim.api_key}, dry_run=True, transport=transport
    )
    assert transport.sent == [] and len(sim.ledger()) == before
    shown = report["dry_run_requests"]
    creates = [r["url"].split("?")[0].rsplit("/", 2)[-2] for r in shown if r["method"] == "POST"]
    # The results' creates are entries of /batch requests (rally.batch_size, 25 by default).
    for r in shown:
        if r["method"] == "POST" and r["url"].split("?")[0].endswith("/batch"):
            creates += [e["Entry"]["Path"].split("?")[0].strip("/").split("/")[0] for e in json.loads(r["body"])["Batch"]]
    assert Counter(creates)["testcaseresult"] == len(PUBLISHED)
    assert "testset" in creates and "attachment" in creates
    assert sim.api_key not in json.dumps(shown)
    assert all(dict(map(tuple, r["headers"])).get("ZSESSIONID") == "***" for r in shown)


def test_a_transport_that_raises_counts_as_a_dropped_connection(sim: RallySim) -> None:
    class Flaky(Recording):
        def send(self, request: HttpRequest) -> HttpResponse:
            if len(self.sent) == 3:
                self.sent.append(request)
                raise ConnectionResetError("reset by peer")
            return super().send(request)

    report = tmbridge.rally.publish(
        REPORT, config(sim), context=CONTEXT, secrets={"api_key": sim.api_key}, transport=Flaky()
    )
    assert report["error"] is None
    assert_published_once(sim)


def test_publish_async_with_an_async_transport_and_with_the_built_in_one(sim: RallySim, tmp_path: Path) -> None:
    class Threaded:
        def __init__(self) -> None:
            self.inner = UrllibTransport(timeout=30)
            self.count = 0

        async def send(self, request: HttpRequest) -> HttpResponse:
            self.count += 1
            return await asyncio.get_running_loop().run_in_executor(None, self.inner.send, request)

    transport = Threaded()
    sim.fault("throttle", 1, retry_after=1)
    report = asyncio.run(
        tmbridge.rally.publish_async(
            REPORT, config(sim), context=CONTEXT, secrets={"api_key": sim.api_key}, transport=transport
        )
    )
    assert report["error"] is None and transport.count > 0
    assert_published_once(sim)
    connected = asyncio.run(tmbridge.rally.connect_async(config(sim), secrets={"api_key": sim.api_key}))
    assert connected["details"]["session"] == "connection" and connected["details"]["ok"] is True

    async def stories() -> List[str]:
        found = tmbridge.rally.import_requirements_async(config=config(sim), secrets={"api_key": sim.api_key})
        return [story["name"] or "" async for story in found]

    sim.create("HierarchicalRequirement", {"Name": "Checkout by card"})
    assert asyncio.run(stories()) == ["Checkout by card"]


def test_a_refused_key_raises_with_the_report(sim: RallySim) -> None:
    with pytest.raises(tmbridge.Error) as info:
        tmbridge.rally.connect(config(sim), secrets={"api_key": "not-the-key"})
    assert info.value.code == "rally.unauthorized"
    assert getattr(info.value, "report")["error"]["code"] == "rally.unauthorized"
    assert "not-the-key" not in str(info.value)


def test_no_credentials_name_the_variable_to_set(sim: RallySim, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RALLY_API_KEY", "RALLY_USERNAME", "RALLY_PASSWORD", "SHOP_RALLY_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = config(sim)
    settings["rally"]["api_key_env"] = "SHOP_RALLY_KEY"
    with pytest.raises(tmbridge.SessionError) as info:
        tmbridge.rally.connect(settings)
    assert info.value.code == "session.no_credentials" and "SHOP_RALLY_KEY" in str(info.value)
    monkeypatch.setenv("SHOP_RALLY_KEY", sim.api_key)
    assert tmbridge.rally.connect(settings)["details"]["ok"] is True


def test_import_requirements_then_watch_one_more_poll(sim: RallySim, tmp_path: Path) -> None:
    for name in ("Checkout by card", "Checkout by invoice"):
        sim.create("HierarchicalRequirement", {"Name": name})
    state = tmp_path / "state.sqlite"
    stories = tmbridge.rally.import_requirements(
        "(Name contains Checkout)", config=config(sim), secrets={"api_key": sim.api_key}, state=state,
        watch=True, interval=0.2,
    )
    first = [next(stories), next(stories)]
    assert sorted(s["name"] or "" for s in first) == ["Checkout by card", "Checkout by invoice"]
    added = sim.create("HierarchicalRequirement", {"Name": "Checkout by voucher"})
    polled = next(stories)  # the next poll: only what changed since the first
    stories.close()
    assert polled["name"] == "Checkout by voucher" and polled["formatted_id"] == added["FormattedID"]
    # A later import with the same state starts from the stored cursor.
    later = list(
        tmbridge.rally.import_requirements(
            "(Name contains Checkout)", config=config(sim), secrets={"api_key": sim.api_key}, state=state
        )
    )
    assert "Checkout by card" not in [s["name"] for s in later]


def test_submit_a_defect_auto_filled_from_the_loaded_schema(sim: RallySim, tmp_path: Path) -> None:
    secrets: tmbridge.types.SessionSecrets = {"api_key": sim.api_key}
    schema = tmbridge.rally.load_schema(config(sim), secrets=secrets)
    assert any(f["name"] == "Severity" for f in schema["fields"])
    failed = next(c for c in tmbridge.iter_cases(tmbridge.parse_junit(REPORT)) if c["status"] == "failed")
    filled = tmbridge.autofill(
        schema,
        tmbridge.autofill_run_from_junit(failed),
        {"rules": [{"field": "Name", "template": "{test_case.name} fails"}]},
    )
    request: tmbridge.types.DefectRequest = {"payload": filled["payload"], "test_case": "TC13"}
    state = tmp_path / "state.sqlite"
    report = tmbridge.rally.submit_defect(request, config(sim), secrets=secrets, state=state)
    defects = sim.created("Defect")
    assert len(defects) == 1 and defects[0]["fields"]["Name"] == "pays by card fails"
    assert report["details"]["session"] == "defect"
    assert report["details"]["formatted_id"] == defects[0]["formatted_id"]
    # The same script run again: the defect is there, no second one.
    again = tmbridge.rally.submit_defect(request, config(sim), secrets=secrets, state=state)
    assert again["resumed"] is True and len(sim.created("Defect")) == 1


def test_attachments_are_read_only_inside_the_allowed_folders(sim: RallySim, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"do-not-upload")
    folder = tmp_path / "report"
    (folder / "shots").mkdir(parents=True)
    (folder / "shots" / "link.png").symlink_to(outside / "secret.txt")
    (folder / "shots" / "ok.png").write_bytes(b"\x89PNG fine")
    xml = REPORT.read_text(encoding="utf-8").replace(
        "[[ATTACHMENT|shots/pays-by-card.png]]",
        "[[ATTACHMENT|shots/ok.png]] [[ATTACHMENT|shots/link.png]] [[ATTACHMENT|../outside/secret.txt]]",
    )
    (folder / "report.xml").write_text(xml, encoding="utf-8")
    report = tmbridge.rally.publish(
        folder / "report.xml", config(sim), context=CONTEXT, secrets={"api_key": sim.api_key}, dry_run=True
    )
    bodies = " ".join(r["body"] or "" for r in report["dry_run_requests"])
    assert base64.b64encode(b"\x89PNG fine").decode() in bodies
    assert base64.b64encode(b"do-not-upload").decode() not in bodies and "do-not-upload" not in bodies
    # With the outside folder allowed too, the file is read.
    allowed = tmbridge.rally.publish(
        folder / "report.xml", config(sim), context=CONTEXT, secrets={"api_key": sim.api_key}, dry_run=True,
        allowed_dirs=[folder, outside],
    )
    bodies = " ".join(r["body"] or "" for r in allowed["dry_run_requests"])
    assert base64.b64encode(b"do-not-upload").decode() in bodies
