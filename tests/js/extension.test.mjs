// The MV3 extension (pkg/extension) in headless Chromium against the Rally and GitLab
// simulators on loopback: set-up on the options page, a JUnit report or an allure-results
// folder dropped on the side panel with the files its tests attach, the failed test of a
// GitLab pipeline page, the defect form the panel renders
// from the `rally.schema` session, and the defect the `rally.defect` session creates.
// Bad key, no network and a missing required field each end in a clear message.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, it } from 'node:test';
import { chromium } from 'playwright-core';
import { ARGS, CHROMIUM, watchErrors } from './chromium.mjs';
import { ROOT } from './serve.mjs';

const SIMULATORS =
  process.env.TMBRIDGE_SIMULATORS ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/tmbridge-simulators');
// The README's screenshots are refreshed with TMBRIDGE_UPDATE_SCREENSHOTS=1; otherwise
// they are taken all the same, into the run's temporary folder.
const UPDATE_SCREENSHOTS = process.env.TMBRIDGE_UPDATE_SCREENSHOTS === '1';
let SCREENSHOTS;
const PANEL = { width: 420, height: 900 };

// A report with two failed tests; one failure message is hostile HTML.
const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="checkout" tests="3" failures="2">
  <testcase classname="shop.CartTest" name="adds an item" time="0.2"/>
  <testcase classname="shop.PaymentTest" name="pays by card" time="1.5">
    <failure message="expected status 200 but was 502">AssertionError: expected status 200 but was 502
	at shop.PaymentTest.paysByCard(PaymentTest.java:48)</failure>
  </testcase>
  <testcase classname="shop.PaymentTest" name="shows the receipt" time="0.7">
    <failure message="&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt; not shown">receipt missing</failure>
  </testcase>
</testsuite>
`;

// A failure with a screenshot named in its output (a path of the CI machine), a video
// the user does not drop and a file name that is markup.
const JUNIT_WITH_FILES = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="checkout" tests="1" failures="1">
  <testcase classname="shop.ReceiptTest" name="prints the receipt" time="0.9">
    <failure message="receipt total 0.00, expected 12.50">AssertionError: receipt total 0.00, expected 12.50</failure>
    <system-out>opened /receipt/77
[[ATTACHMENT|/builds/shop/target/screens/receipt.png]]
[[ATTACHMENT|/builds/shop/target/videos/receipt.webm]]
[[ATTACHMENT|/builds/shop/&lt;img src=x onerror=alert(1)&gt;.png]]
</system-out>
  </testcase>
</testsuite>
`;

// A committed allure-results folder (tests/fixtures/extension): a failed test naming a
// screenshot, a step's log and a video whose file is not in the folder.
const ALLURE_RESULTS = join(ROOT, 'tests/fixtures/extension/allure-results');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

let sim;
let info;
let context;
let extensionId;
let userDataDir;

