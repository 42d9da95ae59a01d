// Types of the tmbridge JavaScript API. The Node addon (this package) and the WASM
// package (tmbridge-wasm, which copies this file) export exactly this API.
//
// Data objects follow the core's JSON contract: snake_case field names, enums as
// lowercase strings, absent values as `null` (never `undefined`), durations as integer
// microseconds, no floats. Function and method names are camelCase.

// The shapes of the core's values are generated from the core (types.d.ts); this file
// declares the functions and classes that use them.
export * from './types.js';
import type {
  AutofillAllowedValue,
  AutofillEdited,
  AutofillForm,
  AutofillFormEdit,
  AutofillOutput,
  AutofillProblem,
  AutofillRun,
  AutofillRunInput,
  AutofillSchema,
  AutofillSchemaInput,
  AutofillSettingsInput,
  AutofillSource,
  Config,
  CoreError,
  DefectRequest,
  DocumentInput,
  GitlabConfig,
  GitlabDecision,
  GitlabPipelineEvent,
  HttpRequest,
  HttpResponse,
  JunitError,
  JunitEvent,
  JunitOptions,
  MapContext,
  MapInput,
  OpInputs,
  OpName,
  OpOutputs,
  OpSpec,
  QtestPlan,
  RallyError,
  RallyLookup,
  RallyPlan,
  RallyQueryCheck,
  RallyQueryError,
  RallyQueryExpr,
  RallyQueryNormalized,
  RallyQueryOptions,
  Report,
  Requirement,
  SessionDetails,
  SessionError,
  SessionInputs,
  SessionKind,
  SessionSecrets,
  StartOptions,
  Step,
  SyncReport,
  Target,
  TestCase,
  TestCaseInput,
  TestrailPlan,
  TmbridgeError,
  VersionInfo,
  Warning,
} from './types.js';

// ---------------------------------------------------------------------------
// Errors

/** The answer of every op: exactly one of `ok` and `error` is not null. */
export type Envelope<T> = { ok: T; error: null } | { ok: null; error: CoreError };

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

/**
 * Runs an op on a plain input object and returns its output. Throws a `TmbridgeError`
 * subclass on failure. The op's document field (see `listOps`) may be a `Uint8Array`.
 */
export function call<K extends OpName>(op: K, input?: OpInputs[K]): OpOutputs[K];

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

/** Reads a whole JUnit XML report. Pass bytes when the file may not be UTF-8 text. */
export function parseJunit(xml: DocumentInput, options?: JunitOptions | null): Report;

/** The streaming reader's events for a whole report, as an array. */
/**
 * Reads an allure-results folder (a path, in Node) or its files as `{ name, data }`
 * into the same report as `parseJunit`. Only the folder's own regular files are read.
 */
export function parseAllure(results: string | URL | { name: string; data: Uint8Array | string }[], options?: JunitOptions | null): Report;

export function junitEvents(xml: DocumentInput, options?: JunitOptions | null): JunitEvent[];

/**
 * Where a streaming reader's bytes come from: the whole text or bytes, a
 * `read(maxBytes)` function returning the next chunk (or null at the end), or, in
 * Node, an open file descriptor.
 */
/** XML text or bytes, a `read(maxBytes)` function, a file descriptor, or (Node) a `FileHandle` from `fs.promises.open`. */
export type JunitSource = string | Uint8Array | ((maxBytes: number) => Uint8Array | string | null | undefined) | number | { readonly fd: number; read(...args: never[]): unknown };

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

/** Maps test results to what a sync to the target would send. */
export function mapResults(input: MapInput & { target: 'rally' }): RallyPlan;
export function mapResults(input: MapInput & { target: 'qtest' }): QtestPlan;
export function mapResults(input: MapInput & { target: 'testrail' }): TestrailPlan;
export function mapResults(input: MapInput): RallyPlan | QtestPlan | TestrailPlan;

/** Checks a configuration (with a target, its required keys too); returns the warnings. */
export function validateConfig(config: Config, target?: Target | null): Warning[];

// ---------------------------------------------------------------------------
// Rally queries

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

/** The defect-form schema from Rally's type metadata (TypeDefinition with Attributes). */
export function autofillSchema(metadata: DocumentInput): AutofillSchema;
/** One attribute's AllowedValues, as Rally returned them. */
export function autofillAllowedValues(document: DocumentInput): AutofillAllowedValue[];
/** The form after the settings. */
export function autofillForm(schema: AutofillSchemaInput, settings?: AutofillSettingsInput): AutofillForm;
/** Applies one edit of the form to the settings. */
export function autofillEditForm(schema: AutofillSchemaInput, settings: AutofillSettingsInput | null | undefined, edit: AutofillFormEdit): AutofillEdited;
/** Checks the settings' value maps against the schema. */
export function autofillCheckMappings(schema: AutofillSchemaInput, settings?: AutofillSettingsInput): AutofillProblem[];
/** The run context of one JUnit test case. */
export function autofillRunFromJunit(testCase: TestCaseInput): AutofillRun;
/** Fills the defect form for a failed run. */
export function autofill(schema: AutofillSchemaInput, run: AutofillRunInput, settings?: AutofillSettingsInput): AutofillOutput;
/** Renders one template against a run, e.g. for a preview. */
export function autofillRender(template: string, run?: AutofillRunInput, format?: 'plain' | 'single_line' | 'html'): string;
/** Every value a template can use. */
export function autofillSources(): AutofillSource[];

// ---------------------------------------------------------------------------
// GitLab webhooks

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

/** One header: `[name, value]`. */
export type Header = [name: string, value: string];

