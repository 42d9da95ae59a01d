// Types of the tmbridge JavaScript API. The Node addon (this package) and the WASM
// package (tmbridge-wasm, which copies this file) export exactly this API.
//
// Data objects follow the core's JSON contract: snake_case field names, enums as
// lowercase strings, absent values as `null` (never `undefined`), durations as integer
// microseconds, no floats. Function and method names are camelCase.

// ---------------------------------------------------------------------------
// Errors

/** A position in an input: byte offset from 0, line and column from 1 (column in Unicode scalar values). */
export interface Location {
  offset: number;
  line: number;
  column: number;
}

/** An error as the core writes it (the `error` of an envelope). */
export interface CoreError {
  /** Stable code, `area.reason`, e.g. `junit.malformed_xml`. */
  code: string;
  message: string;
  location: Location | null;
  hint: string | null;
}

/** A problem that did not stop the work. */
export interface Warning {
  code: string;
  message: string;
  location: Location | null;
}

/** The answer of every op: exactly one of `ok` and `error` is not null. */
export type Envelope<T> = { ok: T; error: null } | { ok: null; error: CoreError };

/** Base class of every error the core reports. `message` is the core's own text. */
export class TmbridgeError extends Error {
  /** Stable code, e.g. `junit.malformed_xml`: safe to match on. */
  readonly code: string;
  /** The core's message without position, code or hint. */
  readonly detail: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly offset: number | null;
  readonly hint: string | null;
  constructor(text: string, error: CoreError, options?: ErrorOptions);
}
/** The input of an op was not understood (`ops.*`). */
export class InputError extends TmbridgeError {}
/** A JUnit report could not be read (`junit.*`). */
export class JunitError extends TmbridgeError {}
/** A Rally query was refused (`rally_query.*`). */
export class RallyQueryError extends TmbridgeError {}
/** Defect auto-fill failed (`autofill.*`). */
export class AutofillError extends TmbridgeError {}
/** A configuration, status map or matching rule is wrong (`config.*`, `status.*`, `matching.*`). */
export class ConfigError extends TmbridgeError {}
/** A Rally payload could not be built (`rally.*`). */
export class RallyError extends TmbridgeError {}
/** A qTest payload could not be built (`qtest.*`). */
export class QtestError extends TmbridgeError {}
/** A TestRail payload could not be built (`testrail.*`). */
export class TestrailError extends TmbridgeError {}
/** A GitLab webhook could not be read (`gitlab.*`). */
export class GitlabError extends TmbridgeError {}
/** A session could not start, resume or take what the host gave it (`session.*`, `sync.*`). */
export class SessionError extends TmbridgeError {}

/** The error class used for a code (by the part before the first dot). */
export function errorClassFor(code: string): typeof TmbridgeError;

// ---------------------------------------------------------------------------
// Loading

/**
 * Loads the module. Required once in browsers (tmbridge-wasm's web entry), where
 * `input` may say where the .wasm file is; a no-op in Node.
 */
export function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
export default init;

// ---------------------------------------------------------------------------
// Ops

/** One op of the core, with its input and output shapes in TypeScript notation. */
export interface OpSpec {
  name: string;
  summary: string;
  input: string;
  output: string;
  /** The input field that may be passed as a separate document, if any. */
  document: string | null;
}

export interface VersionInfo {
  /** Version of the tmbridge core. */
  core: string;
  /** Number of ops. */
  ops: number;
}

/** A document: text, bytes, or base64 in plain JSON. */
export type DocumentInput = string | Uint8Array | { base64: string };

/**
 * Runs an op on a plain input object and returns its output. Throws a `TmbridgeError`
 * subclass on failure. The op's document field (see `listOps`) may be a `Uint8Array`.
 */
export function call(op: string, input?: object): unknown;

/**
 * Runs an op and returns its envelope exactly as the core wrote it (a JSON string):
 * the same bytes in every runtime. Never throws for errors of the op.
 */
export function callJson(op: string, inputJson?: string | Uint8Array, document?: string | Uint8Array | null): string;