/** Starts the simulators binary on free ports and reads what it prints. */
async function startSimulators() {
  const child = spawn(SIMULATORS, ['--rally', '127.0.0.1:0', '--gitlab', '127.0.0.1:0', '--gitlab-demo-pipeline', '--qtest', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const patterns = {
    rallyUrl: /^rally\.url = (\S+)/,
    rallyApiKey: /^rally api key \(ZSESSIONID\) = (\S+)/,
    rallyWorkspace: /^rally\.workspace = (\S+)/,
    rallyProject: /^rally\.project = (\S+)/,
    gitlab: /^gitlab url = (\S+)\s+\(PRIVATE-TOKEN (\S+)\)/,
    gitlabProject: /^gitlab project = \S+ \((\S+)\)/,
    qtest: /^qtest url = (\S+)\s+\(bearer token (\S+), project (\d+)\)/,
  };
  const failed = new Promise((resolve) => child.on('error', resolve));
  const found = {};
  failed.then((e) => child.stdout.destroy(new Error(`cannot run ${SIMULATORS} (cargo build -p tmbridge-simulators): ${e.message}`)));
  for await (const line of createInterface({ input: child.stdout })) {
    for (const [name, pattern] of Object.entries(patterns)) {
      const m = pattern.exec(line);
      if (m && name === 'gitlab') Object.assign(found, { gitlabUrl: m[1], gitlabToken: m[2] });
      else if (m && name === 'qtest') Object.assign(found, { qtestUrl: m[1], qtestToken: m[2], qtestProject: m[3] });
      else if (m) found[name] = m[1];
    }
    if (Object.keys(found).length === Object.keys(patterns).length + 3) break;
  }
  assert.ok(found.gitlabProject && found.qtestUrl, `the simulators printed only ${Object.keys(found)}`);
  return { child, found };
}

/** A loopback port nothing listens on: the "no network" Rally. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function wsapi(path) {
  const response = await fetch(`${info.rallyUrl}/slm/webservice/v2.0${path}`, { headers: { ZSESSIONID: info.rallyApiKey } });
  return response.json();
}

const ledger = async () => (await (await fetch(`${info.rallyUrl}/__sim/ledger`)).json()).filter((e) => e.type === 'Defect');

before(async () => {
  const started = await startSimulators();
  sim = started.child;
  info = started.found;
  userDataDir = mkdtempSync(join(tmpdir(), 'tmbridge-ext-'));
  // The unpacked extension as the user has it after set-up: the same files, with access
  // to the loopback hosts already granted (a person grants it in the browser's prompt,
  // which a test cannot click). The options page still asks; the answer is then "yes".
  // TMBRIDGE_EXTENSION_ZIP: the store zip (scripts/package-extension.sh) instead of the folder.
  const extension = join(userDataDir, 'extension');
  if (process.env.TMBRIDGE_EXTENSION_ZIP) {
    execFileSync('unzip', ['-q', process.env.TMBRIDGE_EXTENSION_ZIP, '-d', extension]);
  } else {
    cpSync(join(ROOT, 'pkg/extension'), extension, { recursive: true, filter: (p) => !p.includes('screenshots') });
  }
  const manifest = JSON.parse(readFileSync(join(extension, 'manifest.json'), 'utf8'));
  manifest.host_permissions = ['http://127.0.0.1/*'];
  writeFileSync(join(extension, 'manifest.json'), JSON.stringify(manifest));
  context = await chromium.launchPersistentContext(join(userDataDir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: PANEL,
    args: [...ARGS.filter((a) => a !== '--headless'), '--headless=new', `--disable-extensions-except=${extension}`, `--load-extension=${extension}`],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  extensionId = new URL(worker.url()).host;
  // Installing opens the set-up page; close it, so that it does not race the tests' own.
  const isSetUp = (p) => p.url() === `chrome-extension://${extensionId}/options.html`;
  let welcome = context.pages().find(isSetUp);
  for (let i = 0; i < 200 && !welcome; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    welcome = context.pages().find(isSetUp);
  }
  assert.ok(welcome, 'installing the extension opens its set-up page');
  await welcome.close();
  SCREENSHOTS = UPDATE_SCREENSHOTS ? join(ROOT, 'pkg/extension/screenshots') : join(userDataDir, 'screenshots');
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await context?.close();
  sim?.kill();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** Fills the options page as a user does and saves (which asks for host access). */
async function setUp(values) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`chrome-extension://${extensionId}/options.html`);
  const all = { ...info, ...values };
  for (const id of ['rallyUrl', 'rallyWorkspace', 'rallyProject', 'rallyApiKey', 'gitlabUrl', 'gitlabToken', 'qtestUrl', 'qtestProject', 'qtestToken']) {
    await page.fill(`#${id}`, all[id]);
  }
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  assert.match(await page.textContent('#status'), /^Saved/);
  assert.deepEqual(errors, []);
  await page.close();
}

/** The options page's connection test (the core's `rally.connect` session); its message. */
async function testConnection() {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/options.html`);
  await page.waitForFunction(() => document.getElementById('rallyApiKey').value !== '');
  await page.click('#test');
  await page.waitForFunction(() => !['', 'Testing…'].includes(document.getElementById('status').textContent));
  const text = await page.textContent('#status');
  await page.close();
  return text;
}

async function openPanel() {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.setViewportSize(PANEL);
  await page.goto(`chrome-extension://${extensionId}/sidepanel.html`);
  await page.waitForSelector('body[data-ready=true]');
  return { page, errors };
}

/** Drops a file on the panel's drop zone, as a drag from the desktop does. */
async function dropFile(page, name, text) {
  const dataTransfer = await page.evaluateHandle(
    ([n, t]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], n, { type: 'text/xml' }));
      return dt;
    },
    [name, text],
  );
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer });
}

/** Drops several files at once (a folder's files, or a report with its screenshots). */
async function dropFiles(page, files) {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const { name, data } of list) {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], name));
    }
    return dt;
  }, files.map(({ name, bytes }) => ({ name, data: Buffer.from(bytes).toString('base64') })));
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer });
}

const allureResults = () => readdirSync(ALLURE_RESULTS).map((name) => ({ name, bytes: readFileSync(join(ALLURE_RESULTS, name)) }));

/** The defect of `formattedId` as WSAPI has it, with the named fields. */
async function defectOf(formattedId, fetch) {
  const found = await wsapi(`/defect?query=(FormattedID%20%3D%20${formattedId})&fetch=${fetch}`);
  return found.QueryResult.Results[0];
}

const fieldValue = (page, name) => page.inputValue(`[name="${name}"]`);
const problemsOf = (page, name) => page.locator(`.field[data-field="${name}"] .problems li`).allTextContents();
const shot = (page, name) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

