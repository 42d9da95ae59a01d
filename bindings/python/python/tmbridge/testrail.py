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
``dry_run=True`` sends nothing, and a session that ends with an error (401/403
included) raises ``tmbridge.TestrailError`` with the report as ``report``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, cast

from . import _host
from ._runs import AllowedDirs, ReportSource, StatePath, config_of, publish_run, simple_run
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
) -> RunReport:
    """Export a report to TestRail (``testrail.publish``): cases created in the
    configured section (or updated when tmbridge exported them before and they changed),
    a run or plan entry holding them, the results with statuses from the status table,
    and the files the tests attach (read only inside ``allowed_dirs``, by default the
    report's folder). ``scope``: a filter such as ``status in (failed, error)`` or
    ``tag = smoke`` selecting what is exported (``testrail.scope`` in the configuration)."""
    run = publish_run("testrail.publish", report, _scoped(config, scope), context, secrets, state, allowed_dirs, dry_run, progress)
    return _host.drive(run, transport)


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
) -> RunReport:
    """:func:`publish` for asyncio."""
    run = publish_run("testrail.publish", report, _scoped(config, scope), context, secrets, state, allowed_dirs, dry_run, progress)
    return await _host.drive_async(run, transport)


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
