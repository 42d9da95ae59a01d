// The host loop of a core session in the extension: the core decides every request,
// retry, wait and save point; this file only sends what it is given with fetch.
import { Session } from '../tmbridge/index.js';

// A person is waiting at the panel: give up on an unreachable server within seconds.
const RETRY = { max_attempts: 3, base_delay_ms: 300, max_delay_ms: 2000, max_retry_after_ms: 5000 };

/** One HTTP exchange as the session expects its answer; never throws. */
async function send(step) {
  try {
    const response = await fetch(step.url, {
      method: step.method,
      headers: step.headers,
      body: step.body ?? undefined,
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    });
    const type = response.headers.get('content-type') ?? '';
    if (/json|text|xml|html/i.test(type) || !type) {
      return { kind: 'answered', status: response.status, headers: [...response.headers], body: await response.text() };
    }
    // A file (a test log's screenshot): its bytes travel as base64.
    const bytes = new Uint8Array(await response.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { kind: 'answered', status: response.status, headers: [...response.headers], body: '', body_base64: btoa(binary) };
  } catch (e) {
    // fetch rejects only when nothing was answered: no network, refused, no permission.
    return { kind: 'connect_failed', status: 0, headers: [], body: String(e?.message ?? e) };
  }
}

/**
 * Runs a session of `kind` to its end and returns the `done` step (the report).
 * `onStep` sees each step (for progress). The API key goes to the core as a secret and
 * into request headers only; it is never logged or saved.
 */
export async function runSession(kind, input, apiKey, { onStep = () => {} } = {}) {
  const session = Session.start(kind, input, {
    secrets: { api_key: apiKey },
    options: { seed: crypto.getRandomValues(new Uint32Array(1))[0], retry: RETRY },
  });
  try {
    for (;;) {
      const step = session.next();
      onStep(step);
      if (step.step === 'done') return step;
      if (step.step === 'send') session.receive(step.id, await send(step));
      else if (step.step === 'wait') await new Promise((resolve) => setTimeout(resolve, step.ms));
      else if (step.step === 'read') session.provideFile(step.id, { error: 'the extension attaches no local files' });
      // 'save': the whole session runs while the panel is open; nothing to keep.
    }
  } finally {
    session.free();
  }
}