/** Options every session kind takes (the `options` of a start request). */
export type SessionOptions = StartOptions;

/** The run being published (same fields as `MapContext`). */
export type RunContext = MapContext;

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

// --- rally, qtest, testrail: whole syncs in one call ---------------------------------

/** Every test case of a parsed report, however deeply its suites nest. */
export function iterCases(report: Report): Generator<TestCase, void, undefined>;

/** Keeps resumable state where no file is at hand (browsers, workers): any key-value store. */
export interface RallyStore {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
}

/** Options every `rally`, `qtest` and `testrail` function takes. */
export interface RallyOptions {
  /** Rally: `{ api_key }` or `{ username, password }`; else the variable `rally.api_key_env` names (`RALLY_API_KEY`), or `RALLY_USERNAME` and `RALLY_PASSWORD`. qTest and TestRail: see `qtest` and `testrail`. */
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

/** The `details` of one session kind's report, by its `session` tag. */
export type DetailsOf<S extends SessionDetails['session']> = Extract<SessionDetails, { session: S }>;

/** What a `rally` function returns: the session's report and how the run went here. */
export interface RallyReport<D extends SessionDetails = SessionDetails> extends SyncReport {
  details: D;
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
  publish(report: string | URL | Uint8Array | Report, config: Config | string | URL, options?: PublishOptions): Promise<RallyReport<DetailsOf<'publish'>>>;
  /** Tests the key, the workspace and the project. */
  connect(config: Config | string | URL, options?: RallyOptions): Promise<RallyReport<DetailsOf<'connection'>>>;
  /** A type's form schema (`Defect` by default), for `autofill`. */
  loadSchema(config: Config | string | URL, options?: RallyOptions & { typeName?: string }): Promise<AutofillSchema>;
  /** Files an auto-filled defect; with state, a rerun never files a second one. */
  submitDefect(request: DefectRequest, config: Config | string | URL, options?: RallyStateOptions): Promise<RallyReport<DetailsOf<'defect'>>>;
  /** The user stories a query finds, as an async generator. */
  importRequirements(query: string | null, options: ImportRequirementsOptions): AsyncGenerator<Requirement, void, undefined>;
  iterCases: typeof iterCases;
};

/**
 * qTest Manager in one call each: the token in `secrets.api_key`, else the variable
 * `qtest.token_env` names (`TMBRIDGE_QTEST_TOKEN`). Errors reject as for `rally`
 * (`QtestError`, `SessionError`, ...).
 */
export declare const qtest: {
  /** Publishes a report (a path or allure-results folder in Node, its bytes, or a parsed report): test cases, the job's test cycle, a suite per browser, runs and one log per execution. */
  publish(report: string | URL | Uint8Array | Report, config: Config | string | URL, options?: PublishOptions): Promise<RallyReport<DetailsOf<'qtest_publish'>>>;
  /** Tests the site, the token, the project and its automation settings. */
  connect(config: Config | string | URL, options?: RallyOptions): Promise<RallyReport<DetailsOf<'qtest_connection'>>>;
  /**
   * Files a Rally defect from a failed test run (its id): reads the run, its test case
   * and latest log from qTest, fills the form (nothing is sent while it is not ready),
   * files it linked to the Rally test case holding the qTest case's address and its
   * story, attaches the log's files, and links it back in a comment on the run.
   */
  submitDefect(testRun: number, config: Config | string | URL, options: QtestDefectOptions): Promise<QtestDefectResult>;
};

export interface QtestDefectOptions extends RallyOptions {
  /** The Rally Defect form (`autofillSchema` or `rally.loadSchema`). */
  schema: AutofillSchema;
  settings?: AutofillSettingsInput;
  /** Links to set instead of the ones found: FormattedIDs or refs. */
  testCase?: string;
  story?: string;
  /** qTest: `{ api_key }` (its token); else `qtest.token_env` from the environment. */
  qtestSecrets?: SessionSecrets;
  /** Rally: `{ api_key }` or `{ username, password }`; else the environment. */
  rallySecrets?: SessionSecrets;
}

export interface QtestDefectResult {
  run: RallyReport<DetailsOf<'qtest_failed_run'>>;
  /** The filled form: `ready: false` lists its problems, and nothing was sent. */
  form: AutofillOutput;
  defect: RallyReport<DetailsOf<'defect'>> | null;
  linkBack: RallyReport<DetailsOf<'qtest_defect_link'>> | null;
  /** The defect's page in Rally. */
  url?: string | null;
}

export interface TestrailPublishOptions extends PublishOptions {
  /** Exports only what this filter selects, e.g. `status in (failed, error)` (`testrail.scope`). */
  scope?: string;
  /** Turns the export back on after a 401 or 403 switched it off (kept in `state`/`store`). */
  reenable?: boolean;
}

/**
 * TestRail in one call each: `secrets: { username, api_key }` (or `password`), else the
 * variables `testrail.user_env` and `testrail.api_key_env` name (`TESTRAIL_USER`,
 * `TESTRAIL_API_KEY`; or `TESTRAIL_PASSWORD`). Errors reject as for `rally`
 * (`TestrailError`, `SessionError`, ...).
 */
export declare const testrail: {
  /** Exports a report: cases in the configured section, a run or plan entry, results and attachments. */
  publish(report: string | URL | Uint8Array | Report, config: Config | string | URL, options?: TestrailPublishOptions): Promise<RallyReport<DetailsOf<'testrail_publish'>>>;
  /** Checks the URL, the credentials, the project, suite and section, the statuses and fields. */
  connect(config: Config | string | URL, options?: RallyOptions): Promise<RallyReport<DetailsOf<'testrail_connection'>>>;
};
