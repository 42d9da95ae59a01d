"""What every target's functions build before a session runs: the configuration, the
state file, the report read into test cases with the files it may attach, and the
session's input. Shared by ``tmbridge.rally``, ``tmbridge.qtest`` and ``tmbridge.testrail``."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union, cast

from . import _host
from ._files import AllowedFiles, attachment_paths
from ._state import State, work_key
from .config import ConfigSource, load_config
from .junit import iter_cases
from .types import Config, MapContext, Report, SessionSecrets

#: A report: a path (``str`` or ``os.PathLike``) to a JUnit/NUnit/xUnit/TRX/Robot/Cucumber
#: file or an allure-results folder, a file's bytes, or ``parse_junit``'s output.
ReportSource = Union[str, "os.PathLike[str]", bytes, Report]
StatePath = Union[str, "os.PathLike[str]"]
AllowedDirs = Optional[Iterable[Union[str, "os.PathLike[str]"]]]


def config_of(config: ConfigSource) -> Config:
    return cast(Config, dict(config)) if isinstance(config, Mapping) else load_config(config)


def state_of(state: Optional[StatePath]) -> Optional[State]:
    return None if state is None else State(os.fspath(state))


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_report(report: ReportSource) -> Tuple[Report, Optional[Path]]:
    """The parsed report and its folder (None when it did not come from a file)."""
    from . import parse_allure, parse_junit

    if isinstance(report, Mapping):
        return report, None
    if isinstance(report, bytes):
        return parse_junit(report), None
    if isinstance(report, str) and report.lstrip("\ufeff \t\r\n").startswith("<"):
        raise TypeError("publish() takes a report's path as str; pass XML text as bytes (text.encode())")
    path = Path(os.fspath(report))
    if path.is_dir():  # an allure-results folder: its attachments sit beside the results
        return parse_allure(path), path.resolve()
    return parse_junit(path), path.resolve().parent


def publish_run(
    kind: str,
    report: ReportSource,
    settings: Config,
    context: Optional[MapContext],
    secrets: Optional[SessionSecrets],
    state: Optional[StatePath],
    allowed_dirs: AllowedDirs,
    dry_run: bool,
    progress: _host.Progress,
) -> _host.Run:
    """A publish session's run: the report's cases, the files they attach (sizes
    known up front, contents read only inside ``allowed_dirs``) and the work's key."""
    parsed, folder = read_report(report)
    cases = list(iter_cases(parsed))
    allowed = list(allowed_dirs) if allowed_dirs is not None else ([folder] if folder is not None else [])
    protected = [] if state is None else [os.fspath(state) + suffix for suffix in ("", "-journal", "-wal")]
    files = AllowedFiles(folder or Path.cwd(), allowed, protected)
    run_context: Dict[str, Any] = dict(context or {})
    artifacts: List[Any] = list(run_context.get("artifacts") or [])
    known = {a.get("path") for a in artifacts}
    for path in attachment_paths(cases):  # type: ignore[arg-type]
        if path not in known:
            artifacts.append({"path": path, "size": files.size(path)})
    run_context["artifacts"] = artifacts
    # The same work is recognised without the clock: a rerun has another `now`.
    key = work_key(kind, {"config": settings, "cases": cases, "context": run_context})
    run_context.setdefault("now", now())
    return _host.Run(
        kind,
        {"config": settings, "cases": cases, "context": run_context},
        secrets=_host.secrets_for(kind, settings, secrets, dry_run),
        files=files,
        state=state_of(state),
        key=key,
        dry_run=dry_run,
        progress=progress,
    )


def simple_run(
    kind: str,
    config: ConfigSource,
    request: Optional[Mapping[str, Any]],
    secrets: Optional[SessionSecrets],
    dry_run: bool,
    progress: _host.Progress,
    state: Optional[StatePath] = None,
) -> _host.Run:
    """A session whose input is the configuration and, for some kinds, a request."""
    settings = config_of(config)
    given: Dict[str, Any] = {"config": settings}
    if request is not None:
        given["request"] = dict(request)
    return _host.Run(
        kind,
        given,
        secrets=_host.secrets_for(kind, settings, secrets, dry_run),
        state=state_of(state),
        key=work_key(kind, given) if state is not None else None,
        dry_run=dry_run,
        progress=progress,
    )