/** Every op the core offers. */
export function listOps(): OpSpec[];

/** The core's version. */
export function version(): VersionInfo;

// ---------------------------------------------------------------------------
// JUnit

/** Limits of the JUnit reader; every field is optional. */
export interface JunitOptions {
  /** Longest system-out, system-err or failure text kept per element, in bytes (default 65536). */
  max_captured_bytes?: number;
  /** Deepest element nesting accepted (default 256). */
  max_depth?: number;
  /** Largest single tag, comment or declaration, in bytes (default 1 MiB). */
  max_markup_bytes?: number;
  /** Largest single run of text or CDATA, in bytes (default 256 MiB). */
  max_text_bytes?: number;
  /** Warnings kept (default 1000). */
  max_warnings?: number;
}

export type Status = 'passed' | 'flaky' | 'skipped' | 'failed' | 'error';

export interface CapturedText {
  text: string;
  truncated: boolean;
  original_bytes: number;
}

export interface Outcome {
  kind: 'failure' | 'error' | 'skipped';
  message: string | null;
  type: string | null;
  details: CapturedText | null;
}

export interface Rerun {
  kind: 'flaky_failure' | 'flaky_error' | 'rerun_failure' | 'rerun_error';
  message: string | null;
  type: string | null;
  duration_us: number | null;
  timestamp: string | null;
  details: CapturedText | null;
  system_out: CapturedText | null;
  system_err: CapturedText | null;
}

export interface Property {
  name: string;
  value: string;
}

export interface TestCase {
  suite: string[];
  classname: string | null;
  name: string;
  file: string | null;
  line: number | null;
  status: Status;
  duration_us: number | null;
  time_text: string | null;
  timestamp: string | null;
  message: string | null;
  outcomes: Outcome[];
  reruns: Rerun[];
  system_out: CapturedText | null;
  system_err: CapturedText | null;
  properties: Property[];
  attachments: string[];
  /** Robot Framework keywords and Cucumber steps; absent for formats without steps (JUnit). */
  steps?: Step[];
  location: Location;
}

/** One step of a test case, nested steps flattened in order with their depth. */
export interface Step {
  /** Cucumber's keyword (`Given `) or Robot's keyword type (`SETUP`, `FOR`); null for a plain keyword. */
  keyword: string | null;
  name: string;
  status: Status;
  duration_us: number | null;
  message: string | null;
  /** 0 for a step of the case itself; one more for each enclosing step. */
  depth: number;
}

export interface DeclaredCounts {
  tests: number | null;
  failures: number | null;
  errors: number | null;
  skipped: number | null;
}

export interface Counts {
  tests: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  flaky: number;
}

export interface SuiteInfo {
  path: string[];
  name: string;
  id: string | null;
  package: string | null;
  file: string | null;
  hostname: string | null;
  timestamp: string | null;
  duration_us: number | null;
  time_text: string | null;
  declared: DeclaredCounts;
  properties: Property[];
  location: Location;
}

export interface Suite extends SuiteInfo {
  system_out: CapturedText | null;
  system_err: CapturedText | null;
  counts: Counts;
  cases: TestCase[];
  suites: Suite[];
}

/** What the report was: JUnit's roots, or the other formats read into the same model. */
export type RootKind =
  | 'testsuites'
  | 'testsuite'
  | 'testrun'
  | 'nunit3'
  | 'nunit2'
  | 'xunit2'
  | 'trx'
  | 'robot'
  | 'cucumber';

export interface Report {
  root: RootKind;
  name: string | null;
  declared: DeclaredCounts;
  duration_us: number | null;
  timestamp: string | null;
  counts: Counts;
  suites: Suite[];
  warnings: Warning[];
}

