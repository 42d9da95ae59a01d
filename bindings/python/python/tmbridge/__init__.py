"""tmbridge: test results from CI into Rally, qTest and TestRail, on a pure Rust core.

Every function passes JSON to the core and returns plain dicts and lists in the core's
JSON shapes (see ``tmbridge.types``). Failures raise ``tmbridge.Error`` subclasses
whose text, ``code``, ``line`` and ``column`` come from the core unchanged.

``tmbridge.Session`` runs a sync (test the Rally connection, publish results, import
user stories, link a test case, submit a defect): the core decides every request and
the script only moves bytes (see ``tmbridge.session``).

>>> import tmbridge
>>> report = tmbridge.parse_junit(b'<testsuite name="s"><testcase name="t"/></testsuite>')
>>> report["counts"]["passed"]
1
"""

from __future__ import annotations

import base64
import json
import os
from typing import IO, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union, cast

from . import _native, ops
from ._call import _BYTES, call, call_json
from ._envelope import raise_error, unwrap
from ._errors import (
    AutofillError,
    BridgeError,
    ConfigError,
    Error,
    GitlabError,
    InputError,
    JunitError,
    QtestError,
    RallyError,
    RallyQueryError,
    SessionError,
    TestrailError,
    error_class_for,
)
from .config import load_config
from .junit import iter_cases
from .session import Session, session_kinds
from .types import (
    AutofillAllowedValue,
    AutofillEdited,
    AutofillForm,
    AutofillFormEdit,
    AutofillOutput,
    AutofillProblem,
    AutofillRun,
    AutofillSchema,
    AutofillSettings,
    AutofillSource,
    Config,
    GitlabConfig,
    GitlabDecision,
    GitlabPipelineEvent,
    JunitEvent,
    JunitOptions,
    MapContext,
    OpSpec,
    Plan,
    RallyLookup,
    RallyQueryCheck,
    RallyQueryExpr,
    RallyQueryNormalized,
    RallyQueryOptions,
    RefCache,
    Report,
    TestCase,
    VersionInfo,
    Warning,
)

__all__ = [
    "AutofillError",
    "BridgeError",
    "ConfigError",
    "Error",
    "GitlabError",
    "InputError",
    "JunitError",
    "JunitReader",
    "QtestError",
    "RallyError",
    "RallyQueryError",
    "Session",
    "SessionError",
    "TestrailError",
    "autofill",
    "autofill_allowed_values",
    "autofill_check_mappings",
    "autofill_edit_form",
    "autofill_form",
    "autofill_render",
    "autofill_run_from_junit",
    "autofill_schema",
    "autofill_sources",
    "call",
    "call_json",
    "check_rally_query",
    "error_class_for",
    "gitlab_decide",
    "gitlab_pipeline_event",
    "gitlab_verify_token",
    "iter_cases",
    "junit_events",
    "list_ops",
    "load_config",
    "ops",
    "map_results",
    "normalize_rally_query",
    "parse_allure",
    "parse_junit",
    "parse_rally_query",
    "rally",
    "rally_poll_query",
    "read_junit",
    "read_rally_lookups",
    "session_kinds",
    "validate_config",
    "version",
    "__version__",
]

#: A document: text, bytes, or ``{"base64": ...}``.
Document = Union[str, bytes, bytearray, memoryview, Mapping[str, str]]
#: What a streaming reader reads: text, bytes, a file object (binary or text mode) or a path.
Source = Union[str, bytes, bytearray, memoryview, IO[bytes], IO[str], "os.PathLike[str]"]
#: A whole report: a document, a path (``os.PathLike``) or a file object.
ReportInput = Union[Document, "os.PathLike[str]", IO[bytes], IO[str]]