async function pickFailed(page, text) {
  await page.getByRole('button', { name: text }).click();
  await page.waitForSelector('#defect-form:not([hidden]) .field');
}

it('files a defect from a failed test of a dropped JUnit report', async () => {
  await setUp({});
  assert.equal(await testConnection(), 'Rally answered: the key, workspace and project work.');
  // What the extension holds: storage and sidePanel, and the hosts granted at set-up.
  const worker = context.serviceWorkers()[0];
  const granted = await worker.evaluate(() => chrome.permissions.getAll());
  assert.deepEqual(granted.permissions.sort(), ['sidePanel', 'storage']);
  assert.deepEqual(granted.origins, ['http://127.0.0.1/*']);
  assert.deepEqual(await worker.evaluate(() => chrome.sidePanel.getPanelBehavior()), { openPanelOnActionClick: true });
  const { page, errors } = await openPanel();
  await dropFile(page, 'checkout.xml', JUNIT);
  await page.waitForSelector('#failed-tests li');
  assert.deepEqual(await page.locator('#failed-tests button').allInnerTexts(), [
    'shop.PaymentTest › pays by card\nexpected status 200 but was 502',
    'shop.PaymentTest › shows the receipt\n<img src=x onerror=alert(1)><script>alert(2)</script> not shown',
  ]);

  // The hostile message first: it shows as text, never as markup.
  await pickFailed(page, /shows the receipt/);
  const preview = page.locator('[data-preview=Description]');
  assert.match(await preview.innerText(), /<img src=x onerror=alert\(1\)><script>alert\(2\)<\/script> not shown/);
  assert.equal(await page.locator('#fields img, #fields script, #fields [onerror]').count(), 0);

  await pickFailed(page, /pays by card/);
  // The form the schema session loaded: the configured order first, required marks,
  // drop-downs holding the simulator's allowed values.
  const order = await page.locator('.field').evaluateAll((rows) => rows.map((r) => r.dataset.field));
  assert.deepEqual(order.slice(0, 8), ['Name', 'Severity', 'Priority', 'State', 'Environment', 'FoundInBuild', 'Description', 'Notes']);
  assert.equal(await page.locator('.field[data-field=Name] .required').count(), 1);
  assert.deepEqual(await page.locator('[name=Severity] option').allTextContents(), [
    '—', 'None', 'Crash/Data Loss', 'Major Problem', 'Minor Problem', 'Cosmetic',
  ]);
  assert.equal(await fieldValue(page, 'Name'), 'pays by card: expected status 200 but was 502');
  assert.equal(await fieldValue(page, 'Severity'), 'Minor Problem');
  assert.equal(await fieldValue(page, 'State'), 'Submitted');
  assert.match(await fieldValue(page, 'Description'), /^shop\.PaymentTest\.pays by card failed in a local run\./);

  // Edits are checked by the core as they are typed.
  await page.selectOption('[name=Severity]', 'Major Problem');
  await page.fill('[name=Name]', 'Card payment answers 502');
  await shot(page, 'junit-form.png');

  await page.click('#submit');
  await page.waitForSelector('#result:not([hidden])');
  const formattedId = await page.textContent('#defect-link');
  assert.match(formattedId, /^DE\d+$/);
  assert.match(await page.getAttribute('#defect-link', 'href'), /\/#\/detail\/defect\/\d+$/);
  assert.equal(await page.textContent('#result'), `Created ${formattedId}: Card payment answers 502`);
  // Filed once: the button waits for a change before it files another defect.
  assert.equal(await page.isDisabled('#submit'), true);
  await shot(page, 'junit-submitted.png');

  const [defect] = (await ledger()).filter((e) => e.formatted_id === formattedId);
  assert.ok(defect, `${formattedId} is not in the simulator's ledger`);
  assert.equal(defect.fields.Name, 'Card payment answers 502');
  assert.equal(defect.fields.Severity, 'Major Problem');
  assert.equal(defect.fields.Priority, 'Normal');
  assert.equal(defect.fields.State, 'Submitted');
  assert.match(defect.fields.Description, /expected status 200 but was 502/);
  const stored = await wsapi(`/defect?query=(FormattedID = "${formattedId}")&fetch=Name,Severity`);
  assert.equal(stored.QueryResult.Results[0].Name, 'Card payment answers 502');
  assert.deepEqual(errors, []);
  await page.close();
});

it('sends nothing while a required field is empty, and says which', async () => {
  await setUp({});
  const { page, errors } = await openPanel();
  await dropFile(page, 'checkout.xml', JUNIT);
  await pickFailed(page, /pays by card/);
  const before = (await ledger()).length;
  await page.fill('[name=Name]', '');
  // The core's problem appears beside the field while typing, before any submit.
  await page.waitForSelector('.field[data-field=Name].has-error');
  assert.ok((await problemsOf(page, 'Name')).length > 0);
  await page.click('#submit');
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /Nothing was sent: the form is not complete.*Fix Name/);
  await shot(page, 'missing-required.png');
  assert.equal((await ledger()).length, before);
  assert.deepEqual(errors, []);
  await page.close();
});