/** One event of the streaming reader, tagged by `event`. */
export type JunitEvent =
  | {
      event: 'report_start';
      root: RootKind;
      name: string | null;
      declared: DeclaredCounts;
      duration_us: number | null;
      timestamp: string | null;
      location: Location;
    }
  | ({ event: 'suite_start' } & SuiteInfo)
  | ({ event: 'case' } & TestCase)
  | {
      event: 'suite_end';
      path: string[];
      system_out: CapturedText | null;
      system_err: CapturedText | null;
      late_properties: Property[];
      counts: Counts;
    }
  | {
      event: 'report_end';
      counts: Counts;
      suites: number;
      warnings: Warning[];
      warnings_dropped: number;
    };

/** Reads a whole JUnit XML report. Pass bytes when the file may not be UTF-8 text. */
export function parseJunit(xml: DocumentInput, options?: JunitOptions | null): Report;

/** The streaming reader's events for a whole report, as an array. */
export function junitEvents(xml: DocumentInput, options?: JunitOptions | null): JunitEvent[];

/**
 * Where a streaming reader's bytes come from: the whole text or bytes, a
 * `read(maxBytes)` function returning the next chunk (or null at the end), or, in
 * Node, an open file descriptor.
 */
export type JunitSource = string | Uint8Array | ((maxBytes: number) => Uint8Array | string | null | undefined) | number;

/** Streams a JUnit report in constant memory; use with `for...of`. */
export class JunitReader implements IterableIterator<JunitEvent> {
  constructor(source: JunitSource, options?: JunitOptions | null);
  [Symbol.iterator](): JunitReader;
  /** The next event; throws a `JunitError` (with the read function's exception as `cause`). */
  next(): IteratorResult<JunitEvent, undefined>;
  /** Stops early; `break` in `for...of` calls it. */
  return(): IteratorResult<JunitEvent, undefined>;
}

/** Same as `new JunitReader(source, options)`. */
export function readJunit(source: JunitSource, options?: JunitOptions | null): JunitReader;

// ---------------------------------------------------------------------------
// Mapping test results to Rally, qTest and TestRail

/** A configuration (`[matching]`, `[rally]`, `[qtest]`, `[testrail]`, `[gitlab]`), as JSON. */
export type Config = { [section: string]: unknown };

/** The run being mapped: `now` is required by most templates (RFC 3339). */
export interface MapContext {
  now: string;
  pipeline_id?: string | null;
  pipeline_url?: string | null;
  job_id?: string | null;
  job_name?: string | null;
  job_url?: string | null;
  ref_name?: string | null;
  sha?: string | null;
  project_url?: string | null;
  report_url?: string | null;
  sprint?: string | null;
  vars?: { [name: string]: string };
  artifacts?: { path: string; size?: number | null; content_type?: string | null; url?: string | null }[];
}

/** Ids the host already looked up (Rally refs by FormattedID, test sets, qTest cycles). */
export type RefCache = { [table: string]: { [key: string]: string } };

export type Target = 'rally' | 'qtest' | 'testrail';

export interface MapInput {
  target: Target;
  config?: Config;
  /** A JUnit report; or `cases`. */
  xml?: DocumentInput;
  cases?: TestCase[];
  context: MapContext;
  refs?: RefCache;
}

/** Everything a Rally sync would send: test set, TestCaseResult bodies, attachments, summary, review list. */
export type RallyPlan = { [key: string]: unknown };
/** Everything a qTest sync would send: the cycle and the auto-test-logs body. */
export type QtestPlan = { [key: string]: unknown };
/** Everything a TestRail sync would send: add_results_for_cases, new cases. */
export type TestrailPlan = { [key: string]: unknown };

/** Maps test results to what a sync to the target would send. */
export function mapResults(input: MapInput): RallyPlan | QtestPlan | TestrailPlan;

/** Checks a configuration (with a target, its required keys too); returns the warnings. */
export function validateConfig(config: Config, target?: Target | null): Warning[];

// ---------------------------------------------------------------------------
// Rally queries

export interface RallyLookup {
  kind: 'release' | 'iteration';
  project: string | null;
  name: string;
  object_id: number;
}

export interface RallyQueryOptions {
  /** IANA zone for dates written without one; UTC by default. */
  time_zone?: string | null;
  /** Attribute metadata of the queried type, in any shape Rally returns it. */
  fields?: unknown;
  lookups?: RallyLookup[];
  /** Project that Release and Iteration names belong to. */
  project?: string | null;
}