def _with_options(fields: Dict[str, Any], options: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    if options is not None:
        fields["options"] = dict(options)
    return fields


def list_ops() -> List[OpSpec]:
    """Every op the core offers, with its input and output shapes."""
    return cast(List[OpSpec], call("ops.list"))


def version() -> VersionInfo:
    """The core's version and its number of ops."""
    return cast(VersionInfo, call("ops.version"))


def _document(xml: ReportInput, function: str) -> Document:
    """The XML of a report given as a document, a path or a file object."""
    if isinstance(xml, os.PathLike):
        with open(xml, "rb") as file:
            return file.read()
    if hasattr(xml, "read"):
        return cast(Union[str, bytes], cast(IO[Any], xml).read())
    if isinstance(xml, str) and xml.strip() and not xml.lstrip("\ufeff \t\r\n").startswith("<"):
        # A str is XML text; a file name in a str would be read as broken XML.
        shown = xml if len(xml) <= 60 else xml[:57] + "..."
        raise TypeError(
            f"{function}() got a str that is not XML: {shown!r}; to read a file, "
            f"pass a path object ({function}(pathlib.Path({shown!r}))) or an open file"
        )
    return xml


def parse_junit(xml: ReportInput, options: Optional[JunitOptions] = None) -> Report:
    """Read a whole JUnit XML report.

    ``xml``: the XML as bytes (best: the reader finds the encoding) or str, a path as a
    ``pathlib.Path`` (any ``os.PathLike``), or a file object open in binary or text mode.
    A ``str`` is always XML text: one that does not start with ``<`` raises
    ``TypeError`` saying to pass ``Path(...)``.
    """
    document = _document(xml, "parse_junit")
    return cast(Report, call("junit.parse", _with_options({"xml": document}, options)))


def parse_allure(
    results: Union[str, "os.PathLike[str]", Iterable[Tuple[str, bytes]]],
    options: Optional[JunitOptions] = None,
) -> Report:
    """Read an ``allure-results`` folder (or its files as ``(name, bytes)`` pairs) into
    the same report as ``parse_junit``. Only the folder's own regular files are read;
    the core takes the ones it knows (``*-result.json``, ``*-container.json``, ...)."""
    if isinstance(results, (str, os.PathLike)):
        pairs = list(_allure_files(os.fspath(results)))
    else:
        pairs = list(results)
    files = [{"name": name, "text": _text_or_base64(data)} for name, data in pairs]
    return cast(Report, call("allure.read", _with_options({"files": files}, options)))


def _allure_files(folder: str) -> Iterator[Tuple[str, bytes]]:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            # The entry's own type: a symbolic link is not followed out of the folder.
            if entry.is_file(follow_symlinks=False) and entry.name.endswith((".json", ".properties")):
                with open(entry.path, "rb") as file:
                    yield entry.name, file.read()


def _text_or_base64(data: bytes) -> Union[str, Dict[str, str]]:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def junit_events(xml: Document, options: Optional[JunitOptions] = None) -> List[JunitEvent]:
    """The streaming reader's events for a whole report, as a list."""
    return cast(List[JunitEvent], call("junit.events", _with_options({"xml": xml}, options)))


# Events a JunitReader reads ahead (a batch also ends at 1 MiB of JSON).
_READ_AHEAD = 256


class JunitReader(Iterator[JunitEvent]):
    """Streams a JUnit report in constant memory: iterate it for event dicts.

    ``source`` is str, bytes, or a file object opened in binary (preferred) or text
    mode; the file is read in chunks as the iteration goes. An error in the report
    raises ``JunitError`` at the event where it is found; an exception of the file's
    ``read()`` is chained as ``__cause__``.
    """

    def __init__(self, source: Source, options: Optional[JunitOptions] = None) -> None:
        options_json = None if options is None else json.dumps(dict(options))
        if isinstance(source, os.PathLike):
            source = open(source, "rb")  # closed when the reader is collected
        self._native: Optional[_native.JunitReader] = _native.JunitReader(source, options_json)
        # Envelopes read ahead in one batch, last first: one crossing and one json.loads
        # per batch instead of per event.
        self._pending: List[Any] = []

    def __iter__(self) -> JunitReader:
        return self

    def __next__(self) -> JunitEvent:
        native = self._native
        if native is None:
            raise StopIteration
        if not self._pending:
            self._pending = json.loads(native.next_envelopes(_READ_AHEAD))
            self._pending.reverse()
        envelope = self._pending.pop()
        if envelope["error"] is not None:
            self._native = None
            raise_error(envelope["error"], native.take_source_error())
        if envelope["ok"] is None:
            self._native = None
            raise StopIteration
        return cast(JunitEvent, envelope["ok"])


def read_junit(source: Source, options: Optional[JunitOptions] = None) -> JunitReader:
    """Same as ``JunitReader(source, options)``."""
    return JunitReader(source, options)


# --- Mapping --------------------------------------------------------------------------


def map_results(
    target: str,
    context: MapContext,
    *,
    config: Optional[Config] = None,
    xml: Optional[Document] = None,
    cases: Optional[List[TestCase]] = None,
    refs: Optional[RefCache] = None,
) -> Plan:
    """Map test results (a JUnit report as ``xml``, or parsed ``cases``) to what a sync
    to ``target`` (``rally``, ``qtest``, ``testrail``) would send."""
    fields: Dict[str, Any] = {"target": target, "context": context, "config": config or {}}
    if xml is not None:
        fields["xml"] = xml
    if cases is not None:
        fields["cases"] = cases
    if refs is not None:
        fields["refs"] = refs
    return cast(Plan, call("map", fields))


def validate_config(config: Config, target: Optional[str] = None) -> List[Warning]:
    """Check a configuration (with a target, its required keys too); return the warnings."""
    return cast(List[Warning], call("config.validate", {"config": config, "target": target}))


# --- Rally queries --------------------------------------------------------------------


def normalize_rally_query(query: str, options: Optional[RallyQueryOptions] = None) -> RallyQueryNormalized:
    """Normalise a query into the form Rally accepts; raise ``RallyQueryError`` on the first error."""
    return cast(RallyQueryNormalized, call("rally_query.normalize", _with_options({"query": query}, options)))


def check_rally_query(query: str, options: Optional[RallyQueryOptions] = None) -> RallyQueryCheck:
    """Check a query: never raises for problems of the query, it reports them."""
    return cast(RallyQueryCheck, call("rally_query.check", _with_options({"query": query}, options)))


def parse_rally_query(query: str, strict: bool = False) -> RallyQueryExpr:
    """The syntax tree; ``strict`` refuses what Rally itself would refuse."""
    return cast(RallyQueryExpr, call("rally_query.parse", {"query": query, "strict": strict}))


def rally_poll_query(query: Optional[str], since: str, options: Optional[RallyQueryOptions] = None) -> RallyQueryNormalized:
    """The query plus ``(LastUpdateDate > since)`` for polling."""
    fields = _with_options({"query": query or "", "since": since}, options)
    return cast(RallyQueryNormalized, call("rally_query.poll", fields))


def read_rally_lookups(document: Document) -> List[RallyLookup]:
    """Release/Iteration ids from what Rally returned for /release or /iteration."""
    return cast(List[RallyLookup], call("rally_query.lookups", {"document": document}))


# --- Defect auto-fill -----------------------------------------------------------------


def autofill_schema(metadata: Document) -> AutofillSchema:
    """The defect-form schema from Rally's type metadata (TypeDefinition with Attributes)."""
    return cast(AutofillSchema, call("autofill.schema", {"metadata": metadata}))


def autofill_allowed_values(document: Document) -> List[AutofillAllowedValue]:
    """One attribute's AllowedValues, as Rally returned them."""
    return cast(List[AutofillAllowedValue], call("autofill.allowed_values", {"document": document}))


def autofill_form(schema: AutofillSchema, settings: Optional[AutofillSettings] = None) -> AutofillForm:
    """The form after the settings: hidden, ordered and added fields."""
    return cast(AutofillForm, call("autofill.form", {"schema": schema, "settings": settings or {}}))


def autofill_edit_form(
    schema: AutofillSchema, settings: Optional[AutofillSettings], edit: AutofillFormEdit
) -> AutofillEdited:
    """Apply one edit of the form to the settings."""
    fields: Dict[str, Any] = {"schema": schema, "settings": settings or {}, "edit": edit}
    return cast(AutofillEdited, call("autofill.edit_form", fields))


def autofill_check_mappings(schema: AutofillSchema, settings: Optional[AutofillSettings] = None) -> List[AutofillProblem]:
    """Check the settings' value maps against the schema."""
    fields: Dict[str, Any] = {"schema": schema, "settings": settings or {}}
    return cast(List[AutofillProblem], call("autofill.check_mappings", fields))


def autofill_run_from_junit(case: TestCase) -> AutofillRun:
    """The auto-fill run context of one JUnit test case."""
    return cast(AutofillRun, call("autofill.run_from_junit", {"case": case}))


def autofill(schema: AutofillSchema, run: AutofillRun, settings: Optional[AutofillSettings] = None) -> AutofillOutput:
    """Fill the defect form for a failed run: fields, problems and the Rally payload."""
    fields: Dict[str, Any] = {"schema": schema, "settings": settings or {}, "run": run}
    return cast(AutofillOutput, call("autofill.fill", fields))


def autofill_render(template: str, run: Optional[AutofillRun] = None, format: str = "plain") -> str:
    """Render one template against a run (``plain``, ``single_line`` or ``html``)."""
    fields: Dict[str, Any] = {"template": template, "run": run or {}, "format": format}
    return cast(str, call("autofill.render", fields))


def autofill_sources() -> List[AutofillSource]:
    """Every value a template can use."""
    return cast(List[AutofillSource], call("autofill.sources"))


# --- GitLab ---------------------------------------------------------------------------


def gitlab_pipeline_event(body: Document) -> GitlabPipelineEvent:
    """Read a Pipeline Hook request body."""
    return cast(GitlabPipelineEvent, call("gitlab.pipeline_event", {"body": body}))


def gitlab_decide(event: GitlabPipelineEvent, config: Optional[GitlabConfig] = None) -> GitlabDecision:
    """Whether a pipeline event is finished and worth processing, and which jobs."""
    return cast(GitlabDecision, call("gitlab.decide", {"event": event, "config": config or {}}))


def gitlab_verify_token(expected: str, received: Optional[str]) -> bool:
    """Compare the X-Gitlab-Token header with the secret in constant time."""
    return cast(bool, call("gitlab.verify_token", {"expected": expected, "received": received}))


def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version as installed
    except ImportError:  # pragma: no cover
        return str(version()["core"])
    try:
        return installed("tmbridge")
    except PackageNotFoundError:
        return str(version()["core"])


#: The package's version (the same as the core's).
__version__: str = _package_version()

from . import rally  # noqa: E402  (it uses the functions above)
