// The JavaScript API of tmbridge, shared word for word by the Node addon
// (bindings/node) and the WASM package (pkg/, which copies this file at build time).
//
// A backend is the native half: the napi addon or the wasm-bindgen module. It only
// passes JSON to the core and hands back the core's envelope,
// `{"ok": value, "error": null}` or `{"ok": null, "error": {code, message, location, hint}}`.
// This file turns envelopes into values and errors. Error text is the core's own
// (`backend.errorText`), never rewritten here.

import { createTargets } from './targets.js';

// The error classes are generated from the core's list of error areas (errors.js).
import { TmbridgeError, errorClassFor } from './errors.js';
export * from './errors.js';

function isBytes(value) {
  return value instanceof Uint8Array;
}

/** Bytes as the core takes them in JSON: the text when it is UTF-8, else base64. */
function textOrBase64(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { base64: btoa(binary) };
  }
}

/** Builds the API over a backend. */
export function createApi(backend) {
  const toError = (error, options) => {
    const Class = errorClassFor(error.code);
    return new Class(backend.errorText(JSON.stringify(error)), error, options);
  };
  const unwrap = (envelope, options) => {
    if (envelope.error !== null && envelope.error !== undefined) throw toError(envelope.error, options);
    return envelope.ok;
  };

  let documentFields = null;
  // Which input field of each op may travel as raw bytes beside the JSON.
  const documentField = (op) => {
    if (documentFields === null) {
      const specs = unwrap(JSON.parse(backend.callJson('ops.list', '{}')));
      documentFields = new Map(specs.map((s) => [s.name, s.document]));
    }
    return documentFields.get(op) ?? null;
  };

  /** Runs an op and returns its envelope exactly as the core wrote it (a JSON string). */
  function callJson(op, inputJson = '{}', document = undefined) {
    return backend.callJson(op, inputJson, document ?? null);
  }

  // The WASM module builds the output value itself (serde-wasm-bindgen); the addon
  // returns JSON text. Either way the input is JSON, read by the core alike.
  const invoke = backend.callToValue
    ? (op, json, doc) => unwrap(backend.callToValue(op, json, doc))
    : (op, json, doc) => unwrap(JSON.parse(backend.callJson(op, json, doc)));

  /** Runs an op on a plain input object and returns its output; throws on errors. */
  function call(op, input = {}) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new TypeError('the input of an op must be a plain object');
    }
    const field = documentField(op);
    const doc = field === null ? undefined : input[field];
    if (typeof doc === 'string' || isBytes(doc)) {
      // The document travels as text or bytes beside the JSON, not escaped inside it.
      const rest = { ...input };
      delete rest[field];
      return invoke(op, JSON.stringify(rest), doc);
    }
    return invoke(op, JSON.stringify(input), null);
  }

  const withOptions = (input, options) => (options === undefined || options === null ? input : { ...input, options });

  /** Every op the core offers, with its input and output shapes. */
  const listOps = () => call('ops.list');
  /** The core's version and number of ops. */
  const version = () => call('ops.version');
  /** Reads a whole JUnit XML report. */
  const parseJunit = (xml, options) => call('junit.parse', withOptions({ xml }, options));
  /** An allure-results folder (Node) or its files as `{ name, data }`, into a Report. */
  const parseAllure = (results, options) => {
    let files = results;
    if (typeof results === 'string' || results instanceof URL) {
      if (!backend.host) throw new TypeError('a folder can only be read in Node; pass its files as { name, data }');
      files = backend.host.allureFiles(results);
    }
    if (!Array.isArray(files)) throw new TypeError('pass a folder path or an array of { name, data }');
    const named = files.map(({ name, data }) => ({ name, text: isBytes(data) ? textOrBase64(data) : String(data) }));
    return call('allure.read', withOptions({ files: named }, options));
  };
  /** The streaming reader's events for a whole report, as an array. */
  const junitEvents = (xml, options) => call('junit.events', withOptions({ xml }, options));

  // Mapping: test results into what a sync would send.
  const mapResults = (input) => call('map', input);
  const validateConfig = (config, target = null) => call('config.validate', { config, target });

  // Rally queries.
  const normalizeRallyQuery = (query, options) => call('rally_query.normalize', withOptions({ query }, options));
  const checkRallyQuery = (query, options) => call('rally_query.check', withOptions({ query }, options));
  const parseRallyQuery = (query, strict = false) => call('rally_query.parse', { query, strict });
  const rallyPollQuery = (query, since, options) => call('rally_query.poll', withOptions({ query: query ?? '', since }, options));
  const readRallyLookups = (document) => call('rally_query.lookups', { document });

  // Defect auto-fill.
  const autofillSchema = (metadata) => call('autofill.schema', { metadata });
  const autofillAllowedValues = (document) => call('autofill.allowed_values', { document });
  const autofillForm = (schema, settings = {}) => call('autofill.form', { schema, settings });
  const autofillEditForm = (schema, settings, edit) => call('autofill.edit_form', { schema, settings: settings ?? {}, edit });
  const autofillCheckMappings = (schema, settings = {}) => call('autofill.check_mappings', { schema, settings });
  const autofillRunFromJunit = (testCase) => call('autofill.run_from_junit', { case: testCase });
  const autofill = (schema, run, settings = {}) => call('autofill.fill', { schema, settings, run });
  const autofillRender = (template, run = {}, format = 'plain') => call('autofill.render', { template, run, format });
  const autofillSources = () => call('autofill.sources');

  // GitLab webhooks.
  const gitlabPipelineEvent = (body) => call('gitlab.pipeline_event', { body });
  const gitlabDecide = (event, config = {}) => call('gitlab.decide', { event, config });
  const gitlabVerifyToken = (expected, received) => call('gitlab.verify_token', { expected, received: received ?? null });

  /** Events a JunitReader reads ahead (a batch also ends at 1 MiB of JSON). */
  const READ_AHEAD = 256;

  /** Streams a JUnit report: an iterator of events in constant memory. */
  class JunitReader {
    #native;
    #done = false;
    /** Envelopes read ahead in one batch, last first. */
    #pending = [];

    constructor(source, options) {
      let input = source;
      // A FileHandle (fs.promises.open) is read through its descriptor, synchronously:
      // the reader pulls bytes as it needs them and keeps memory constant.
      const fd = typeof source === 'number' ? source : typeof source?.fd === 'number' && typeof source.read === 'function' ? source.fd : null;
      if (fd !== null) {
        if (!backend.readSync) throw new TypeError('file descriptors can only be read in Node');
        input = (maxBytes) => {
          const buffer = new Uint8Array(maxBytes);
          const n = backend.readSync(fd, buffer, 0, maxBytes, null);
          return n === 0 ? null : buffer.subarray(0, n);
        };
      } else if (typeof source !== 'string' && !isBytes(source) && typeof source !== 'function') {
        throw new TypeError('the source must be a string, a Uint8Array, a read(maxBytes) function, a file descriptor or a FileHandle');
      }
      const optionsJson = options === undefined || options === null ? undefined : JSON.stringify(options);
      this.#native = new backend.JunitReader(input, optionsJson);
    }

    [Symbol.iterator]() {
      return this;
    }

    next() {
      if (this.#done) return { value: undefined, done: true };
      if (this.#pending.length === 0) {
        // One crossing and one JSON.parse per batch of events, read last first.
        this.#pending = JSON.parse(this.#native.nextEnvelopes(READ_AHEAD)).reverse();
      }
      const envelope = this.#pending.pop();
      if (envelope.error !== null) {
        const thrown = this.#native.takeSourceError();
        this.#finish();
        throw toError(envelope.error, thrown === undefined ? undefined : { cause: thrown });
      }
      if (envelope.ok === null) {
        this.#finish();
        return { value: undefined, done: true };
      }
      return { value: envelope.ok, done: false };
    }

    /** Stops early (a `break` out of `for...of` calls this). */
    return() {
      this.#finish();
      return { value: undefined, done: true };
    }

    #finish() {
      if (this.#done) return;
      this.#done = true;
      this.#pending = [];
      // wasm-bindgen objects hold WASM memory until freed; napi objects are collected.
      if (typeof this.#native.free === 'function') this.#native.free();
      this.#native = null;
    }
  }

  const readJunit = (source, options) => new JunitReader(source, options);

  // Sessions: the core decides every request, retry, wait and save point; the host
  // sends, sleeps, reads files and stores saved progress.
  const opening = Symbol('opening');
  const requestId = (id) => {
    if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`a request id is a non-negative integer, not ${id}`);
    return id;
  };

  /** A live session; `Session.start` or `Session.resume` makes one. */
  class Session {
    #native;
    #kind;

    constructor(token, native) {
      if (token !== opening) throw new TypeError('use Session.start(kind, input, ...) or Session.resume(saved, ...)');
      const envelope = JSON.parse(native.opened());
      if (envelope.error !== null) {
        if (typeof native.free === 'function') native.free();
        throw toError(envelope.error);
      }
      this.#native = native;
      this.#kind = envelope.ok.kind;
    }

    /**
     * Starts a session of `kind` (see `sessionKinds()`) on its input. `secrets`:
     * `{ api_key }` or `{ username, password }`, given to the session, never saved.
     * `options`: `{ seed, retry }`.
     */
    static start(kind, input, { secrets, options } = {}) {
      const request = options === undefined || options === null ? { kind, input } : { kind, input, options };
      return new Session(opening, backend.startSession(JSON.stringify(request), JSON.stringify(secrets ?? {})));
    }

    /** Goes on from what `save()` returned, in this or any other runtime. */
    static resume(saved, { secrets } = {}) {
      if (typeof saved !== 'string' && !isBytes(saved)) throw new TypeError('saved progress is the string save() returned');
      return new Session(opening, backend.resumeSession(saved, JSON.stringify(secrets ?? {})));
    }

    /** The session's kind, e.g. `rally.publish`. */
    get kind() {
      return this.#kind;
    }

    /** What the host does next: an object keyed by `step` (send, read, wait, save, done). */
    next() {
      return unwrap(JSON.parse(this.#live().nextEnvelope()));
    }

    /** The answer to the request `id` (from a `send` step). */
    receive(id, response) {
      unwrap(JSON.parse(this.#live().receive(requestId(id), JSON.stringify(response))));
    }

    /** The file a `read` step asked for: `{ data }` (bytes or text) or `{ error }` (why it could not be read). */
    provideFile(id, { data, error } = {}) {
      const given = (data !== undefined && data !== null) + (error !== undefined && error !== null);
      if (given !== 1) throw new TypeError('give either data (the file\'s bytes) or error (why it could not be read)');
      if (data !== undefined && data !== null && typeof data !== 'string' && !isBytes(data)) {
        throw new TypeError('the file\'s data is a Uint8Array or a string');
      }
      unwrap(JSON.parse(this.#live().provideFile(requestId(id), data ?? null, error ?? null)));
    }

    /** The progress as JSON, secrets excepted: store it when a `save` step comes. */
    save() {
      return unwrap(JSON.parse(this.#live().save()));
    }

    /** `{ done, total }` units of work, for progress displays. */
    units() {
      return unwrap(JSON.parse(this.#live().units()));
    }

    /** Frees the session's memory at once (WASM); later calls throw. Optional for the addon. */
    free() {
      if (this.#native === null) return;
      if (typeof this.#native.free === 'function') this.#native.free();
      this.#native = null;
    }

    #live() {
      if (this.#native === null) throw new TypeError('this session was freed');
      return this.#native;
    }
  }

  /** Every kind of session the core can start, with its input's shape. */
  const sessionKinds = () => call('session.kinds');

  // Whole syncs in one call each; the runtime's `host` gives files and the state file.
  const { rally, qtest, testrail, iterCases } = createTargets({ Session, call, toError, parseJunit, parseAllure, host: backend.host ?? null });

  return {
    call,
    callJson,
    listOps,
    version,
    parseJunit,
    parseAllure,
    junitEvents,
    readJunit,
    JunitReader,
    Session,
    sessionKinds,
    rally,
    qtest,
    testrail,
    iterCases,
    mapResults,
    validateConfig,
    normalizeRallyQuery,
    checkRallyQuery,
    parseRallyQuery,
    rallyPollQuery,
    readRallyLookups,
    autofillSchema,
    autofillAllowedValues,
    autofillForm,
    autofillEditForm,
    autofillCheckMappings,
    autofillRunFromJunit,
    autofill,
    autofillRender,
    autofillSources,
    gitlabPipelineEvent,
    gitlabDecide,
    gitlabVerifyToken,
  };
}