/** A repair the normaliser made. */
export interface RallyQueryChange {
  kind: string;
  message: string;
  before: string;
  after: string;
  location: Location | null;
}

export interface RallyQueryDiagnostic {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  location: Location | null;
  end: Location | null;
  hint: string | null;
}

/** A Release or Iteration to fetch before the query can use its ObjectID. */
export interface RallyLookupNeed {
  kind: 'release' | 'iteration';
  project: string | null;
  name: string;
}

export interface RallyQueryNormalized {
  query: string;
  order: string | null;
  complete: boolean;
  changes: RallyQueryChange[];
  warnings: RallyQueryDiagnostic[];
  needs: RallyLookupNeed[];
}

export interface RallyQueryCheck {
  valid: boolean;
  unchanged: boolean;
  canonical: string | null;
  order: string | null;
  changes: RallyQueryChange[];
  diagnostics: RallyQueryDiagnostic[];
  needs: RallyLookupNeed[];
}

export interface RallyQuerySpan {
  start: number;
  end: number;
}

export interface RallyQueryValue {
  kind: 'quoted' | 'bare' | 'null';
  text: string;
  span: RallyQuerySpan;
}

export type RallyQueryExpr =
  | {
      type: 'condition';
      field: string;
      op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'contains' | 'not_contains' | 'in' | 'not_in' | 'between' | 'not_between';
      values: RallyQueryValue[];
      span: RallyQuerySpan;
      field_span: RallyQuerySpan;
    }
  | { type: 'and' | 'or'; left: RallyQueryExpr; right: RallyQueryExpr };

/** Normalises a query into the form Rally accepts; throws `RallyQueryError` on the first error. */
export function normalizeRallyQuery(query: string, options?: RallyQueryOptions | null): RallyQueryNormalized;
/** Checks a query; never throws for problems of the query, it reports them. */
export function checkRallyQuery(query: string, options?: RallyQueryOptions | null): RallyQueryCheck;
/** The syntax tree; `strict` refuses what Rally itself would refuse. */
export function parseRallyQuery(query: string, strict?: boolean): RallyQueryExpr;
/** The query plus `(LastUpdateDate > since)` for polling. */
export function rallyPollQuery(query: string | null | undefined, since: string, options?: RallyQueryOptions | null): RallyQueryNormalized;
/** Release/Iteration ids from what Rally returned for /release or /iteration. */
export function readRallyLookups(document: DocumentInput): RallyLookup[];

// ---------------------------------------------------------------------------
// Defect auto-fill

export interface AutofillAllowedValue {
  value: string;
  reference: string | null;
}

export interface AutofillField {
  /** Rally ElementName. */
  name: string;
  label: string;
  kind: string;
  attribute_type: string;
  schema_type: string | null;
  required: boolean;
  read_only: boolean;
  hidden: boolean;
  custom: boolean;
  max_length: number | null;
  allowed_values: AutofillAllowedValue[];
  allowed_values_loaded: boolean;
  allowed_values_ref: string | null;
  origin: string;
}

export interface AutofillSchema {
  type_name: string;
  fields: AutofillField[];
  warnings: Warning[];
}

export interface AutofillRule {
  field: string;
  template?: string | null;
  sources?: string[];
  separator?: string | null;
  map?: string | null;
}

/** The user's layer over the schema; every field is optional. */
export interface AutofillSettings {
  hidden?: string[];
  order?: string[];
  added_fields?: { [key: string]: unknown }[];
  allowed_values?: { [field: string]: AutofillAllowedValue[] };
  rules?: AutofillRule[];
  defaults?: { [field: string]: string };
  value_maps?: { name: string; pairs?: { source: string; target: string }[]; source_values?: string[] }[];
  truncation_marker?: string | null;
}

/** The failed run: `{ test_run, test_case, test_log, source_format }`, as qTest or a JUnit case gives it. */
export type AutofillRun = { [key: string]: unknown };

