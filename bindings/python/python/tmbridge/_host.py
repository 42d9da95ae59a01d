"""The host loop shared by every target's functions (``tmbridge.rally``,
``tmbridge.qtest``, ``tmbridge.testrail``), sync and async.

``_pump`` drives a session and yields only what needs I/O the caller chooses (an
HTTP request to send, a wait); the sync and async drivers answer it. Everything
else is the session's decision: which request, retries, waits, save points.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Tuple, Union, cast

from . import _native
from ._envelope import raise_error, unwrap
from ._files import AllowedFiles
from ._state import State
from .session import Session
from .transport import AsyncTransport, Transport, UrllibTransport, no_answer
from .host_types import RunReport
from .types import HttpRequest, HttpResponse, SessionSecrets

#: ``progress(done, total)``: called when the session's count of done work changes.
ProgressCallback = Callable[[int, int], None]
#: A callback, ``None`` (a tqdm bar when tqdm is installed) or ``False`` (nothing).
Progress = Union[ProgressCallback, None, bool]

_Effect = Union[Tuple[str, HttpRequest], Tuple[str, int]]
_Pump = Generator[_Effect, Optional[HttpResponse], RunReport]

#: Secrets a dry run signs with: the requests show the real flow, never a real secret.
_PLACEHOLDER = "(dry-run)"


class Run:
    """One session to run: its kind and input, and what the host needs around it."""

    def __init__(
        self,
        kind: str,
        input: Mapping[str, Any],
        *,
        secrets: SessionSecrets,
        files: Optional[AllowedFiles] = None,
        state: Optional[State] = None,
        key: Optional[str] = None,
        dry_run: bool = False,
        progress: Progress = None,
    ) -> None:
        self.kind = kind
        self.input = input
        self.secrets = secrets
        self.files = files
        self.state = state if key is not None else None
        self.key = key or ""
        self.dry_run = dry_run
        self.progress = progress


def _start(run: Run) -> Tuple[Session, bool]:
    if run.dry_run:
        fake: Dict[str, str] = {name: _PLACEHOLDER for name in run.secrets} or {"api_key": _PLACEHOLDER}
        return Session.start(run.kind, run.input, secrets=fake, options={"seed": 0}), False
    if run.state is not None:
        saved = run.state.saved(run.key)
        if saved is not None:
            return Session.resume(saved, secrets=cast(Mapping[str, str], run.secrets)), True
    seed = random.SystemRandom().getrandbits(63)
    secrets = cast(Mapping[str, str], run.secrets)
    return Session.start(run.kind, run.input, secrets=secrets, options={"seed": seed}), False


def _pump(run: Run) -> _Pump:
    session, resumed = _start(run)
    shown: List[HttpRequest] = []
    counter = 0
    bar = _ProgressDisplay(run.progress)
    try:
        while True:
            step = session.next()
            if step["step"] == "send":
                request: HttpRequest = {
                    "id": step["id"],
                    "method": step["method"],
                    "url": step["url"],
                    "headers": step["headers"],
                    "body": step["body"],
                }
                if step.get("body_base64") is not None:  # a binary body (a multipart upload)
                    request["body_base64"] = step["body_base64"]
                if run.dry_run:
                    dry = _call("session.dry_run_answer", {"request": request, "counter": counter})
                    counter = dry["counter"]
                    shown.append(dry["shown"])
                    response: HttpResponse = dry["answer"]
                else:
                    answer = yield ("send", request)
                    response = answer if answer is not None else no_answer("dropped", "no answer")
                session.receive(request["id"], response)
                bar.update(session)
            elif step["step"] == "wait":
                if not run.dry_run:
                    yield ("wait", step["ms"])
            elif step["step"] == "read":
                data, why = (None, "no files may be read") if run.files is None else run.files.read(step["path"])
                if data is None:
                    session.provide_file(step["id"], error=why)
                else:
                    session.provide_file(step["id"], data=data)
            elif step["step"] == "save":
                if run.state is not None and not run.dry_run:
                    run.state.store(run.key, run.kind, session.save())
            else:
                whole = cast(Dict[str, Any], dict(step))
                del whole["step"]
                # Shown and stored only as the core masks it (tokens in URLs, credentials).
                report = cast(Dict[str, Any], _call("session.mask_report", {"report": whole}))
                result = cast(RunReport, report)
                result["resumed"] = resumed
                result["dry_run_requests"] = shown
                if run.state is not None and not run.dry_run and report["error"] is None:
                    run.state.finish(run.key, run.kind, json.dumps(report))
                return result
    finally:
        bar.close()


def _call(op: str, fields: Mapping[str, Any]) -> Any:
    return unwrap(_native.call_json(op, json.dumps(dict(fields))))


def finished(run: Run) -> Optional[RunReport]:
    """The report of this work when an earlier run finished it (rerunning a script
    that succeeded sends nothing again)."""
    if run.state is None or run.dry_run:
        return None
    text = run.state.report(run.key)
    if text is None:
        return None
    report = cast(RunReport, json.loads(text))
    report["resumed"] = True
    report["dry_run_requests"] = []
    return report


def drive(run: Run, transport: Optional[Transport]) -> RunReport:
    """Runs the session to its end with a blocking transport."""
    try:
        return _drive(run, transport)
    finally:
        if run.state is not None:
            run.state.close()


async def drive_async(run: Run, transport: Optional[AsyncTransport]) -> RunReport:
    """Runs the session to its end with an asyncio transport (the built-in one in a
    worker thread when none is given)."""
    try:
        return await _drive_async(run, transport)
    finally:
        if run.state is not None:
            run.state.close()


def _drive(run: Run, transport: Optional[Transport]) -> RunReport:
    done = finished(run)
    if done is not None:
        return check(done)
    sender = transport if transport is not None else UrllibTransport()
    pump = _pump(run)
    answer: Optional[HttpResponse] = None
    try:
        while True:
            kind, value = pump.send(answer)
            answer = None
            if kind == "send":
                answer = _send(sender, cast(HttpRequest, value))
            else:
                time.sleep(cast(int, value) / 1000)
    except StopIteration as end:
        return check(cast(RunReport, end.value))


async def _drive_async(run: Run, transport: Optional[AsyncTransport]) -> RunReport:
    done = finished(run)
    if done is not None:
        return check(done)
    blocking = UrllibTransport() if transport is None else None
    pump = _pump(run)
    answer: Optional[HttpResponse] = None
    try:
        while True:
            kind, value = pump.send(answer)
            answer = None
            if kind == "send":
                request = cast(HttpRequest, value)
                if blocking is not None:
                    answer = await asyncio.get_running_loop().run_in_executor(None, _send, blocking, request)
                else:
                    assert transport is not None
                    try:
                        answer = await transport.send(request)
                    except Exception as error:  # see tmbridge.transport: counts as dropped
                        answer = no_answer("dropped", type(error).__name__)
            else:
                await asyncio.sleep(cast(int, value) / 1000)
    except StopIteration as end:
        return check(cast(RunReport, end.value))


def _send(transport: Transport, request: HttpRequest) -> HttpResponse:
    try:
        return transport.send(request)
    except Exception as error:  # see tmbridge.transport: counts as dropped
        return no_answer("dropped", type(error).__name__)


def check(report: RunReport) -> RunReport:
    """The report, or the exception of its error (the report is its ``report``)."""
    error = report["error"]
    if error is None:
        return report
    try:
        raise_error(dict(error))
    except Exception as raised:
        setattr(raised, "report", report)
        raise
    raise AssertionError("unreachable")  # pragma: no cover


def secrets_for(
    kind: str, config: Mapping[str, Any], secrets: Optional[SessionSecrets], dry_run: bool
) -> SessionSecrets:
    """The secrets given, else from the environment, as the CLI reads them for the
    kind's target (``rally.publish``: Rally's)."""
    if secrets:
        return secrets
    target = kind.split(".", 1)[0]
    found = _from_env(target, config.get(target) or {})
    if found is not None:
        return found
    if dry_run:  # the requests show the real sign-in flow with placeholders
        return {"username": _PLACEHOLDER, "api_key": _PLACEHOLDER} if target == "testrail" else {}
    raise_error(_NO_CREDENTIALS[target](config.get(target) or {}))
    raise AssertionError("unreachable")  # pragma: no cover


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _from_env(target: str, section: Mapping[str, Any]) -> Optional[SessionSecrets]:
    if target == "rally":
        key = _env(str(section.get("api_key_env") or "RALLY_API_KEY"))
        if key:
            return {"api_key": key}
        user, password = _env("RALLY_USERNAME"), os.environ.get("RALLY_PASSWORD", "")
        return {"username": user, "password": password} if user and password else None
    if target == "qtest":
        token = _env(str(section.get("token_env") or "TMBRIDGE_QTEST_TOKEN"))
        return {"api_key": token} if token else None
    if target == "testrail":
        user = _env(str(section.get("user_env") or "TESTRAIL_USER"))
        key = _env(str(section.get("api_key_env") or "TESTRAIL_API_KEY"))
        password = os.environ.get("TESTRAIL_PASSWORD", "")
        if user and key:
            return {"username": user, "api_key": key}
        return {"username": user, "password": password} if user and password else None
    return None


def _no_rally(section: Mapping[str, Any]) -> Dict[str, str]:
    name = str(section.get("api_key_env") or "RALLY_API_KEY")
    return {
        "code": "session.no_credentials",
        "message": f"no Rally credentials: the environment variable {name} is not set",
        "hint": f"set {name} to an API key (rally.api_key_env names the variable), "
        "or RALLY_USERNAME and RALLY_PASSWORD, or pass secrets={'api_key': ...}",
    }


def _no_qtest(section: Mapping[str, Any]) -> Dict[str, str]:
    name = str(section.get("token_env") or "TMBRIDGE_QTEST_TOKEN")
    return {
        "code": "session.no_credentials",
        "message": f"no qTest token: the environment variable {name} is not set",
        "hint": f"set {name} to a qTest API token (qtest.token_env names the variable; "
        "qTest: your name > Resources > API & SDK), or pass secrets={'api_key': ...}",
    }


def _no_testrail(section: Mapping[str, Any]) -> Dict[str, str]:
    user = str(section.get("user_env") or "TESTRAIL_USER")
    key = str(section.get("api_key_env") or "TESTRAIL_API_KEY")
    return {
        "code": "session.no_credentials",
        "message": f"no TestRail credentials: set {user} and {key} (or TESTRAIL_PASSWORD)",
        "hint": f"{user} holds the user's email and {key} an API key (TestRail: My Settings > "
        "API Keys); or pass secrets={'username': ..., 'api_key': ...}",
    }


_NO_CREDENTIALS: Dict[str, Callable[[Mapping[str, Any]], Dict[str, str]]] = {
    "rally": _no_rally,
    "qtest": _no_qtest,
    "testrail": _no_testrail,
}


class _ProgressDisplay:
    """Calls the callback, or shows a tqdm bar, when the count of done work changes."""

    def __init__(self, progress: Progress) -> None:
        self._callback: Optional[ProgressCallback] = None
        self._bar: Any = None
        self._seen = (-1, -1)
        if callable(progress):
            self._callback = progress
        elif progress is None:
            try:
                from tqdm import tqdm  # type: ignore[import-not-found,import-untyped,unused-ignore]
            except ImportError:
                return
            self._bar = tqdm(total=0, unit="step", disable=None, leave=False)

    def update(self, session: Session) -> None:
        units = session.units()
        done, total = units["done"], units["total"]
        if (done, total) == self._seen:
            return
        self._seen = (done, total)
        if self._callback is not None:
            self._callback(done, total)
        elif self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