it('says so when Rally refuses the API key, and creates nothing', async () => {
  await setUp({ rallyApiKey: 'not-the-key' });
  assert.match(await testConnection(), /^Rally refused your API key\. Check the API key on the set-up page/);
  const { page } = await openPanel();
  const before = (await ledger()).length;
  await dropFile(page, 'checkout.xml', JUNIT);
  await page.getByRole('button', { name: /pays by card/ }).click();
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /^Rally refused your API key.*API key on the set-up page/);
  await shot(page, 'bad-key.png');
  assert.equal((await ledger()).length, before);
  await page.close();
});

it('says so when Rally cannot be reached', async () => {
  await setUp({ rallyUrl: `http://127.0.0.1:${await closedPort()}` });
  const { page } = await openPanel();
  await dropFile(page, 'checkout.xml', JUNIT);
  await page.getByRole('button', { name: /pays by card/ }).click();
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /^Rally cannot be reached.*Check the network connection/);
  await shot(page, 'no-network.png');
  await page.close();
});

it('files a defect from the failed test of the GitLab pipeline page the user is on', async () => {
  await setUp({});
  const pipelinePage = await context.newPage();
  await pipelinePage.goto(`${info.gitlabUrl}/${info.gitlabProject}/-/pipelines/1001`);
  // The panel beside it: a window of its own, so that the pipeline tab stays active.
  const opened = context.waitForEvent('page');
  const worker = context.serviceWorkers()[0];
  await worker.evaluate(() => chrome.windows.create({ url: 'sidepanel.html', type: 'popup', width: 420, height: 900 }));
  const page = await opened;
  const errors = watchErrors(page);
  await page.setViewportSize(PANEL);
  // Opened beside the pipeline page, the panel reads its test report by itself; one
  // failed test is picked at once. (The panel's button does the same on demand.)
  await page.waitForSelector('#defect-form:not([hidden]) .field');
  assert.deepEqual(await page.locator('#failed-tests button').allInnerTexts(), [
    'unit-tests › checkout.LoginTest.logs in\nexpected 200, got 500',
  ]);
  assert.equal(await fieldValue(page, 'Name'), 'logs in: expected 200, got 500');
  assert.equal(await fieldValue(page, 'FoundInBuild'), 'pipeline #1001 (main)');
  const pipelineUrl = `${info.gitlabUrl}/${info.gitlabProject}/-/pipelines/1001`;
  assert.equal(await page.locator(`[data-preview=Description] a[href="${pipelineUrl}"]`).count(), 1);
  // The text box holds what the rules wrote; the core adds the link to the run again.
  assert.doesNotMatch(await fieldValue(page, 'Description'), /Test run:/);
  const description = `${await fieldValue(page, 'Description')}\nSeen on every login since this pipeline.`;
  await page.fill('[name=Description]', description);
  await page.waitForFunction(() => document.querySelector('[data-preview=Description]').textContent.includes('every login'));
  assert.equal(await page.locator('[data-preview=Description] a').count(), 1);
  assert.equal(await page.locator(`[data-preview=Description] a[href="${pipelineUrl}"]`).count(), 1);
  await shot(page, 'gitlab-form.png');

  await page.click('#submit');
  await page.waitForSelector('#result:not([hidden])');
  const formattedId = await page.textContent('#defect-link');
  const [defect] = (await ledger()).filter((e) => e.formatted_id === formattedId);
  assert.ok(defect, `${formattedId} is not in the simulator's ledger`);
  assert.equal(defect.fields.Name, 'logs in: expected 200, got 500');
  assert.equal(defect.fields.FoundInBuild, 'pipeline #1001 (main)');
  assert.ok(defect.fields.Description.includes(`href="${pipelineUrl}"`), defect.fields.Description);
  assert.ok(defect.fields.Description.includes('Seen on every login since this pipeline.'), defect.fields.Description);
  assert.equal(defect.fields.Description.split('Test run:').length, 2, defect.fields.Description);
  assert.ok(defect.fields.Notes.startsWith(`Build: <a href="${pipelineUrl}">`), defect.fields.Notes);
  await shot(page, 'gitlab-submitted.png');

  // A job page of the pipeline leads to the same report.
  await pipelinePage.goto(`${info.gitlabUrl}/${info.gitlabProject}/-/jobs/7001`);
  await page.evaluate(() => {
    document.getElementById('failed-tests').replaceChildren();
  });
  await page.click('#from-page');
  await page.waitForSelector('#failed-tests li');
  assert.match(await page.textContent('#source-status'), /^Pipeline #1001 \(main\): 1 failed test/);
  assert.deepEqual(errors, []);
  await page.close();
  await pipelinePage.close();
});

/** A failed qTest run with a screenshot, made through qTest's API; its id and the case's address. */
async function failedQtestRun() {
  const api = async (method, path, body) => {
    const answer = await fetch(`${info.qtestUrl}/api/v3/projects/${info.qtestProject}/${path}`, {
      method,
      headers: { Authorization: `Bearer ${info.qtestToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(answer.ok, `${method} ${path}: ${answer.status}`);
    return answer.json();
  };
  const testCase = await api('POST', 'test-cases', { name: 'Checkout rejects an expired card', test_steps: [{ description: 'Pay with an expired card', expected: 'An error' }] });
  const run = await api('POST', 'test-runs?parentId=0&parentType=root', { name: 'Checkout rejects an expired card', test_case: { id: testCase.id } });
  await api('POST', `test-runs/${run.id}/auto-test-logs`, {
    status: 'FAIL',
    exe_start_date: '2026-05-13T10:00:00Z',
    exe_end_date: '2026-05-13T10:01:00Z',
    name: 'Checkout rejects an expired card',
    test_step_logs: [{ order: 0, description: 'Pay with an expired card', expected_result: 'An error', actual_result: 'A spinner, then 502', status: 'FAIL' }],
    attachments: [{ name: 'checkout.png', content_type: 'image/png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7]).toString('base64') }],
  });
  const caseUrl = (await api('GET', `test-cases/${testCase.id}`)).web_url;
  return { run: run.id, caseUrl, comments: async () => (await api('GET', `test-runs/${run.id}/comments`)).items };
}

it('files a defect from the qTest test run page the user is on, with its files, linked back', async () => {
  const failed = await failedQtestRun();
  const create = async (type, fields) => {
    const answer = await fetch(`${info.rallyUrl}/slm/webservice/v2.0/${type.toLowerCase()}/create`, {
      method: 'POST',
      headers: { ZSESSIONID: info.rallyApiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ [type]: { Workspace: info.rallyWorkspace, Project: info.rallyProject, ...fields } }),
    });
    return (await answer.json()).CreateResult.Object._ref;
  };
  const story = await create('HierarchicalRequirement', { Name: 'Pay by card' });
  const rallyCase = await create('TestCase', { Name: 'Checkout rejects an expired card', WorkProduct: story, Description: `From qTest: ${failed.caseUrl}` });
  await setUp({});
  const runUrl = `${info.qtestUrl}/p/${info.qtestProject}/portal/project#tab=testexecution&object=3&id=${failed.run}`;
  const runPage = await context.newPage();
  await runPage.goto(runUrl);
  const opened = context.waitForEvent('page');
  const worker = context.serviceWorkers()[0];
  await worker.evaluate(() => chrome.windows.create({ url: 'sidepanel.html', type: 'popup', width: 420, height: 900 }));
  const page = await opened;
  const errors = watchErrors(page);
  await page.setViewportSize(PANEL);
  // Beside a qTest test run page the panel reads the run, its case and its latest log.
  await page.waitForSelector('#defect-form:not([hidden]) .field');
  assert.match(await page.textContent('#source-status'), /1 file to attach/);
  assert.match(await fieldValue(page, 'Name'), /Checkout rejects an expired card/);
  assert.equal(await page.locator(`[data-preview=Description] a[href="${runUrl}"]`).count(), 1);
  await shot(page, 'qtest-form.png');

  await page.click('#submit');
  await page.waitForSelector('#result:not([hidden])');
  await page.waitForFunction(() => document.getElementById('defect-extra').textContent.includes('qTest'));
  const extra = await page.textContent('#defect-extra');
  assert.match(extra, /attached checkout\.png/);
  assert.match(extra, /linked back to qTest test run/);
  const formattedId = await page.textContent('#defect-link');
  const [defect] = (await ledger()).filter((e) => e.formatted_id === formattedId);
  assert.ok(defect, `${formattedId} is not in the simulator's ledger`);
  const found = await wsapi(`/defect?query=(FormattedID%20%3D%20${formattedId})&fetch=TestCase,Requirement,Attachments,Description`);
  const object = found.QueryResult.Results[0];
  assert.ok(rallyCase.endsWith(new URL(object.TestCase._ref).pathname.split('/v2.0')[1]), JSON.stringify(object.TestCase));
  assert.ok(story.endsWith(new URL(object.Requirement._ref).pathname.split('/v2.0')[1]), JSON.stringify(object.Requirement));
  assert.equal(object.Attachments.Count, 1);
  const comments = await failed.comments();
  assert.equal(comments.length, 1);
  assert.ok(comments[0].content.includes(`>${formattedId}</a>`), comments[0].content);
  await shot(page, 'qtest-submitted.png');
  assert.deepEqual(errors, []);
  await page.close();
  await runPage.close();
});

it('keeps form layout edits made through the core, and imports and exports the settings', async () => {
  await setUp({});
  const { page, errors } = await openPanel();
  await dropFile(page, 'checkout.xml', JUNIT);
  await pickFailed(page, /pays by card/);
  const order = () => page.locator('.field').evaluateAll((rows) => rows.map((r) => r.dataset.field));
  await page.click('button[aria-label="Move up Priority"]');
  await page.click('button[aria-label="Hide Environment"]');
  assert.match(await page.textContent('#message'), /^Form layout saved/);
  assert.deepEqual((await order()).slice(0, 3), ['Name', 'Priority', 'Severity']);
  assert.ok(!(await order()).includes('Environment'));
  await page.close();

  // A new panel shows the stored layout.
  const again = await openPanel();
  await dropFile(again.page, 'checkout.xml', JUNIT);
  await pickFailed(again.page, /pays by card/);
  const kept = await again.page.locator('.field').evaluateAll((rows) => rows.map((r) => r.dataset.field));
  assert.deepEqual(kept.slice(0, 3), ['Name', 'Priority', 'Severity']);
  assert.ok(!kept.includes('Environment'));
  await again.page.close();

  // Settings as JSON: the core refuses a broken file, a good one is used by the panel.
  const options = await context.newPage();
  await options.goto(`chrome-extension://${extensionId}/options.html`);
  const importFile = (name, settings) =>
    options.setInputFiles('#import', { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(settings)) });
  await importFile('broken.json', { hiden: ['Notes'] });
  await options.waitForFunction(() => document.getElementById('settings-status').textContent !== '');
  assert.match(await options.textContent('#settings-status'), /^broken\.json was not imported: .*hiden/);
  const mine = { hidden: ['Notes'], order: ['Severity', 'Name'], defaults: { Severity: 'Cosmetic', State: 'Open' } };
  await importFile('mine.json', mine);
  await options.waitForFunction(() => document.getElementById('settings-status').textContent.startsWith('Imported'));
  const [download] = await Promise.all([options.waitForEvent('download'), options.click('#export')]);
  assert.deepEqual(JSON.parse(readFileSync(await download.path(), 'utf8')), mine);

  const third = await openPanel();
  await dropFile(third.page, 'checkout.xml', JUNIT);
  await pickFailed(third.page, /pays by card/);
  const imported = await third.page.locator('.field').evaluateAll((rows) => rows.map((r) => r.dataset.field));
  assert.deepEqual(imported.slice(0, 2), ['Severity', 'Name']);
  assert.ok(!imported.includes('Notes'));
  assert.equal(await fieldValue(third.page, 'Severity'), 'Cosmetic');
  assert.equal(await fieldValue(third.page, 'State'), 'Open');
  await third.page.close();

  await options.click('#reset');
  await options.waitForFunction(() => document.getElementById('settings-status').textContent.startsWith('Back'));
  await options.close();
  assert.deepEqual([...errors, ...again.errors, ...third.errors], []);
});

it('files a defect from a failed test of a dropped allure-results folder, with the files it names', async () => {
  await setUp({});
  const { page, errors } = await openPanel();
  const files = allureResults();
  await dropFiles(page, files);
  await page.waitForSelector('#failed-tests li');
  assert.match(await page.textContent('#source-status'), /^allure-results \(3 results\): 2 failed tests\. Pick one:/);
  assert.deepEqual(await page.locator('#failed-tests button').allInnerTexts(), [
    'shop.checkout.PaymentTest › pays by card\nAssertionError: expected status 200 but was 502',
    'shop.checkout.PaymentTest › shows the receipt\nConnectionError: receipts service refused the connection',
  ]);
  await pickFailed(page, /pays by card/);
  assert.equal(await fieldValue(page, 'Name'), 'pays by card: AssertionError: expected status 200 but was 502');
  assert.match(await fieldValue(page, 'Description'), /expected status 200 but was 502/);
  // The screenshot and the failing step's log were dropped; the video was not.
  const png = '5d1c6a2e-7b0f-4c39-9f4e-1a2b3c4d5e61-attachment.png';
  const log = '8f3e2d1c-0b9a-4e87-a6c5-b4d3e2f1a0b9-attachment.txt';
  const video = 'c7b6a5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d-attachment.webm';
  assert.deepEqual(await page.locator('#attachments li').allInnerTexts(), [
    `To attach: ${png}, ${log}`,
    `Not attached: ${video} (not among the dropped files)`,
  ]);
  const dropped = files.filter((f) => /-attachment\./.test(f.name)).length;
  assert.equal(dropped, 2);
  await shot(page, 'allure-form.png');

  await page.click('#submit');
  await page.waitForSelector('#result:not([hidden])');
  await page.waitForFunction(() => document.getElementById('defect-extra').textContent !== '');
  const formattedId = await page.textContent('#defect-link');
  const extra = await page.textContent('#defect-extra');
  assert.ok(extra.includes(`attached ${png}, ${log}`), extra);
  assert.ok(extra.includes(`${video} not attached: not among the dropped files`), extra);
  const [defect] = (await ledger()).filter((e) => e.formatted_id === formattedId);
  assert.ok(defect, `${formattedId} is not in the simulator's ledger`);
  assert.equal(defect.fields.Name, 'pays by card: AssertionError: expected status 200 but was 502');
  const object = await defectOf(formattedId, 'Name,Attachments');
  assert.equal(object.Name, 'pays by card: AssertionError: expected status 200 but was 502');
  assert.equal(object.Attachments.Count, dropped);
  await shot(page, 'allure-submitted.png');

  // The broken test has no files: nothing to attach, nothing listed.
  await pickFailed(page, /shows the receipt/);
  assert.equal(await page.isHidden('#attachments'), true);

  // The same folder chosen with the "a folder" link instead of dropped.
  await page.evaluate(() => document.getElementById('failed-tests').replaceChildren());
  await page.setInputFiles('#report-folder', ALLURE_RESULTS);
  await page.waitForSelector('#failed-tests li');
  assert.match(await page.textContent('#source-status'), /^allure-results \(3 results\): 2 failed tests/);
  await pickFailed(page, /pays by card/);
  assert.equal(await page.locator('#attachments li').first().innerText(), `To attach: ${png}, ${log}`);

  // A result file the core cannot read is a warning, not the end of the report.
  await page.evaluate(() => document.getElementById('failed-tests').replaceChildren());
  await dropFiles(page, [...files, { name: 'f00d-result.json', bytes: Buffer.from('{"uuid": "f00d", "name": ') }]);
  await page.waitForSelector('#failed-tests li');
  assert.match(await page.textContent('#message'), /^allure-results \(4 results\): 1 warning while reading .*f00d-result\.json/);
  assert.equal(await page.locator('#failed-tests li').count(), 2);
  assert.deepEqual(errors, []);
  await page.close();
});

it('attaches the files a failed JUnit test names when they are chosen with the report', async () => {
  await setUp({});
  const { page, errors } = await openPanel();
  // The "choose files" input: the report, the screenshot it names and a file it does not name.
  await page.setInputFiles('#report-files', [
    { name: 'receipt.png', mimeType: 'image/png', buffer: PNG },
    { name: 'report.xml', mimeType: 'text/xml', buffer: Buffer.from(JUNIT_WITH_FILES) },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not named by the report') },
  ]);
  await page.waitForSelector('#defect-form:not([hidden]) .field');
  assert.match(await page.textContent('#source-status'), /^report\.xml: 1 failed test/);
  assert.deepEqual(await page.locator('#attachments li').allInnerTexts(), [
    'To attach: receipt.png',
    'Not attached: receipt.webm (not among the dropped files), <img src=x onerror=alert(1)>.png (not among the dropped files)',
  ]);
  assert.equal(await page.locator('#attachments img').count(), 0);
  await page.click('#submit');
  await page.waitForSelector('#result:not([hidden])');
  await page.waitForFunction(() => document.getElementById('defect-extra').textContent !== '');
  assert.match(await page.textContent('#defect-extra'), /attached receipt\.png; receipt\.webm not attached/);
  const formattedId = await page.textContent('#defect-link');
  const object = await defectOf(formattedId, 'Name,Attachments');
  assert.equal(object.Name, 'prints the receipt: receipt total 0.00, expected 12.50');
  assert.equal(object.Attachments.Count, 1);
  assert.deepEqual(errors, []);
  await page.close();
});

it('edits the auto-fill rules in the options form, with the core problems beside the row, and the panel uses them', async () => {
  await setUp({});
  const options = await context.newPage();
  const errors = watchErrors(options);
  await options.setViewportSize({ width: 760, height: 900 });
  await options.goto(`chrome-extension://${extensionId}/options.html`);
  await options.waitForSelector('body[data-ready=true]');
  // The built-in settings as rows: the Name rule first.
  assert.deepEqual(await options.locator('#rules .rule').evaluateAll((rows) => rows.map((r) => r.dataset.field)), ['Name', 'Description', 'FoundInBuild', 'Notes']);
  const nameTemplate = options.locator('.rule[data-field=Name] input.template');
  assert.equal(await nameTemplate.inputValue(), '{test_case.name}{test_log.message|first_line|prefix(": ")}');
  assert.equal(await options.inputValue('.default input[aria-label="Default 1 field"]'), 'State');

  // A template that does not close: the core's problem beside the rule, once the form is checked against Rally's.
  await nameTemplate.fill('[checkout] {test_case.name');
  await options.waitForFunction(() => document.getElementById('schema-status').textContent.startsWith('Checked against'));
  const ruleProblems = options.locator('.rule[data-field=Name] .problems li.error');
  await ruleProblems.first().waitFor();
  assert.match(await ruleProblems.first().textContent(), /^rule 0 \(Name\): /);
  assert.equal(await options.locator('.rule.has-error').count(), 1);
  // A default Rally does not allow, beside its row.
  await options.click('#add-default');
  await options.fill('[aria-label="Default 4 field"]', 'Environment');
  await options.fill('[aria-label="Default 4 value"]', 'Staging');
  await options.locator('.default[data-index="3"] .problems li').first().waitFor();
  assert.match(await options.locator('.default[data-index="3"] .problems').textContent(), /Staging/);
  await options.click('#save-settings');
  await options.waitForFunction(() => document.getElementById('form-status').textContent !== '');
  assert.match(await options.textContent('#form-status'), /^Not saved: 2 problems marked above/);
  await options.locator('#form-settings').screenshot({ path: join(SCREENSHOTS, 'options-rules.png') });

  // Fixed: no problem left, saved.
  await nameTemplate.fill('[checkout] {test_case.name}');
  await options.fill('[aria-label="Default 4 value"]', 'Test');
  await options.waitForFunction(() => document.querySelectorAll('#form-settings .problems li.error').length === 0);
  // The Notes rule goes.
  await options.click('[aria-label="Remove rule 4"]');
  await options.click('#save-settings');
  await options.waitForFunction(() => document.getElementById('form-status').textContent.startsWith('Saved'));

  // A value map for a drop-down: a target Rally does not allow is marked beside the map.
  await options.click('#add-rule');
  await options.fill('[aria-label="Rule 4 field"]', 'Priority');
  await options.fill('[aria-label="Rule 4 template"]', '{test_run.properties.severity}');
  await options.fill('[aria-label="Rule 4 value map"]', 'priorities');
  await options.click('#add-map');
  await options.fill('[aria-label="Value map 1 name"]', 'priorities');
  await options.fill('[aria-label="Value map 1 pair 1 source"]', 'critical');
  await options.fill('[aria-label="Value map 1 pair 1 target"]', 'Urgent');
  await options.locator('.map[data-index="0"] .problems li.error').first().waitFor();
  assert.match(await options.locator('.map[data-index="0"] .problems li.error').first().textContent(), /value map "priorities" maps "critical" to "Urgent"/);
  await options.fill('[aria-label="Value map 1 pair 1 target"]', 'High Attention');
  await options.waitForFunction(() => document.querySelectorAll('#form-settings .problems li.error').length === 0);
  // Rules are tried in order: the new one moves up.
  await options.click('[aria-label="Move rule 4 up"]');
  await options.click('#save-settings');
  await options.waitForFunction(() => document.getElementById('form-status').textContent.startsWith('Saved'));

  // Exported as JSON as they were saved.
  const [download] = await Promise.all([options.waitForEvent('download'), options.click('#export')]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.rules[0].template, '[checkout] {test_case.name}');
  assert.equal(exported.defaults.Environment, 'Test');
  assert.deepEqual(exported.rules.map((r) => r.field), ['Name', 'Description', 'Priority', 'FoundInBuild']);
  assert.deepEqual(exported.rules[2], { field: 'Priority', template: '{test_run.properties.severity}', map: 'priorities' });
  assert.deepEqual(exported.value_maps, [{ name: 'priorities', pairs: [{ source: 'critical', target: 'High Attention' }] }]);

  // The panel fills the form with them.
  const { page, errors: panelErrors } = await openPanel();
  await dropFile(page, 'checkout.xml', JUNIT);
  await pickFailed(page, /pays by card/);
  assert.equal(await fieldValue(page, 'Name'), '[checkout] pays by card');
  assert.equal(await fieldValue(page, 'Environment'), 'Test');
  assert.equal(await fieldValue(page, 'Notes'), '');
  // The JUnit test has no severity: the Priority rule gives nothing, the default stays.
  assert.equal(await fieldValue(page, 'Priority'), 'Normal');
  await page.close();

  await options.click('#reset');
  await options.waitForFunction(() => document.getElementById('settings-status').textContent.startsWith('Back'));
  assert.equal(await options.locator('#rules .rule').count(), 4);
  await options.close();
  assert.deepEqual([...errors, ...panelErrors], []);
});