export interface AutofillProblem {
  severity: 'error' | 'warning' | 'info';
  code: string;
  field: string | null;
  message: string;
  hint: string | null;
}

export interface AutofillFilledField {
  field: string;
  label: string;
  kind: string;
  required: boolean;
  value: string;
  reference: string | null;
  filled_by: 'rule' | 'value_map' | 'default' | 'automatic' | 'none';
  rule: number | null;
  explanation: string;
  truncated: boolean;
}

export type AutofillPayloadValue = boolean | number | string | { LinkID: string; DisplayString: string };

export interface AutofillOutput {
  type_name: string;
  /** No problem is an error: the defect can be submitted as it is. */
  ready: boolean;
  fields: AutofillFilledField[];
  problems: AutofillProblem[];
  /** The Rally create payload, `{ "Defect": { ... } }`. */
  payload: { [type: string]: { [field: string]: AutofillPayloadValue } };
}

export interface AutofillForm {
  type_name: string;
  fields: AutofillField[];
  problems: AutofillProblem[];
}

export type AutofillFormEdit =
  | { op: 'hide' | 'show' | 'move_up' | 'move_down' | 'remove_field'; field: string }
  | { op: 'add_field'; field: { [key: string]: unknown } }
  | { op: 'reload_allowed_values'; field: string; values: AutofillAllowedValue[] }
  | { op: 'reset' };

export interface AutofillSource {
  path: string;
  kind: string;
  about: string;
}

/** The defect-form schema from Rally's type metadata (TypeDefinition with Attributes). */
export function autofillSchema(metadata: DocumentInput): AutofillSchema;
/** One attribute's AllowedValues, as Rally returned them. */
export function autofillAllowedValues(document: DocumentInput): AutofillAllowedValue[];
/** The form after the settings. */
export function autofillForm(schema: AutofillSchema, settings?: AutofillSettings): AutofillForm;
/** Applies one edit of the form to the settings. */
export function autofillEditForm(schema: AutofillSchema, settings: AutofillSettings | null | undefined, edit: AutofillFormEdit): { settings: AutofillSettings; note: string };
/** Checks the settings' value maps against the schema. */
export function autofillCheckMappings(schema: AutofillSchema, settings?: AutofillSettings): AutofillProblem[];
/** The run context of one JUnit test case. */
export function autofillRunFromJunit(testCase: TestCase): AutofillRun;
/** Fills the defect form for a failed run. */
export function autofill(schema: AutofillSchema, run: AutofillRun, settings?: AutofillSettings): AutofillOutput;
/** Renders one template against a run, e.g. for a preview. */
export function autofillRender(template: string, run?: AutofillRun, format?: 'plain' | 'single_line' | 'html'): string;
/** Every value a template can use. */
export function autofillSources(): AutofillSource[];

// ---------------------------------------------------------------------------
// GitLab webhooks

export type GitlabPipelineEvent = { [key: string]: unknown };
export interface GitlabDecision {
  process: boolean;
  reason: string;
  jobs: number[];
}
export type GitlabConfig = { [key: string]: unknown };

/** Reads a Pipeline Hook request body. */
export function gitlabPipelineEvent(body: DocumentInput): GitlabPipelineEvent;
/** Whether a pipeline event is finished and worth processing, and which jobs. */
export function gitlabDecide(event: GitlabPipelineEvent, config?: GitlabConfig): GitlabDecision;
/** Compares the X-Gitlab-Token header with the secret in constant time. */
export function gitlabVerifyToken(expected: string, received: string | null | undefined): boolean;

// ---------------------------------------------------------------------------
// Sessions: a sync the core runs and the host drives with a short loop. The core
// decides every request, retry, wait and save point; the host sends the requests as
// given, sleeps, reads the files asked for and stores saved progress.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
/** One header: `[name, value]`. */
export type Header = [name: string, value: string];

/** A complete request: send it as it is (the host adds no auth, no content type). */
export interface HttpRequest {
  /** Give it back to `receive`. */
  id: number;
  method: HttpMethod;
  url: string;
  headers: Header[];
  /** JSON text, or null for no body. */
  body: string | null;
}

