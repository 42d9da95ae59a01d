"""Shapes of the values tmbridge returns: the core's JSON contract as TypedDicts.

Field names are the core's (snake_case), enums are lowercase strings, absent values
are None, durations are integer microseconds. At run time they are plain dicts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Tuple, TypedDict, Union


class Location(TypedDict):
    offset: int
    line: int
    column: int


class CoreError(TypedDict):
    code: str
    message: str
    location: Optional[Location]
    hint: Optional[str]


class Warning(TypedDict):
    code: str
    message: str
    location: Optional[Location]


class OpSpec(TypedDict):
    name: str
    summary: str
    input: str
    output: str
    document: Optional[str]


class VersionInfo(TypedDict):
    core: str
    ops: int


class JunitOptions(TypedDict, total=False):
    max_captured_bytes: int
    max_depth: int
    max_markup_bytes: int
    max_text_bytes: int
    max_warnings: int


# Written as unions of single literals so that the run-time object is a Union too
# (mypy's stubtest compares the two).
Status = Union[Literal["passed"], Literal["flaky"], Literal["skipped"], Literal["failed"], Literal["error"]]
RootKind = Union[
    Literal["testsuites"],
    Literal["testsuite"],
    Literal["testrun"],
    Literal["nunit3"],
    Literal["nunit2"],
    Literal["xunit2"],
    Literal["trx"],
    Literal["robot"],
    Literal["cucumber"],
]


class CapturedText(TypedDict):
    text: str
    truncated: bool
    original_bytes: int


# "type" is a field name of the contract; the functional form allows it anywhere.
Outcome = TypedDict(
    "Outcome",
    {
        "kind": Literal["failure", "error", "skipped"],
        "message": Optional[str],
        "type": Optional[str],
        "details": Optional[CapturedText],
    },
)

Rerun = TypedDict(
    "Rerun",
    {
        "kind": Literal["flaky_failure", "flaky_error", "rerun_failure", "rerun_error"],
        "message": Optional[str],
        "type": Optional[str],
        "duration_us": Optional[int],
        "timestamp": Optional[str],
        "details": Optional[CapturedText],
        "system_out": Optional[CapturedText],
        "system_err": Optional[CapturedText],
    },
)


class Property(TypedDict):
    name: str
    value: str


class Step(TypedDict):
    """One step of a test case (a Robot keyword, a Cucumber step), nested steps
    flattened in order with their depth (0 for the case's own steps)."""

    keyword: Optional[str]
    name: str
    status: Status
    duration_us: Optional[int]
    message: Optional[str]
    depth: int


class _TestCaseRequired(TypedDict):
    suite: List[str]
    classname: Optional[str]
    name: str
    file: Optional[str]
    line: Optional[int]
    status: Status
    duration_us: Optional[int]
    time_text: Optional[str]
    timestamp: Optional[str]
    message: Optional[str]
    outcomes: List[Outcome]
    reruns: List[Rerun]
    system_out: Optional[CapturedText]
    system_err: Optional[CapturedText]
    properties: List[Property]
    attachments: List[str]
    location: Location


class TestCase(_TestCaseRequired, total=False):
    """A test case; ``steps`` only where the format has steps (not JUnit)."""

    steps: List[Step]


class DeclaredCounts(TypedDict):
    tests: Optional[int]
    failures: Optional[int]
    errors: Optional[int]
    skipped: Optional[int]


class Counts(TypedDict):
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int


class SuiteInfo(TypedDict):
    path: List[str]
    name: str
    id: Optional[str]
    package: Optional[str]
    file: Optional[str]
    hostname: Optional[str]
    timestamp: Optional[str]
    duration_us: Optional[int]
    time_text: Optional[str]
    declared: DeclaredCounts
    properties: List[Property]
    location: Location


class Suite(SuiteInfo):
    system_out: Optional[CapturedText]
    system_err: Optional[CapturedText]
    counts: Counts
    cases: List[TestCase]
    suites: List["Suite"]


class Report(TypedDict):
    root: RootKind
    name: Optional[str]
    declared: DeclaredCounts
    duration_us: Optional[int]
    timestamp: Optional[str]
    counts: Counts
    suites: List[Suite]
    warnings: List[Warning]


class ReportStartEvent(TypedDict):
    event: Literal["report_start"]
    root: RootKind
    name: Optional[str]
    declared: DeclaredCounts
    duration_us: Optional[int]
    timestamp: Optional[str]
    location: Location


class SuiteStartEvent(SuiteInfo):
    event: Literal["suite_start"]


class CaseEvent(TestCase):
    event: Literal["case"]


class SuiteEndEvent(TypedDict):
    event: Literal["suite_end"]
    path: List[str]
    system_out: Optional[CapturedText]
    system_err: Optional[CapturedText]
    late_properties: List[Property]
    counts: Counts


class ReportEndEvent(TypedDict):
    event: Literal["report_end"]
    counts: Counts
    suites: int
    warnings: List[Warning]
    warnings_dropped: int


JunitEvent = Union[ReportStartEvent, SuiteStartEvent, CaseEvent, SuiteEndEvent, ReportEndEvent]


# --- Mapping -------------------------------------------------------------------------

#: A configuration as JSON: sections ``matching``, ``rally``, ``qtest``, ``testrail``, ``gitlab``.
Config = Dict[str, Any]
#: The run being mapped (``now`` is required by most templates): see ``MapContext`` in index.d.ts.
MapContext = Dict[str, Any]
#: Ids the host already looked up.
RefCache = Dict[str, Dict[str, str]]
Target = Union[Literal["rally"], Literal["qtest"], Literal["testrail"]]
#: Everything a sync to the target would send (its shape depends on the target).
Plan = Dict[str, Any]


# --- Rally queries -------------------------------------------------------------------


class RallyLookup(TypedDict):
    kind: Literal["release", "iteration"]
    project: Optional[str]
    name: str
    object_id: int


class RallyQueryOptions(TypedDict, total=False):
    time_zone: Optional[str]
    fields: Any
    lookups: List[RallyLookup]
    project: Optional[str]


class RallyQueryChange(TypedDict):
    kind: str
    message: str
    before: str
    after: str
    location: Optional[Location]


class RallyQueryDiagnostic(TypedDict):
    severity: Literal["error", "warning"]
    code: str
    message: str
    location: Optional[Location]
    end: Optional[Location]
    hint: Optional[str]


class RallyLookupNeed(TypedDict):
    kind: Literal["release", "iteration"]
    project: Optional[str]
    name: str


class RallyQueryNormalized(TypedDict):
    query: str
    order: Optional[str]
    complete: bool
    changes: List[RallyQueryChange]
    warnings: List[RallyQueryDiagnostic]
    needs: List[RallyLookupNeed]


class RallyQueryCheck(TypedDict):
    valid: bool
    unchanged: bool
    canonical: Optional[str]
    order: Optional[str]
    changes: List[RallyQueryChange]
    diagnostics: List[RallyQueryDiagnostic]
    needs: List[RallyLookupNeed]


#: The syntax tree: ``{"type": "condition", field, op, values, ...}`` or ``{"type": "and"|"or", left, right}``.
RallyQueryExpr = Dict[str, Any]


# --- Defect auto-fill ----------------------------------------------------------------


class AutofillAllowedValue(TypedDict):
    value: str
    reference: Optional[str]


class AutofillField(TypedDict):
    name: str
    label: str
    kind: str
    attribute_type: str
    schema_type: Optional[str]
    required: bool
    read_only: bool
    hidden: bool
    custom: bool
    max_length: Optional[int]
    allowed_values: List[AutofillAllowedValue]
    allowed_values_loaded: bool
    allowed_values_ref: Optional[str]
    origin: str


class AutofillSchema(TypedDict):
    type_name: str
    fields: List[AutofillField]
    warnings: List[Warning]


#: The user's layer over the schema (hidden, order, added_fields, rules, defaults, value_maps, ...).
AutofillSettings = Dict[str, Any]
#: The failed run: ``{"test_run": ..., "test_case": ..., "test_log": ..., "source_format": ...}``.
AutofillRun = Dict[str, Any]
#: One form edit: ``{"op": "hide", "field": "Priority"}`` and the like.
AutofillFormEdit = Dict[str, Any]


class AutofillProblem(TypedDict):
    severity: Literal["error", "warning", "info"]
    code: str
    field: Optional[str]
    message: str
    hint: Optional[str]


class AutofillFilledField(TypedDict):
    field: str
    label: str
    kind: str
    required: bool
    value: str
    reference: Optional[str]
    filled_by: Literal["rule", "value_map", "default", "automatic", "none"]
    rule: Optional[int]
    explanation: str
    truncated: bool


class AutofillOutput(TypedDict):
    type_name: str
    ready: bool
    fields: List[AutofillFilledField]
    problems: List[AutofillProblem]
    payload: Dict[str, Dict[str, Any]]


class AutofillForm(TypedDict):
    type_name: str
    fields: List[AutofillField]
    problems: List[AutofillProblem]


class AutofillEdited(TypedDict):
    settings: AutofillSettings
    note: str


class AutofillSource(TypedDict):
    path: str
    kind: str
    about: str


# --- GitLab --------------------------------------------------------------------------

GitlabPipelineEvent = Dict[str, Any]
GitlabConfig = Dict[str, Any]


class GitlabDecision(TypedDict):
    process: bool
    reason: str
    jobs: List[int]


# --- Sessions ------------------------------------------------------------------------
# A session's steps and reports, as ``Session.next()`` returns them. The host moves
# bytes (HTTP, sleeps, file reads, storing saved progress); the core decides the rest.

#: One header, ``[name, value]`` (a two-item list once read from JSON).
Header = Tuple[str, str]
HttpMethod = Union[Literal["GET"], Literal["POST"], Literal["PUT"], Literal["DELETE"]]


class HttpRequest(TypedDict):
    """A complete request: send it as it is (the host adds no auth, no content type)."""

    id: int
    method: HttpMethod
    url: str
    headers: List[Header]
    #: JSON text, or None for no body.
    body: Optional[str]


#: How an exchange ended: ``answered`` (any status), or no answer at all:
#: ``connect_failed`` (not delivered), ``timeout`` and ``dropped`` (the server may have acted).
ResponseKind = Union[Literal["answered"], Literal["connect_failed"], Literal["timeout"], Literal["dropped"]]


class _HttpResponseRequired(TypedDict):
    kind: ResponseKind
    status: int
    headers: List[Header]
    body: str


class HttpResponse(_HttpResponseRequired, total=False):
    """The answer to one request. Without an answer ``status`` is 0 and ``body`` says why.
    A body that is not UTF-8 text (a zip archive) goes in ``body_base64``, ``body`` empty."""

    body_base64: str


class SendStep(HttpRequest):
    """Send this request, then ``receive(id, response)``."""

    step: Literal["send"]


class WaitStep(TypedDict):
    """Sleep this long (backoff, ``Retry-After``), then ``next()`` again."""

    step: Literal["wait"]
    ms: int


class ReadStep(TypedDict):
    """Read this file (an attachment the report names), then ``provide_file(id, ...)``."""

    step: Literal["read"]
    id: int
    path: str


class SaveStep(TypedDict):
    """Store ``save()`` now (durably), then ``next()`` again."""

    step: Literal["save"]


RecordKind = Union[
    Literal["test_case_result"],
    Literal["attachment"],
    Literal["test_set"],
    Literal["test_set_members"],
    Literal["test_case"],
    Literal["defect"],
    Literal["lookup"],
]

# "ref" reads better as a field name than as a keyword-safe alias: functional form.
SyncEntry = TypedDict(
    "SyncEntry",
    {"kind": RecordKind, "key": str, "ref": Optional[str], "why": str, "tests": List[str]},
)


class SyncStats(TypedDict):
    requests: int
    retries: int
    waited_ms: int


NamedRef = TypedDict("NamedRef", {"ref": str, "name": Optional[str]})


class ConnectionDetails(TypedDict):
    session: Literal["connection"]
    base_url: str
    auth: Union[Literal["api_key"], Literal["basic"]]
    user: Optional[str]
    workspace: Optional[NamedRef]
    project: Optional[NamedRef]
    ok: bool


class PublishDetails(TypedDict):
    session: Literal["publish"]
    cache: RefCache
    iteration: Optional[NamedRef]
    sprint: Optional[str]
    test_set: Optional[NamedRef]
    summary: List[Dict[str, Any]]
    review: List[Dict[str, Any]]
    missing: List[str]


Requirement = TypedDict(
    "Requirement",
    {
        "ref": str,
        "formatted_id": Optional[str],
        "name": Optional[str],
        "project": Optional[str],
        "last_update_date": Optional[str],
        "fields": Dict[str, str],
    },
)


class RequirementsDetails(TypedDict):
    session: Literal["requirements"]
    requirements: List[Requirement]
    query: Optional[str]
    #: Give this as ``since`` to the next poll.
    next_since: Optional[str]


LinkTestCaseDetails = TypedDict(
    "LinkTestCaseDetails",
    {
        "session": Literal["link_test_case"],
        "formatted_id": Optional[str],
        "ref": Optional[str],
        "name": str,
        "work_product": Optional[str],
        "created": bool,
    },
)

DefectDetails = TypedDict(
    "DefectDetails",
    {
        "session": Literal["defect"],
        "formatted_id": Optional[str],
        "ref": Optional[str],
        "name": Optional[str],
        "state": Optional[str],
    },
)

class SchemaDetails(TypedDict):
    session: Literal["schema"]
    #: The type's form schema; None when the session stopped before it was read.
    schema: Optional[AutofillSchema]


SessionDetails = Union[
    ConnectionDetails, PublishDetails, RequirementsDetails, LinkTestCaseDetails, DefectDetails, SchemaDetails
]


class SyncReport(TypedDict):
    """The end of a session: what was created, updated, skipped or failed, and why."""

    created: List[SyncEntry]
    updated: List[SyncEntry]
    skipped: List[SyncEntry]
    failed: List[SyncEntry]
    warnings: List[Warning]
    #: Why the session stopped before the end (bad key, wrong URL, target down).
    error: Optional[CoreError]
    #: Running the same work again later may finish it (the target was down).
    retryable: bool
    stats: SyncStats
    details: SessionDetails


class DoneStep(SyncReport):
    """The session is over: this is its report."""

    step: Literal["done"]


#: What the host does next, keyed by ``step``.
SessionStep = Union[SendStep, WaitStep, ReadStep, SaveStep, DoneStep]


class SessionKind(TypedDict):
    name: str
    summary: str
    #: The input's shape, in TypeScript notation.
    input: str


class RetryPolicy(TypedDict, total=False):
    max_attempts: int
    base_delay_ms: int
    max_delay_ms: int
    max_retry_after_ms: int


class SessionOptions(TypedDict, total=False):
    #: Seed of the retry jitter: pass something random (tests pass a constant).
    seed: int
    retry: RetryPolicy


class SessionSecrets(TypedDict, total=False):
    """A Rally API key, or a user name and password. Never saved, never printed."""

    api_key: str
    username: str
    password: str


class SessionUnits(TypedDict):
    """Units of work done so far and in all, for progress displays."""

    done: int
    total: int


# --- tmbridge.rally ---------------------------------------------------------------------


class ArtifactInfo(TypedDict, total=False):
    """A file a test attached, as the host found it (``tmbridge.rally`` fills these in)."""

    path: str
    #: None when the file could not (or may not) be read.
    size: Optional[int]
    content_type: Optional[str]
    url: Optional[str]


class RunContext(TypedDict, total=False):
    """Values of the CI run: placeholders in the configuration's templates use them."""

    #: RFC 3339 with a zone; the clock (UTC) when left out.
    now: str
    pipeline_id: Optional[str]
    pipeline_url: Optional[str]
    job_id: Optional[str]
    job_name: Optional[str]
    job_url: Optional[str]
    ref_name: Optional[str]
    sha: Optional[str]
    project_url: Optional[str]
    report_url: Optional[str]
    sprint: Optional[str]
    vars: Dict[str, str]
    artifacts: List[ArtifactInfo]


class DefectRequest(TypedDict, total=False):
    """What ``tmbridge.rally.submit_defect`` files: the auto-fill payload and links."""

    #: ``autofill(...)["payload"]``: ``{"Defect": {...}}``.
    payload: Dict[str, Any]
    #: FormattedIDs (``TC3``, ``US12``) or refs the payload may lack.
    test_case: Optional[str]
    requirement: Optional[str]
    test_case_result: Optional[str]


class RunReport(SyncReport):
    """What a ``tmbridge.rally`` function returns: the session's report, plus how the
    run went on the host."""

    #: Saved progress of an earlier run of the same work was picked up (or that run's
    #: report returned: it had finished).
    resumed: bool
    #: Dry run: every request that would have been sent, secrets masked; else empty.
    dry_run_requests: List[HttpRequest]
