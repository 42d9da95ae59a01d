// The host loop every target's functions run (targets.js): a core session driven to
// its end on the global `fetch`. Shared word for word by the Node addon and the WASM
// package (browsers, Deno, Bun); file access and the JSON state file come from the
// runtime's `host` (Node: node-host.js), and any other runtime passes `store` (and
// `readFile`) itself. The core decides every request, retry, wait and save point:
// this file sends, sleeps, reads and stores.

const PLACEHOLDER = '(dry-run)';

const noAnswer = (kind, why) => ({ kind, status: 0, headers: [], body: why });

/** Text as it is; bytes that are not UTF-8 (a zip archive) in base64, for the core as they are. */
function bodyOf(bytes) {
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { body: '', body_base64: btoa(binary) };
  }
}

/** The bytes of a `body_base64` (a binary body: a multipart upload). */
function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Sends one request with `fetch`: no redirects followed, `timeoutMs` for the whole exchange. */
async function fetchSend(fetchImpl, request, signal, timeoutMs) {
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (signal) signals.push(signal);
  try {
    const answer = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body_base64 != null ? base64Bytes(request.body_base64) : (request.body ?? undefined),
      redirect: 'manual',
      signal: AbortSignal.any(signals),
    });
    return { kind: 'answered', status: answer.status, headers: [...answer.headers], ...bodyOf(new Uint8Array(await answer.arrayBuffer())) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error?.name === 'TimeoutError') return noAnswer('timeout', 'no answer in time');
    const code = error?.cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return noAnswer('connect_failed', code);
    // Broken after sending, or unknown: the server may have acted; the session looks first.
    return noAnswer('dropped', code ?? error?.name ?? 'fetch failed');
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `onProgress(done, total)`, or an EventTarget that gets `progress` events ({ detail: { done, total } }). */
function progressReporter(onProgress) {
  let seen = '';
  return (units) => {
    const now = `${units.done}/${units.total}`;
    if (now === seen) return;
    seen = now;
    if (typeof onProgress === 'function') onProgress(units.done, units.total);
    else if (onProgress && typeof onProgress.dispatchEvent === 'function') {
      onProgress.dispatchEvent(new CustomEvent('progress', { detail: { done: units.done, total: units.total } }));
    }
  };
}

/** The environment variables each target's secrets come from, as the CLI reads them. */
function secretsFromEnv(target, section, env) {
  const get = (name) => (env[name] ?? '').trim();
  if (target === 'rally') {
    const key = get(String(section.api_key_env || 'RALLY_API_KEY'));
    if (key) return { api_key: key };
    const user = get('RALLY_USERNAME');
    return user && env.RALLY_PASSWORD ? { username: user, password: env.RALLY_PASSWORD } : null;
  }
  if (target === 'qtest') {
    const token = get(String(section.token_env || 'TMBRIDGE_QTEST_TOKEN'));
    return token ? { api_key: token } : null;
  }
  if (target === 'testrail') {
    const user = get(String(section.user_env || 'TESTRAIL_USER'));
    const key = get(String(section.api_key_env || 'TESTRAIL_API_KEY'));
    if (user && key) return { username: user, api_key: key };
    return user && env.TESTRAIL_PASSWORD ? { username: user, password: env.TESTRAIL_PASSWORD } : null;
  }
  return null;
}

/** What to say when a target's secrets are missing: the variables to set. */
function noCredentials(target, section) {
  if (target === 'qtest') {
    const name = String(section.token_env || 'TMBRIDGE_QTEST_TOKEN');
    return {
      message: `no qTest token: the environment variable ${name} is not set`,
      hint: `set ${name} to a qTest API token (qtest.token_env names the variable; qTest: your name > Resources > API & SDK), or pass secrets: { api_key }`,
    };
  }
  if (target === 'testrail') {
    const user = String(section.user_env || 'TESTRAIL_USER');
    const key = String(section.api_key_env || 'TESTRAIL_API_KEY');
    return {
      message: `no TestRail credentials: set ${user} and ${key} (or TESTRAIL_PASSWORD)`,
      hint: `${user} holds the user's email and ${key} an API key (TestRail: My Settings > API Keys); or pass secrets: { username, api_key }`,
    };
  }
  const name = String(section.api_key_env || 'RALLY_API_KEY');
  return {
    message: `no Rally credentials: the environment variable ${name} is not set`,
    hint: `set ${name} to an API key (rally.api_key_env names the variable), or RALLY_USERNAME and RALLY_PASSWORD, or pass secrets: { api_key }`,
  };
}