/**
 * How an exchange ended: `answered` (any status), or no answer at all:
 * `connect_failed` (not delivered), `timeout` and `dropped` (the server may have acted).
 */
export type ResponseKind = 'answered' | 'connect_failed' | 'timeout' | 'dropped';

/** The answer to one request. Without an answer `status` is 0 and `body` says why. */
export interface HttpResponse {
  kind: ResponseKind;
  status: number;
  headers: Header[];
  body: string;
  /** A body that is not UTF-8 text (a zip archive), base64; `body` is then empty. */
  body_base64?: string;
}

/** A file a session needs (an attachment the report names). */
export interface FileRequest {
  id: number;
  /** The path exactly as the report names it. */
  path: string;
}

export type RecordKind = 'test_case_result' | 'attachment' | 'test_set' | 'test_set_members' | 'test_case' | 'defect' | 'lookup';

/** One record and what happened to it. */
export interface SyncEntry {
  kind: RecordKind;
  /** What it is in people's terms: `TC12`, `TC12 screenshot.png`, a test set name. */
  key: string;
  ref: string | null;
  why: string;
  /** The tests behind it (`classname.name`). */
  tests: string[];
}

export interface SyncStats {
  /** Requests handed to the host, retries included. */
  requests: number;
  retries: number;
  waited_ms: number;
}

export interface NamedRef {
  ref: string;
  name: string | null;
}

/** A user story as imported. */
export interface Requirement {
  ref: string;
  formatted_id: string | null;
  name: string | null;
  project: string | null;
  last_update_date: string | null;
  /** The requested fields as text. */
  fields: { [field: string]: string };
}

/** What each kind of session found out, tagged by `session`. */
export type SessionDetails =
  | {
      session: 'connection';
      base_url: string;
      auth: 'api_key' | 'basic';
      user: string | null;
      workspace: NamedRef | null;
      project: NamedRef | null;
      ok: boolean;
    }
  | {
      session: 'publish';
      /** Everything looked up, for the host to keep for the next run. */
      cache: RefCache;
      iteration: NamedRef | null;
      sprint: string | null;
      test_set: NamedRef | null;
      summary: { [key: string]: unknown }[];
      review: { [key: string]: unknown }[];
      missing: string[];
    }
  | {
      session: 'requirements';
      requirements: Requirement[];
      query: string | null;
      /** Give this as `since` to the next poll. */
      next_since: string | null;
    }
  | {
      session: 'link_test_case';
      formatted_id: string | null;
      ref: string | null;
      name: string;
      work_product: string | null;
      created: boolean;
    }
  | {
      session: 'defect';
      formatted_id: string | null;
      ref: string | null;
      name: string | null;
      state: string | null;
    };

/** The end of a session: what was created, updated, skipped or failed, and why. */
export interface SyncReport {
  created: SyncEntry[];
  updated: SyncEntry[];
  skipped: SyncEntry[];
  failed: SyncEntry[];
  warnings: Warning[];
  /** Why the session stopped before the end (bad key, wrong URL, target down). */
  error: CoreError | null;
  /** Running the same work again later may finish it (the target was down). */
  retryable: boolean;
  stats: SyncStats;
  details: SessionDetails;
}

/** What the host does next, keyed by `step`. */
export type Step =
  | ({ step: 'send' } & HttpRequest)
  | { step: 'wait'; ms: number }
  | ({ step: 'read' } & FileRequest)
  | { step: 'save' }
  | ({ step: 'done' } & SyncReport);

export interface SessionKind {
  name: string;
  summary: string;
  /** The input's shape, in TypeScript notation. */
  input: string;
}

export interface RetryPolicy {
  max_attempts?: number;
  base_delay_ms?: number;
  max_delay_ms?: number;
  max_retry_after_ms?: number;
}

export interface SessionOptions {
  /** Seed of the retry jitter: pass something random (tests pass a constant). */
  seed?: number;
  retry?: RetryPolicy;
}

