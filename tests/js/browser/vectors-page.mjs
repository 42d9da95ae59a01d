// Runs every conformance vector through tmbridge-wasm's browser build, plus a few API
// checks, and leaves the result in window.__result for the Playwright test.
import init, * as tmbridge from '/pkg/index.js';
import { callJson, parseJunit, readJunit, JunitError, TmbridgeError } from '/pkg/index.js';
import { driveTranscript, transcripts } from '/tests/js/session-drive.mjs';
import { readVector, runVectors } from '/tests/js/vectors.mjs';

async function main() {
  let earlyError = null;
  try {
    parseJunit('<testsuite/>');
  } catch (e) {
    earlyError = e.message;
  }
  await init();
  const names = await (await fetch('/tests/vectors/index.json')).json();
  const vectors = [];
  for (const name of names) {
    vectors.push(readVector(name, await (await fetch(`/tests/vectors/${name}`)).text()));
  }
  const result = runVectors(vectors, callJson);

  const xml = '<testsuite name="web"><testcase name="ok"/><testcase name="bad"><failure message="no"/></testcase></testsuite>';
  const bytes = new TextEncoder().encode(xml);
  let at = 0;
  const events = [...readJunit((max) => (at >= bytes.length ? null : bytes.subarray(at, (at += Math.min(max, 7)))))];
  let error = null;
  try {
    parseJunit(new Uint8Array([0x3c, 0xff]));
  } catch (e) {
    error = { junit: e instanceof JunitError, base: e instanceof TmbridgeError, code: e.code, line: e.line, column: e.column, message: e.message };
  }
  // Live sessions in the page, driven through each recorded transcript.
  result.sessions = transcripts(vectors).map((vector) => {
    const expected = JSON.parse(vector.expected).ok;
    const { steps, resumedAfter } = driveTranscript(tmbridge, vector);
    const same = JSON.stringify(steps) === JSON.stringify(expected.steps) && JSON.stringify(resumedAfter) === JSON.stringify(expected.resumed_after);
    return { name: vector.name, same, steps: steps.length };
  });
  result.api = {
    earlyError,
    counts: parseJunit(bytes).counts,
    events: events.map((e) => e.event),
    error,
  };
  document.getElementById('status').textContent = `${result.passed} of ${result.total} vectors passed`;
  return result;
}

main().then(
  (result) => {
    window.__result = result;
  },
  (e) => {
    window.__result = { fatal: String(e && e.stack ? e.stack : e) };
  },
);