/**
 * The loop and what every target's functions build before it runs: `drive(run)`,
 * `publishRun(kind, report, config, options)`, `simple(kind, config, request, options, keep)`.
 */
export function createHostLoop({ Session, call, toError, parseJunit, parseAllure, host }) {
  /** Recognises the same work when a script runs again: the core's key, the same in every runtime. */
  const workKey = (kind, work) => call('session.work_key', { kind, work });

  /** The secrets given, else from the environment for the kind's target (`qtest.publish`: qTest's). */
  const secretsFor = (kind, config, secrets, dryRun) => {
    if (secrets && Object.keys(secrets).length > 0) return secrets;
    const target = kind.split('.')[0];
    const section = config?.[target] ?? {};
    const found = secretsFromEnv(target, section, globalThis.process?.env ?? {});
    if (found) return found;
    // A dry run shows the real sign-in flow with placeholders.
    if (dryRun) return target === 'testrail' ? { username: PLACEHOLDER, api_key: PLACEHOLDER } : {};
    throw toError({ code: 'session.no_credentials', location: null, ...noCredentials(target, section) });
  };

  const openStore = async (options) => {
    if (options.store) return options.store;
    if (options.state === undefined || options.state === null) return null;
    if (!host) throw new TypeError('state: a file is for Node; elsewhere pass store: { get(key), set(key, value) }');
    return host.openState(options.state);
  };

  const loadConfig = (config) => {
    if (typeof config === 'string' || config instanceof URL) {
      if (!host) throw new TypeError('config: pass the configuration object (files are for Node)');
      return host.loadConfig(config);
    }
    return config;
  };

  /** Throws the error of a report that has one, with the report as `error.report`. */
  const check = (report) => {
    if (report.error === null || report.error === undefined) return report;
    const error = toError(report.error);
    error.report = report;
    throw error;
  };

  /** Runs one session to its end; `run`: { kind, input, secrets, files, store, key, dryRun, ... }. */
  async function drive(run) {
    if (run.store && !run.dryRun) {
      const done = await run.store.get(`report:${run.key}`);
      if (done) return check({ ...JSON.parse(done), resumed: true, dryRunRequests: [] });
    }
    let session;
    let resumed = false;
    if (run.dryRun) {
      const names = Object.keys(run.secrets);
      const fake = names.length ? Object.fromEntries(names.map((name) => [name, PLACEHOLDER])) : { api_key: PLACEHOLDER };
      session = Session.start(run.kind, run.input, { secrets: fake, options: { seed: 0 } });
    } else {
      const saved = run.store ? await run.store.get(`saved:${run.key}`) : null;
      if (saved) {
        session = Session.resume(saved, { secrets: run.secrets });
        resumed = true;
      } else {
        const seed = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
        session = Session.start(run.kind, run.input, { secrets: run.secrets, options: { seed } });
      }
    }
    const fetchImpl = run.fetch ?? globalThis.fetch;
    const report = progressReporter(run.onProgress);
    const shown = [];
    let counter = 0;
    try {
      for (;;) {
        run.signal?.throwIfAborted();
        const step = session.next();
        if (step.step === 'send') {
          const { id, method, url, headers, body } = step;
          const request = { id, method, url, headers, body };
          if (step.body_base64 != null) request.body_base64 = step.body_base64; // a multipart upload
          let response;
          if (run.dryRun) {
            const dry = call('session.dry_run_answer', { request, counter });
            counter = dry.counter;
            shown.push(dry.shown);
            response = dry.answer;
          } else {
            response = await fetchSend(fetchImpl, request, run.signal, run.timeoutMs ?? 60000);
          }
          session.receive(id, response);
          report(session.units());
        } else if (step.step === 'wait') {
          if (!run.dryRun) await sleep(step.ms, run.signal);
        } else if (step.step === 'read') {
          const file = run.files ? await run.files.read(step.path) : { error: 'no files may be read' };
          session.provideFile(step.id, file.error !== undefined ? { error: file.error } : { data: file.data });
        } else if (step.step === 'save') {
          if (run.store && !run.dryRun) await run.store.set(`saved:${run.key}`, session.save());
        } else {
          const { step: _, ...whole } = step;
          // Shown and stored only as the core masks it (tokens in URLs, credentials).
          const done = call('session.mask_report', { report: whole });
          if (run.store && !run.dryRun && done.error === null) await run.store.set(`report:${run.key}`, JSON.stringify(done));
          return check({ ...done, resumed, dryRunRequests: shown });
        }
      }
    } finally {
      session.free();
    }
  }

  const common = (options) => ({
    dryRun: Boolean(options.dryRun),
    onProgress: options.onProgress,
    signal: options.signal,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  });

  const readReport = async (report) => {
    if (report instanceof Uint8Array) return { parsed: parseJunit(report), folder: null };
    if (typeof report === 'string' || report instanceof URL) {
      if (!host) throw new TypeError('report: pass the XML as a Uint8Array, or parseJunit\'s output (paths are for Node)');
      return host.readReport(report, parseJunit, parseAllure);
    }
    return { parsed: report, folder: null };
  };

  const iterCases = function* (report) {
    const walk = function* (suite) {
      yield* suite.cases;
      for (const child of suite.suites) yield* walk(child);
    };
    for (const suite of report.suites) yield* walk(suite);
  };

  /** A publish session's run: the report's cases, the files they attach (sizes known up front). */
  async function publishRun(kind, report, config, options = {}) {
    const settings = options.configure ? options.configure(await loadConfig(config)) : await loadConfig(config);
    const { parsed, folder } = await readReport(report);
    const cases = [...iterCases(parsed)];
    const allowed = options.allowedDirs ?? (folder ? [folder] : []);
    const files = options.readFile
      ? {
          read: options.readFile,
          // The session needs each file's size before it asks for the bytes.
          size: async (path) => {
            const file = await options.readFile(path);
            return file.data ? file.data.length : null;
          },
        }
      : host
        ? host.allowedFiles(folder, allowed, options.state ? [options.state] : [])
        : null;
    const context = { ...(options.context ?? {}) };
    const artifacts = [...(context.artifacts ?? [])];
    const known = new Set(artifacts.map((a) => a.path));
    for (const c of cases) {
      for (const path of c.attachments) {
        if (known.has(path)) continue;
        known.add(path);
        artifacts.push({ path, size: files ? await files.size(path) : null });
      }
    }
    context.artifacts = artifacts;
    // The same work is recognised without the clock: a rerun has another `now`.
    const key = workKey(kind, { config: settings, cases, context });
    if (!context.now) context.now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return drive({
      kind,
      input: { config: settings, cases, context },
      secrets: secretsFor(kind, settings, options.secrets, options.dryRun),
      files,
      store: await openStore(options),
      key,
      ...common(options),
    });
  }

  async function simple(kind, config, request, options, keep) {
    const settings = await loadConfig(config);
    const input = request === undefined ? { config: settings } : { config: settings, request };
    return drive({
      kind,
      input,
      secrets: secretsFor(kind, settings, options.secrets, options.dryRun),
      store: keep ? await openStore(options) : null,
      key: keep ? workKey(kind, input) : '',
      ...common(options),
    });
  }

  return { drive, publishRun, simple, loadConfig, openStore, secretsFor, workKey, iterCases };
}
