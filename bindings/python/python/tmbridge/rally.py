"""Rally in a few lines: publish results, test the connection, import user stories,
load a type's form schema and submit a defect, each one a core session run to its
end by a built-in host loop::

    import tmbridge.rally
    from pathlib import Path

    report = tmbridge.rally.publish(Path("report.xml"), Path("rally.toml"),
                                    context={"pipeline_id": "4242", "sprint": "14"},
                                    state="tmbridge-state.sqlite")
    print(len(report["created"]), "records created")

The core decides every request, retry, wait and save point; these functions only
send, sleep, read the files the report names (inside ``allowed_dirs``) and store the
saved progress in ``state`` (an sqlite3 file): a script killed at any point and run
again goes on where it stopped and creates nothing twice.

Common arguments:

- ``config``: the configuration, as a dict or a path to a ``.toml`` or ``.json`` file.
- ``secrets``: ``{"api_key": ...}`` or ``{"username": ..., "password": ...}``; when
  left out, the environment variable that ``rally.api_key_env`` names
  (``RALLY_API_KEY`` by default), else ``RALLY_USERNAME`` and ``RALLY_PASSWORD``.
  Never printed, never stored.
- ``transport``: where requests go (see :mod:`tmbridge.transport`); the standard
  library's ``urllib`` when left out. ``*_async`` functions take an
  :class:`~tmbridge.transport.AsyncTransport` (the built-in one runs in a thread).
- ``progress``: ``progress(done, total)`` callback; by default a tqdm bar when tqdm
  is installed; ``False`` for nothing.
- ``dry_run``: send nothing; the report's ``dry_run_requests`` lists every request
  that would have been sent, secrets masked.

A session that ends with an error (a refused key, Rally down) raises the exception of
its area (``tmbridge.RallyError``, ``tmbridge.SessionError``...) with the whole report
as its ``report`` attribute. Records Rally refused one by one are listed in the
report's ``failed``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, cast

from . import _host
from ._runs import AllowedDirs, ReportSource, StatePath, config_of, publish_run, simple_run, state_of
from ._state import work_key
from .config import ConfigSource
from .transport import AsyncTransport, Transport
from .host_types import RunReport
from .types import (
    AutofillSchema,
    DefectRequest,
    Requirement,
    SessionDetailsRequirements,
    MapContext,
    SessionDetailsSchema,
    SessionSecrets,
)

__all__ = [
    "ReportSource",
    "connect",
    "connect_async",
    "import_requirements",
    "import_requirements_async",
    "load_schema",
    "load_schema_async",
    "publish",
    "publish_async",
    "submit_defect",
    "submit_defect_async",
]

# --- publish ----------------------------------------------------------------------------


def publish(
    report: ReportSource,
    config: ConfigSource,
    *,
    context: Optional[MapContext] = None,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    allowed_dirs: AllowedDirs = None,
    dry_run: bool = False,
    progress: _host.Progress = None,
    transport: Optional[Transport] = None,
) -> RunReport:
    """Publish a JUnit report's results to Rally: test case results (with their
    attachments), the test set, and what the configuration asks for.

    ``report`` is a path (``str`` or ``Path``), the XML as bytes, or ``parse_junit``'s
    output. Attachments the tests name are read only inside ``allowed_dirs`` (by
    default the report's folder; none for a report given as bytes), never through a
    symbolic link leading out. ``state``: an sqlite3 file keeping the progress; run the
    same script again after a crash and it goes on without duplicates (after a run that
    finished, the same work returns the stored report and sends nothing).
    """
    run = publish_run("rally.publish", report, config_of(config), context, secrets, state, allowed_dirs, dry_run, progress)
    return _host.drive(run, transport)


async def publish_async(
    report: ReportSource,
    config: ConfigSource,
    *,
    context: Optional[MapContext] = None,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    allowed_dirs: AllowedDirs = None,
    dry_run: bool = False,
    progress: _host.Progress = None,
    transport: Optional[AsyncTransport] = None,
) -> RunReport:
    """:func:`publish` for asyncio."""
    run = publish_run("rally.publish", report, config_of(config), context, secrets, state, allowed_dirs, dry_run, progress)
    return await _host.drive_async(run, transport)


# --- connect, schema, defect -------------------------------------------------------------


def connect(
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[Transport] = None,
) -> RunReport:
    """Test the connection: the key, the workspace and the project. The report's
    ``details`` name the user, workspace and project; a refused key raises."""
    return _host.drive(simple_run("rally.connect", config, None, secrets, dry_run, progress), transport)


async def connect_async(
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[AsyncTransport] = None,
) -> RunReport:
    """:func:`connect` for asyncio."""
    run = simple_run("rally.connect", config, None, secrets, dry_run, progress)
    return await _host.drive_async(run, transport)


def _schema_of(report: RunReport) -> AutofillSchema:
    details = cast(SessionDetailsSchema, report["details"])
    schema = details["schema"]
    if schema is None:  # the session ends with an error then, which check() raised
        raise RuntimeError("the schema session ended without a schema")
    return schema


def load_schema(
    config: ConfigSource,
    type_name: str = "Defect",
    *,
    secrets: Optional[SessionSecrets] = None,
    progress: _host.Progress = False,
    transport: Optional[Transport] = None,
) -> AutofillSchema:
    """The form schema of a Rally type (every attribute with its allowed values), for
    ``tmbridge.autofill``."""
    run = simple_run("rally.schema", config, {"type_name": type_name}, secrets, False, progress)
    return _schema_of(_host.drive(run, transport))


async def load_schema_async(
    config: ConfigSource,
    type_name: str = "Defect",
    *,
    secrets: Optional[SessionSecrets] = None,
    progress: _host.Progress = False,
    transport: Optional[AsyncTransport] = None,
) -> AutofillSchema:
    """:func:`load_schema` for asyncio."""
    run = simple_run("rally.schema", config, {"type_name": type_name}, secrets, False, progress)
    return _schema_of(await _host.drive_async(run, transport))


def submit_defect(
    request: DefectRequest,
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[Transport] = None,
) -> RunReport:
    """File a defect: ``request["payload"]`` is ``tmbridge.autofill(...)["payload"]``;
    ``test_case``, ``requirement`` and ``test_case_result`` link it. With ``state``, a
    rerun after a crash finds the defect it may have created instead of filing another."""
    run = simple_run("rally.defect", config, request, secrets, dry_run, progress, state)
    return _host.drive(run, transport)


async def submit_defect_async(
    request: DefectRequest,
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[AsyncTransport] = None,
) -> RunReport:
    """:func:`submit_defect` for asyncio."""
    run = simple_run("rally.defect", config, request, secrets, dry_run, progress, state)
    return await _host.drive_async(run, transport)


# --- requirements ------------------------------------------------------------------------


class _Poller:
    """The polls of one import: each one's request, and the cursor between them."""

    def __init__(
        self,
        query: Optional[str],
        config: ConfigSource,
        since: Optional[str],
        projects: Optional[List[str]],
        fields: Optional[List[str]],
        time_zone: Optional[str],
        secrets: Optional[SessionSecrets],
        state: Optional[StatePath],
    ) -> None:
        self.settings = config_of(config)
        self.secrets = _host.secrets_for("rally.requirements", self.settings, secrets, False)
        self.request: Dict[str, Any] = {
            "query": query,
            "projects": projects or [],
            "fields": fields or [],
            "time_zone": time_zone,
        }
        self.state = state_of(state)
        self.key = work_key("rally.requirements", {"config": self.settings.get("rally"), "request": self.request})
        stored = self.state.cursor(self.key) if self.state is not None else None
        self.since = since if since is not None else stored

    def run(self) -> _host.Run:
        request = dict(self.request, since=self.since)
        return _host.Run("rally.requirements", {"config": self.settings, "request": request}, secrets=self.secrets)

    def polled(self, report: RunReport) -> List[Requirement]:
        details = cast(SessionDetailsRequirements, report["details"])
        return details["requirements"]

    def close(self) -> None:
        if self.state is not None:
            self.state.close()

    def advance(self, report: RunReport) -> None:
        """After every story of a poll was taken: the next poll starts from here."""
        next_since = cast(SessionDetailsRequirements, report["details"])["next_since"]
        if next_since is not None:
            self.since = next_since
            if self.state is not None:
                self.state.set_cursor(self.key, next_since)


def import_requirements(
    query: Optional[str] = None,
    *,
    config: ConfigSource,
    since: Optional[str] = None,
    watch: bool = False,
    interval: float = 120,
    projects: Optional[List[str]] = None,
    fields: Optional[List[str]] = None,
    time_zone: Optional[str] = None,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    transport: Optional[Transport] = None,
) -> Iterator[Requirement]:
    """The user stories ``query`` finds (a Rally query as people write it; the core
    normalises it), as a generator.

    ``since``: only stories changed after it. With ``state`` the cursor is kept in the
    state file: the next call (or the next poll) starts where the previous one ended,
    once all of its stories were taken. ``watch=True`` polls again every ``interval``
    seconds until the generator is closed.
    """
    poller = _Poller(query, config, since, projects, fields, time_zone, secrets, state)
    try:
        while True:
            report = _host.drive(poller.run(), transport)
            yield from poller.polled(report)
            poller.advance(report)
            if not watch:
                return
            time.sleep(interval)
    finally:
        poller.close()


async def import_requirements_async(
    query: Optional[str] = None,
    *,
    config: ConfigSource,
    since: Optional[str] = None,
    watch: bool = False,
    interval: float = 120,
    projects: Optional[List[str]] = None,
    fields: Optional[List[str]] = None,
    time_zone: Optional[str] = None,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    transport: Optional[AsyncTransport] = None,
) -> AsyncIterator[Requirement]:
    """:func:`import_requirements` for asyncio (an async generator)."""
    poller = _Poller(query, config, since, projects, fields, time_zone, secrets, state)
    try:
        while True:
            report = await _host.drive_async(poller.run(), transport)
            for story in poller.polled(report):
                yield story
            poller.advance(report)
            if not watch:
                return
            await asyncio.sleep(interval)
    finally:
        poller.close()
