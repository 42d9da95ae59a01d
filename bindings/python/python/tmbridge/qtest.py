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

:func:`submit_defect` files a Rally defect from a failed test run::

    schema = tmbridge.rally.load_schema(config)          # or tmbridge.autofill_schema(...)
    done = tmbridge.qtest.submit_defect(88213, config, schema=schema, settings=form)
    print(done["defect"]["details"]["formatted_id"], done["url"])
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, TypedDict

from . import _host
from ._runs import AllowedDirs, ReportSource, StatePath, config_of, publish_run, simple_run
from .config import ConfigSource
from .host_types import RunReport
from .transport import AsyncTransport, Transport
from ._call import call
from .types import AutofillOutput, AutofillSchema, AutofillSettingsInput, MapContext, SessionSecrets

__all__ = ["DefectFromRun", "ReportSource", "connect", "connect_async", "publish", "publish_async", "submit_defect"]


class DefectFromRun(TypedDict):
    """What :func:`submit_defect` did: each session's report and the filled form."""

    #: ``qtest.failed_run``: the run, its test case and latest log, the log's files.
    run: RunReport
    #: The filled form; when ``ready`` is false its problems say why nothing was sent.
    form: AutofillOutput
    #: ``rally.defect`` (None when the form was not ready).
    defect: Optional[RunReport]
    #: ``qtest.link_defect``: the comment on the run that links the defect.
    link_back: Optional[RunReport]
    #: The defect's page in Rally.
    url: Optional[str]


def submit_defect(
    test_run: int,
    config: ConfigSource,
    *,
    schema: AutofillSchema,
    settings: Optional[AutofillSettingsInput] = None,
    test_case: Optional[str] = None,
    story: Optional[str] = None,
    qtest_secrets: Optional[SessionSecrets] = None,
    rally_secrets: Optional[SessionSecrets] = None,
    progress: _host.Progress = False,
    transport: Optional[Transport] = None,
) -> DefectFromRun:
    """File a Rally defect from a failed qTest test run (its id): read the run, its test
    case and latest log; fill the form (nothing is sent while it is not ready); file it
    linked to the Rally test case whose Description holds the qTest case's address and
    to that case's story (``test_case``/``story`` override), with the log's files; then
    link it back in a comment on the run. Both ``[rally]`` and ``[qtest]`` are read from
    ``config``; secrets default to the environment as for :func:`publish`."""
    settings_of = config_of(config)
    read = simple_run("qtest.failed_run", settings_of, {"test_run": test_run}, qtest_secrets, False, progress)
    run = _host.drive(read, transport)
    found: Dict[str, Any] = dict(run["details"])
    form: AutofillOutput = call("autofill.fill", {"schema": schema, "settings": settings or {}, "run": found["run"]})
    if not form["ready"]:
        return {"run": run, "form": form, "defect": None, "link_back": None, "url": None}
    request = {
        "payload": form["payload"],
        "test_case": test_case,
        "requirement": story,
        "test_case_link": found["test_case_url"],
        "attachments": found["attachments"],
    }
    defect = _host.drive(simple_run("rally.defect", settings_of, request, rally_secrets, False, progress), transport)
    filed: Dict[str, Any] = dict(defect["details"])
    oid = str(filed.get("ref") or "").rsplit("/", 1)[-1]
    base = str((settings_of.get("rally") or {}).get("url") or "").rstrip("/")
    url = f"{base}/#/detail/defect/{oid}" if base and re.fullmatch(r"\d+", oid) else None
    link = {
        "test_run": test_run,
        "test_log": found["test_log_id"],
        "defect": {"formatted_id": filed["formatted_id"], "url": url, "name": filed.get("name")},
    }
    link_back = _host.drive(simple_run("qtest.link_defect", settings_of, link, qtest_secrets, False, progress), transport)
    return {"run": run, "form": form, "defect": defect, "link_back": link_back, "url": url}


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
