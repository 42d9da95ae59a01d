// The MV3 extension (pkg/extension) in headless Chromium: load it unpacked, store a
// failed run and settings through its options page, open a Rally-like defect form
// served on 127.0.0.1, run the fill the toolbar button runs, and check every field.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';
import { chromium } from 'playwright-core';
import { ARGS, CHROMIUM, watchErrors } from './chromium.mjs';
import { ROOT, serve } from './serve.mjs';

const EXTENSION = join(ROOT, 'pkg/extension');
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const FORM = readFileSync(new URL('./browser/rally-defect-form.html', import.meta.url));
const METADATA = readFileSync(join(FIXTURES, 'autofill/rally-defect-typedef.json'));

let server;
let context;
let worker;
let userDataDir;
const metadataRequests = [];

before(async () => {
  server = await serve({
    '/rally/defect/new': async () => ({ type: 'text/html; charset=utf-8', body: FORM }),
    // What Rally's WSAPI answers for the Defect type definition (a fixture of that shape).
    '/slm/webservice/v2.0/typedefinition': async (req) => {
      metadataRequests.push(req.url);
      return { type: 'application/json', body: METADATA };
    },
  });
  userDataDir = mkdtempSync(join(tmpdir(), 'tmbridge-ext-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, `--disable-extensions-except=${EXTENSION}`, `--load-extension=${EXTENSION}`],
  });
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
});

after(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

async function store(files) {
  const id = new URL(worker.url()).host;
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`chrome-extension://${id}/options.html`);
  for (const [input, path] of Object.entries(files)) await page.setInputFiles(`#${input}`, join(FIXTURES, path));
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  assert.equal(await page.textContent('#status'), 'Saved');
  assert.deepEqual(errors, []);
  await page.close();
}

async function openFormAndFill() {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/rally/defect/new`);
  await page.bringToFront();
  await page.waitForFunction(() => document.readyState === 'complete');
  // The same function the toolbar button runs, on the active tab.
  const summary = await worker.evaluate(() => self.tmbridge.fillActiveTab());
  return { page, summary, errors };
}

const value = (page, name) => page.$eval(`[name="${name}"]`, (el) => el.value);
const selectedText = (page, name) => page.$eval(`[name="${name}"]`, (el) => el.selectedOptions[0]?.text ?? '');

it('fills every field of the defect form from a failed qTest run', async () => {
  await store({ run: 'autofill/failed-run.json', settings: 'autofill/defect-form-settings.json' });
  const { page, summary, errors } = await openFormAndFill();
  assert.equal(summary.ok, true, JSON.stringify(summary));
  assert.equal(summary.ready, true);
  assert.deepEqual(summary.missing, []);
  assert.ok(metadataRequests.length >= 1 && metadataRequests[0].includes('Defect'));

  assert.equal(await value(page, 'Name'), 'Checkout rejects an expired card: Spinner for 30 s, then "Something went wrong (500)"');
  assert.equal(await value(page, 'Project'), '/project/51022340011');
  assert.equal(await selectedText(page, 'Project'), 'Checkout Team');
  assert.equal(await value(page, 'State'), 'Submitted');
  assert.equal(await value(page, 'ScheduleState'), 'Defined');
  assert.equal(await value(page, 'Severity'), 'Major Problem');
  assert.equal(await value(page, 'Priority'), 'High Attention');
  assert.equal(await value(page, 'Environment'), 'Test');
  assert.equal(await value(page, 'FoundInBuild'), 'web-2024.05.14+3');
  assert.equal(await value(page, 'SubmittedBy'), '/user/52010440017');
  assert.equal(await selectedText(page, 'SubmittedBy'), 'Dana Reyes');
  assert.equal(await value(page, 'c_CodeArea'), 'Checkout');
  assert.equal(await value(page, 'c_Type'), 'Found Internally');
  assert.equal(await value(page, 'c_QTestRun'), 'TR-1042');
  assert.equal(await value(page, 'TestCase'), '/testcase/66120987');
  assert.equal(await value(page, 'TestCaseResult'), '/testcaseresult/771203344');
  assert.equal(await value(page, 'Requirement'), '/hierarchicalrequirement/60011223');
  assert.equal(await page.textContent('[data-shows="TestCase"]'), '/testcase/66120987');
  // Nothing fills these: they stay as the page had them.
  assert.equal(await value(page, 'Owner'), '');
  assert.equal(await value(page, 'Iteration'), '');

  const description = page.locator('[data-field="Description"]');
  const text = await description.innerText();
  assert.ok(text.startsWith('TC-318 Checkout rejects an expired card failed in build web-2024.05.14+3 on Staging.'), text);
  assert.ok(text.includes('3. Press Pay'), text);
  assert.ok(text.includes('Failed at step 3: Spinner for 30 s, then "Something went wrong (500)"'), text);
  const link = description.locator('a');
  assert.equal(await link.getAttribute('href'), 'https://acme.qtestnet.com/p/4521/portal/project#tab=testexecution&object=3&id=88213');
  assert.equal(await link.innerText(), 'TR-1042 Checkout with an expired card');
  assert.equal(await description.locator('script, img, [onclick]').count(), 0);

  const notes = await page.locator('[data-field="Notes"]').innerText();
  assert.equal(
    notes,
    'Reproduced twice on Chrome 124 & Firefox 125.\nAttachments: checkout-error.png, console.log\nExecuted by dana.reyes\nBuild: https://ci.example.com/job/web/1893/',
  );

  const changed = new Set(await page.evaluate(() => window.__changes));
  for (const field of summary.filled) assert.ok(changed.has(field), `no change event for ${field}`);
  // 19 fields on the form, 17 with a value: Owner and Iteration have no rule or default.
  assert.deepEqual(summary.filled.sort(), [
    'Description', 'Environment', 'FoundInBuild', 'Name', 'Notes', 'Priority', 'Project', 'Requirement', 'ScheduleState',
    'Severity', 'State', 'SubmittedBy', 'TestCase', 'TestCaseResult', 'c_CodeArea', 'c_QTestRun', 'c_Type',
  ]);
  assert.equal(await page.textContent('#tmbridge-status'), 'tmbridge filled 17 fields');
  assert.deepEqual(errors, []);
  await page.close();
});

it('fills the defect from the first failed test of a JUnit report', async () => {
  await store({ report: 'map/checkout-e2e.xml', settings: 'autofill/defect-form-settings.json' });
  const { page, summary, errors } = await openFormAndFill();
  assert.equal(summary.ok, true, JSON.stringify(summary));
  // The first failed test of checkout-e2e.xml; no failing step, so no ": ..." suffix.
  assert.equal(await value(page, 'Name'), '[C103, C104] pays by card');
  assert.equal(await selectedText(page, 'Project'), 'Checkout Team');
  assert.equal(await value(page, 'c_Type'), 'Found Internally');
  assert.deepEqual(errors, []);
  await page.close();
});
