"""tmbridge.Session: a live session driven through the recorded transcripts of the
conformance vectors (tests/vectors/session.replay.rally-*.json) takes exactly the
steps the vector expects; saving and resuming keeps them; errors are exceptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import tmbridge
from tmbridge.types import Step

from vector_text import VECTORS_DIR

TRANSCRIPTS = sorted(
    path
    for target in ("rally", "gitlab", "qtest", "testrail")
    for path in VECTORS_DIR.glob(f"session.replay.{target}-*.json")
)


def load(path: Path) -> Dict[str, Any]:
    vector: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return vector


def start(vector: Dict[str, Any], secrets: Optional[Dict[str, str]] = None) -> tmbridge.Session:
    given = vector["input"]
    request = given["start"]
    return tmbridge.Session.start(
        request["kind"],
        request["input"],
        secrets=given["secrets"] if secrets is None else secrets,
        options=request.get("options"),
    )


def drive(
    vector: Dict[str, Any],
    resume_at: Optional[int] = None,
    secrets: Optional[Dict[str, str]] = None,
    on_save: Callable[[str], None] = lambda saved: None,
) -> Tuple[List[Step], List[int], tmbridge.Session]:
    """The host loop, with the transcript's feed standing in for HTTP and files.
    ``resume_at``: the index of a ``save`` step where the host stops and resumes."""
    secrets = vector["input"]["secrets"] if secrets is None else secrets
    feed = list(vector["input"]["feed"])
    session = start(vector, secrets)
    steps: List[Step] = []
    resumed_after: List[int] = []
    while True:
        step = session.next()
        steps.append(step)
        if step["step"] == "done":
            assert feed == [], "the session ended before the feed did"
            return steps, resumed_after, session
        if step["step"] == "save":
            saved = session.save()
            on_save(saved)
            if len(steps) - 1 == resume_at:
                session = tmbridge.Session.resume(saved, secrets=secrets)
            continue
        if step["step"] == "wait":
            continue
        item = feed.pop(0)
        if item == "resume":
            # The host dies after sending: it goes on from the saved progress.
            session = tmbridge.Session.resume(session.save(), secrets=secrets)
            resumed_after.append(len(steps) - 1)
        elif step["step"] == "send":
            session.receive(step["id"], item["answer"])
        elif "file" in item:
            session.provide_file(step["id"], data=item["file"].encode("utf-8"))
        else:
            session.provide_file(step["id"], error=item["file_error"])


def test_every_kind_the_core_offers_has_a_transcript() -> None:
    kinds = {load(p)["input"]["start"]["kind"] for p in TRANSCRIPTS}
    assert {k["name"] for k in tmbridge.session_kinds()} == kinds


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.name)
def test_a_live_session_takes_the_steps_of_its_transcript(path: Path) -> None:
    vector = load(path)
    steps, resumed_after, session = drive(vector)
    expected = vector["expected"]["ok"]
    assert steps == expected["steps"]
    assert resumed_after == expected["resumed_after"]
    assert session.kind == vector["input"]["start"]["kind"]


def fed(vector: Dict[str, Any]) -> Dict[int, Any]:
    """Which feed item answers which step (by the step's index)."""
    feed = iter(vector["input"]["feed"])
    steps = vector["expected"]["ok"]["steps"]
    return {i: next(feed) for i, s in enumerate(steps) if s["step"] in ("send", "read")}


@pytest.mark.parametrize("name", ["rally-link-case", "rally-defect"])
def test_saving_at_a_save_step_and_resuming_gives_the_same_steps(name: str) -> None:
    # A resumed publish re-checks every result it may not have finished (so a lost
    # outbox never duplicates); that is covered by the publish transcript's own
    # `resume`. Sessions that keep nothing to re-check go on exactly.
    vector = load(VECTORS_DIR / f"session.replay.{name}.json")
    expected = vector["expected"]["ok"]["steps"]
    answers = fed(vector)
    # The saves right after a write was answered: nothing is in flight, so a resumed
    # session goes on exactly as the one that kept running. (At the other saves the
    # outcome of a request is unknown to a resumed session: it looks before it writes.)
    after_writes = [
        i
        for i, s in enumerate(expected)
        if s["step"] == "save"
        and expected[i - 1]["step"] == "send"
        and expected[i - 1]["method"] != "GET"
        and answers[i - 1] != "resume"
        and answers[i - 1]["answer"]["kind"] == "answered"
    ]
    assert len(after_writes) >= 1
    for at in after_writes:
        steps, _, _ = drive(vector, resume_at=at)
        assert steps == expected, f"resumed at step {at}"


def test_resuming_before_a_write_looks_before_it_writes() -> None:
    vector = load(VECTORS_DIR / "session.replay.rally-defect.json")
    secrets = vector["input"]["secrets"]
    session = start(vector)
    feed = iter(vector["input"]["feed"])
    while (step := session.next())["step"] != "save":
        assert step["step"] == "send"
        session.receive(step["id"], next(feed)["answer"])
    saved = session.save()
    assert session.next()["method"] == "POST"
    # The host died after saving: was the defect created? The resumed session asks
    # Rally before it creates one.
    resumed = tmbridge.Session.resume(saved, secrets=secrets)
    first = resumed.next()
    assert first["step"] == "send" and first["method"] == "GET"
    assert "/defect" in first["url"]


def test_the_report_names_what_was_done() -> None:
    steps, _, _ = drive(load(VECTORS_DIR / "session.replay.rally-publish.json"))
    done = steps[-1]
    assert done["step"] == "done"
    assert done["error"] is None
    assert [(e["kind"], e["key"]) for e in done["created"]] == [
        ("test_set", "Sprint-14-Automated-Tests"),
        ("test_case_result", "TC1"),
        ("test_case_result", "TC2"),
    ]
    assert done["details"]["session"] == "publish"


def test_a_refused_key_is_in_the_report_not_an_exception() -> None:
    steps, _, _ = drive(load(VECTORS_DIR / "session.replay.rally-connect-unauthorized.json"))
    done = steps[-1]
    assert done["step"] == "done"
    assert done["error"] is not None and done["error"]["code"] == "rally.unauthorized"


def test_bad_starts_raise_session_errors_with_the_core_code() -> None:
    with pytest.raises(tmbridge.SessionError) as info:
        tmbridge.Session.start("rally.publsh", {}, secrets={"api_key": "k"})
    assert info.value.code == "session.unknown_kind"
    assert "rally.publish" in (info.value.hint or "")
    assert isinstance(info.value, tmbridge.Error)

    connect = load(VECTORS_DIR / "session.replay.rally-connect.json")
    with pytest.raises(tmbridge.SessionError) as info:
        start(connect, secrets={})
    assert info.value.code == "session.no_credentials"

    with pytest.raises(tmbridge.SessionError) as info:
        tmbridge.Session.resume("{}", secrets={"api_key": "k"})
    assert info.value.code == "session.invalid_saved"

    with pytest.raises(tmbridge.SessionError) as info:
        start(connect, secrets={"api_key": "k", "pasword": "typo"})
    assert info.value.code == "session.bad_secrets"


def test_wrong_host_calls_raise_and_leave_the_session_usable() -> None:
    vector = load(VECTORS_DIR / "session.replay.rally-connect.json")
    session = start(vector)
    step = session.next()
    assert step["step"] == "send"
    answer = vector["input"]["feed"][0]["answer"]
    with pytest.raises(tmbridge.Error) as info:
        session.receive(step["id"] + 100, answer)
    assert info.value.code.startswith(("session.", "sync."))
    with pytest.raises(tmbridge.InputError) as bad_shape:
        session.receive(step["id"], {"status": 200})  # type: ignore[typeddict-item]
    assert "kind" in str(bad_shape.value)
    with pytest.raises(TypeError):
        session.provide_file(1)
    with pytest.raises(TypeError):
        session.provide_file(1, data=b"x", error="both")
    session.receive(step["id"], answer)
    assert session.next()["step"] == "send"


def test_secrets_never_appear_in_saved_progress() -> None:
    vector = load(VECTORS_DIR / "session.replay.rally-publish.json")
    secret = "s3cr3t-key-from-python"
    saves: List[str] = []
    steps, _, session = drive(vector, secrets={"api_key": secret}, on_save=saves.append)
    assert steps[-1]["step"] == "done"
    assert len(saves) > 5
    for saved in saves + [session.save()]:
        assert secret not in saved
        assert json.loads(saved)["format"] == "tmbridge.session"
    # The session did use it: it signs every request.
    sent = [s for s in steps if s["step"] == "send"]
    assert all(("ZSESSIONID", secret) in [tuple(h) for h in s["headers"]] for s in sent)
    assert secret not in repr(session)
    config = vector["input"]["start"]["input"]["config"]
    basic = tmbridge.Session.start("rally.connect", {"config": config}, secrets={"username": "ci", "password": secret})
    assert secret not in basic.save()


def test_optional_inputs_of_a_kind_may_be_left_out() -> None:
    # session_kinds() says `cache?: RefCache`: a first publish has no cache to give.
    publish = next(k for k in tmbridge.session_kinds() if k["name"] == "rally.publish")
    assert "cache?:" in publish["input"]
    given = load(VECTORS_DIR / "session.replay.rally-publish.json")["input"]["start"]["input"]
    without_cache = {k: v for k, v in given.items() if k != "cache"}
    session = tmbridge.Session.start("rally.publish", without_cache, secrets={"api_key": "k"})
    assert session.next()["step"] == "send"


def test_a_session_started_in_one_thread_is_driven_in_another() -> None:
    from concurrent.futures import ThreadPoolExecutor

    vector = load(VECTORS_DIR / "session.replay.rally-connect.json")
    session = start(vector)
    with ThreadPoolExecutor(max_workers=1) as pool:
        step = pool.submit(session.next).result()
    assert step == vector["expected"]["ok"]["steps"][0]
