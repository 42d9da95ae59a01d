// WASM in headless Chromium: every conformance vector through tmbridge-wasm's browser
// build (pkg/index.js), served from 127.0.0.1, plus API checks in the page.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { launch, watchErrors } from './chromium.mjs';
import { loadVectors } from './load-vectors.mjs';
import { serve } from './serve.mjs';
import { transcripts } from './session-drive.mjs';

let server;
let browser;

before(async () => {
  server = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

it('wasm in chromium: every vector gives its expected bytes, and the API works', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/tests/js/browser/vectors.html`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => window.__result);
  assert.equal(result.fatal, undefined, result.fatal);
  const expectedTotal = loadVectors().length;
  const report = result.failures.map((f) => `${f.name}:\n  actual:   ${f.actual.slice(0, 300)}\n  expected: ${f.expected.slice(0, 300)}`).join('\n');
  assert.equal(result.total, expectedTotal);
  assert.equal(result.failures.length, 0, `${result.failures.length} of ${result.total} vectors differ in Chromium\n${report}`);
  console.log(`wasm in chromium: ${result.passed} of ${result.total} vectors byte-identical`);

  const expectedSessions = transcripts(loadVectors()).map((v) => v.name);
  assert.ok(expectedSessions.length >= 4);
  assert.deepEqual(result.sessions.map((s) => s.name), expectedSessions);
  for (const s of result.sessions) assert.ok(s.same, `${s.name}: the live session in Chromium took other steps`);
  console.log(`wasm in chromium: ${result.sessions.length} transcripts driven live, same steps`);

  assert.match(result.api.earlyError, /await init\(\)/);
  assert.deepEqual(result.api.counts, { tests: 2, passed: 1, failed: 1, errors: 0, skipped: 0, flaky: 0 });
  assert.deepEqual(result.api.events, ['report_start', 'suite_start', 'case', 'case', 'suite_end', 'report_end']);
  assert.equal(result.api.error.junit, true);
  assert.equal(result.api.error.base, true);
  assert.equal(result.api.error.line, 1);
  assert.match(result.api.error.message, /^line 1, column \d+: .+ \[junit\.[a-z_]+\]/);
  assert.deepEqual(errors, []);
});
