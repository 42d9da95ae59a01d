"""TestRail in a few lines: export cases into a suite and section, a run (or plan entry)
with every case in it, results in batches with their attachments; test the
configuration first::

    import tmbridge.testrail
    from pathlib import Path

    config = {"testrail": {"url": "https://acme.testrail.io", "project_id": "P1", "section_id": 10}}
    tmbridge.testrail.connect(config)        # URL, user + key, project, suite, section, statuses, fields
    report = tmbridge.testrail.publish(Path("allure-results"), config,
                                       context={"pipeline_id": "4242"},
                                       scope="status in (failed, error)",
                                       state="tmbridge-state.sqlite")

The user and API key come from ``secrets={"username": ..., "api_key": ...}`` (or
``"password"``), else the environment variables ``testrail.user_env`` and
``testrail.api_key_env`` name (``TESTRAIL_USER``, ``TESTRAIL_API_KEY``; or
``TESTRAIL_PASSWORD``). Reports are JUnit, NUnit, xUnit.net, TRX, Robot Framework,
Cucumber JSON files or allure-results folders. Everything else works as in
:mod:`tmbridge.rally`: reruns with the same ``state`` add nothing twice,
``dry_run=True`` sends nothing, and a session that ends with an error raises
``tmbridge.TestrailError`` with the report as ``report``. With ``state``, a 401 or 403
switches the export off until a call with ``reenable=True``, as ``tmbridge publish
--target testrail`` does with its outbox.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, cast

from . import _host
from ._envelope import raise_error
from ._errors import TestrailError
from ._runs import AllowedDirs, ReportSource, StatePath, config_of, now, publish_run, simple_run
from ._state import State
from .config import ConfigSource
from .host_types import RunReport
from .transport import AsyncTransport, Transport
from .types import Config, MapContext, SessionSecrets

__all__ = ["ReportSource", "connect", "connect_async", "publish", "publish_async"]


def _scoped(config: ConfigSource, scope: Optional[str]) -> Config:
    """The configuration with ``scope`` as ``testrail.scope`` (the core checks it and
    names the position of a mistake)."""
    settings = config_of(config)
    if scope is None:
        return settings
    merged = cast(Dict[str, Any], dict(settings))
    merged["testrail"] = dict(merged.get("testrail") or {}, scope=scope)
    return cast(Config, merged)


_TARGET = "testrail"
_REFUSED = ("testrail.unauthorized", "testrail.forbidden")


def _switch_on_or_raise(state: Optional[StatePath], reenable: bool) -> None:
    """With a state file: ``reenable`` turns the export back on; while it is off, nothing
    is sent and the error says since when, why and how to turn it on."""
    if state is None:
        return
    switch = State(os.fspath(state))
    try:
        if reenable:
            switch.enable(_TARGET)
            return
        off = switch.disabled(_TARGET)
    finally:
        switch.close()
    if off is not None:
        since, code, reason = off
        raise_error(
            {
                "code": "testrail.export_disabled",
                "message": f"the TestRail export is switched off since {since} because TestRail "
                f"refused access ({code}: {reason}); nothing was sent",
                "hint": "check the credentials with tmbridge.testrail.connect(config), then "
                "publish again with reenable=True",
            }
        )


def _switch_off_if_refused(state: Optional[StatePath], error: TestrailError) -> None:
    """A 401 or 403: the export switches itself off (recorded in the state file)."""
    if state is None or error.code not in _REFUSED:
        return
    report: Dict[str, Any] = getattr(error, "report", None) or {}
    lost = (report.get("details") or {}).get("access_lost") or {}
    switch = State(os.fspath(state))
    try:
        switch.disable(_TARGET, now(), str(lost.get("code") or error.code), str(lost.get("message") or error.detail))
    finally:
        switch.close()


def publish(
    report: ReportSource,
    config: ConfigSource,
    *,
    context: Optional[MapContext] = None,
    scope: Optional[str] = None,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    allowed_dirs: AllowedDirs = None,
    dry_run: bool = False,
    progress: _host.Progress = None,
    transport: Optional[Transport] = None,
    reenable: bool = False,
) -> RunReport:
    """Export a report to TestRail (``testrail.publish``): cases created in the
    configured section (or updated when tmbridge exported them before and they changed),
    a run or plan entry holding them, the results with statuses from the status table,
    and the files the tests attach (read only inside ``allowed_dirs``, by default the
    report's folder). ``scope``: a filter such as ``status in (failed, error)`` or
    ``tag = smoke`` selecting what is exported (``testrail.scope`` in the configuration).

    With ``state``, a 401 or 403 switches the export off: later calls raise
    ``TestrailError`` (``testrail.export_disabled``) and send nothing until one passes
    ``reenable=True`` (check the credentials with :func:`connect` first)."""
    if not dry_run:
        _switch_on_or_raise(state, reenable)
    run = publish_run("testrail.publish", report, _scoped(config, scope), context, secrets, state, allowed_dirs, dry_run, progress)
    try:
        return _host.drive(run, transport)
    except TestrailError as error:
        _switch_off_if_refused(state, error)
        raise


async def publish_async(
    report: ReportSource,
    config: ConfigSource,
    *,
    context: Optional[MapContext] = None,
    scope: Optional[str] = None,
    secrets: Optional[SessionSecrets] = None,
    state: Optional[StatePath] = None,
    allowed_dirs: AllowedDirs = None,
    dry_run: bool = False,
    progress: _host.Progress = None,
    transport: Optional[AsyncTransport] = None,
    reenable: bool = False,
) -> RunReport:
    """:func:`publish` for asyncio."""
    if not dry_run:
        _switch_on_or_raise(state, reenable)
    run = publish_run("testrail.publish", report, _scoped(config, scope), context, secrets, state, allowed_dirs, dry_run, progress)
    try:
        return await _host.drive_async(run, transport)
    except TestrailError as error:
        _switch_off_if_refused(state, error)
        raise


def connect(
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[Transport] = None,
) -> RunReport:
    """Check the configuration against TestRail: the URL, the credentials, the project,
    the suite (needed when the project has several), the section, the status table
    against the instance's statuses and the custom fields it maps."""
    return _host.drive(simple_run("testrail.connect", config, None, secrets, dry_run, progress), transport)


async def connect_async(
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[AsyncTransport] = None,
) -> RunReport:
    """:func:`connect` for asyncio."""
    return await _host.drive_async(simple_run("testrail.connect", config, None, secrets, dry_run, progress), transport)
