"""qTest Manager in a few lines: publish CI results as test cases, the job's test cycle,
a test suite per browser, test runs and one test log per execution; test the
connection first::

    import tmbridge.qtest
    from pathlib import Path

    config = {"qtest": {"url": "https://acme.qtestnet.com", "project_id": 12345}}
    tmbridge.qtest.connect(config)                 # site, token, project, automation settings
    report = tmbridge.qtest.publish(Path("report.xml"), config,
                                    context={"pipeline_id": "4242", "job_name": "e2e-chrome"},
                                    state="tmbridge-state.sqlite")

The token comes from ``secrets={"api_key": ...}`` or the environment variable that
``qtest.token_env`` names (``TMBRIDGE_QTEST_TOKEN`` by default). Everything else works
as in :mod:`tmbridge.rally`: the core decides each request, retry and save point; a
script killed part-way and run again with the same ``state`` goes on without creating a
case, run, cycle or suite twice; ``dry_run=True`` sends nothing and lists the requests
masked; a session that ends with an error raises ``tmbridge.QtestError`` (or the error
of its area) with the report as ``report``.
"""

from __future__ import annotations

from typing import Optional

from . import _host
from ._runs import AllowedDirs, ReportSource, StatePath, config_of, publish_run, simple_run
from .config import ConfigSource
from .host_types import RunReport
from .transport import AsyncTransport, Transport
from .types import MapContext, SessionSecrets

__all__ = ["ReportSource", "connect", "connect_async", "publish", "publish_async"]


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
    """Publish a report's results to qTest (``qtest.publish``): each test case under the
    parent module and its suite or class path, the job's test cycle (``context``'s
    ``job_name``; ``Jobless Executions`` without one), a suite per browser, a test run
    per test and a test log per execution with the files the test attaches (read only
    inside ``allowed_dirs``, by default the report's folder). Nothing is sent when the
    project's automation settings are off or do not map PASS, FAIL and SKIP."""
    run = publish_run("qtest.publish", report, config_of(config), context, secrets, state, allowed_dirs, dry_run, progress)
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
    run = publish_run("qtest.publish", report, config_of(config), context, secrets, state, allowed_dirs, dry_run, progress)
    return await _host.drive_async(run, transport)


def connect(
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[Transport] = None,
) -> RunReport:
    """Test the connection: the site, the token, the project and its automation
    settings (on, and PASS, FAIL and SKIP mapped); each problem raises with its fix."""
    return _host.drive(simple_run("qtest.connect", config, None, secrets, dry_run, progress), transport)


async def connect_async(
    config: ConfigSource,
    *,
    secrets: Optional[SessionSecrets] = None,
    dry_run: bool = False,
    progress: _host.Progress = False,
    transport: Optional[AsyncTransport] = None,
) -> RunReport:
    """:func:`connect` for asyncio."""
    return await _host.drive_async(simple_run("qtest.connect", config, None, secrets, dry_run, progress), transport)