/** A Rally API key, or a user name and password. Never saved, never printed. */
export interface SessionSecrets {
  api_key?: string;
  username?: string;
  password?: string;
}

/** The run being published (same fields as `MapContext`). */
export type RunContext = MapContext;

export interface RequirementsRequest {
  /** Project refs; the configured project (or the whole workspace) when empty. */
  projects?: string[];
  /** A Rally query as people write it; normalised before it is sent. */
  query?: string | null;
  /** The fields to fetch besides FormattedID, Name, Project, LastUpdateDate. */
  fields?: string[];
  /** Only stories changed after this time (the previous poll's `next_since`). */
  since?: string | null;
  time_zone?: string | null;
}

export interface LinkRequest {
  /** The test case's Name. */
  name: string;
  /** User stories (FormattedIDs or refs); the first one is linked. */
  stories?: string[];
  source_url?: string | null;
  source_label?: string | null;
  description?: string | null;
  /** `Automated` unless given. */
  method?: string | null;
}

export interface DefectRequest {
  /** `AutofillOutput.payload`: `{ Defect: {...} }`. */
  payload: { [type: string]: { [field: string]: AutofillPayloadValue } };
  /** FormattedIDs (`TC3`, `US12`) or refs the payload may lack. */
  test_case?: string | null;
  requirement?: string | null;
  test_case_result?: string | null;
}

/** The input of each session kind. */
export interface SessionInputs {
  'rally.connect': { config: Config };
  'rally.publish': { config: Config; cases: TestCase[]; context: RunContext; cache?: RefCache };
  'rally.requirements': { config: Config; request?: RequirementsRequest };
  'rally.link_case': { config: Config; request: LinkRequest };
  'rally.defect': { config: Config; request: DefectRequest };
}

/** A start request: what `Session.start` sends to the core. */
export interface SessionStart {
  kind: string;
  input: object;
  options?: SessionOptions;
}

/** One item of a recorded transcript (`session.replay`): what the host fed the session. */
export type SessionFeed = { answer: HttpResponse } | { file: string } | { file_error: string } | 'resume';

/**
 * A live session. The host loop:
 *
 * ```js
 * const session = Session.start('rally.connect', { config }, { secrets: { api_key } });
 * for (;;) {
 *   const step = session.next();
 *   if (step.step === 'send') session.receive(step.id, await http(step));
 *   else if (step.step === 'read') session.provideFile(step.id, { data: await read(step.path) });
 *   else if (step.step === 'wait') await sleep(step.ms);
 *   else if (step.step === 'save') await store(session.save());
 *   else break; // 'done': step is the report
 * }
 * session.free();
 * ```
 *
 * Wrong calls of the host throw a `SessionError` (or another `TmbridgeError`); what
 * goes wrong with the target is not thrown: the `done` step's `error` says it.
 */
export class Session {
  private constructor();
  /** Starts a session of `kind` (see `sessionKinds()`); secrets are never saved. */
  static start<K extends keyof SessionInputs>(
    kind: K,
    input: SessionInputs[K],
    options?: { secrets?: SessionSecrets; options?: SessionOptions | null },
  ): Session;
  static start(kind: string, input: object, options?: { secrets?: SessionSecrets; options?: SessionOptions | null }): Session;
  /** Goes on from what `save()` returned, in this or any other runtime. */
  static resume(saved: string | Uint8Array, options?: { secrets?: SessionSecrets }): Session;
  /** The session's kind, e.g. `rally.publish`. */
  readonly kind: string;
  /** What the host does next. */
  next(): Step;
  /** The answer to the request `id` (from a `send` step). */
  receive(id: number, response: HttpResponse): void;
  /** The file a `read` step asked for (bytes, or text as UTF-8), or why it could not be read. */
  provideFile(id: number, file: { data: Uint8Array | string; error?: undefined } | { data?: undefined; error: string }): void;
  /** The progress as JSON, secrets excepted: store it when a `save` step comes. */
  save(): string;
  /** `{ done, total }` units of work, for progress displays. */
  units(): { done: number; total: number };
  /** Frees the session's memory now (the WASM build holds it until then); later calls throw. */
  free(): void;
}

/** Every kind of session the core can start, with its input's shape. */
export function sessionKinds(): SessionKind[];

// --- rally: whole syncs in one call -------------------------------------------------

/** Every test case of a parsed report, however deeply its suites nest. */
export function iterCases(report: Report): Generator<TestCase, void, undefined>;

/** Keeps resumable state where no file is at hand (browsers, workers): any key-value store. */
export interface RallyStore {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
}

/** Options every `rally` function takes. */
export interface RallyOptions {
  /** `{ api_key }` or `{ username, password }`; else the variable `rally.api_key_env` names (`RALLY_API_KEY`), or `RALLY_USERNAME` and `RALLY_PASSWORD`. */
  secrets?: SessionSecrets;
  /** Send nothing: the report's `dryRunRequests` lists each request, secrets masked. */
  dryRun?: boolean;
  /** `(done, total) => ...`, or an EventTarget that receives `progress` events (`CustomEvent<{ done, total }>`). */
  onProgress?: ((done: number, total: number) => void) | EventTarget;
  /** Stops the run (between requests and during waits); saved state is kept. */
  signal?: AbortSignal;
  /** Another `fetch` (a proxy agent, a test double); the global one by default. */
  fetch?: typeof fetch;
  /** Per request, in milliseconds (60000). */
  timeoutMs?: number;
}

/** Options of the functions that keep resumable state. */
export interface RallyStateOptions extends RallyOptions {
  /** Node: a JSON file keeping the progress (written atomically at every save point). */
  state?: string | URL;
  /** Elsewhere: any store; used instead of `state`. */
  store?: RallyStore;
}

export interface PublishOptions extends RallyStateOptions {
  context?: RunContext;
  /** Folders attachments may be read from (Node): the report's own by default. */
  allowedDirs?: (string | URL)[];
  /** Reads an attachment the report names, where there is no file system (browsers). */
  readFile?: (path: string) => Promise<{ data: Uint8Array } | { error: string }> | { data: Uint8Array } | { error: string };
}

export interface ImportRequirementsOptions extends RallyStateOptions {
  config: Config | string | URL;
  /** Only stories changed after this time (else the stored cursor). */
  since?: string | null;
  /** Poll again every `interval` seconds (120) until the loop stops or `signal` aborts. */
  watch?: boolean;
  interval?: number;
  projects?: string[];
  fields?: string[];
  timeZone?: string | null;
}

/** What a `rally` function returns: the session's report and how the run went here. */
export interface RallyReport extends SyncReport {
  /** Saved progress of an earlier run of the same work was picked up (or its report returned). */
  resumed: boolean;
  /** Dry run: every request that would have been sent, secrets masked. */
  dryRunRequests: HttpRequest[];
}

/**
 * Rally in one call each. A run that ends with an error rejects with the error's class
 * (`RallyError`, `SessionError`, ...) and the report as `error.report`.
 */
export declare const rally: {
  /** Publishes a report: a path (Node), its bytes, or `parseJunit`'s output. */
  publish(report: string | URL | Uint8Array | Report, config: Config | string | URL, options?: PublishOptions): Promise<RallyReport>;
  /** Tests the key, the workspace and the project. */
  connect(config: Config | string | URL, options?: RallyOptions): Promise<RallyReport>;
  /** A type's form schema (`Defect` by default), for `autofill`. */
  loadSchema(config: Config | string | URL, options?: RallyOptions & { typeName?: string }): Promise<AutofillSchema>;
  /** Files an auto-filled defect; with state, a rerun never files a second one. */
  submitDefect(request: DefectRequest, config: Config | string | URL, options?: RallyStateOptions): Promise<RallyReport>;
  /** The user stories a query finds, as an async generator. */
  importRequirements(query: string | null, options: ImportRequirementsOptions): AsyncGenerator<Requirement, void, undefined>;
  iterCases: typeof iterCases;
};
