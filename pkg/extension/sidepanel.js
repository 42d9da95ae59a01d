// The side panel: picks a failed test (a dropped JUnit report or allure-results folder,
// the GitLab pipeline page or the qTest test run page the user is on), renders the Rally defect form from the schema the core loaded
// through the `rally.schema` session, lets the core check every edit, and submits the
// defect through the `rally.defect` session. All HTTP goes through fetch here, with the
// user's key from extension storage; nothing runs in, or is read from, a web page.
import init, { autofill, autofillEditForm, autofillForm, autofillRunFromJunit, parseAllure, parseJunit } from './tmbridge/index.js';
import { allureFiles, baseName, contentType, matchAttachments, reportKind, toBase64 } from './lib/files.js';
import { failedTestsOfPage, gitlabPage, runFromGitlabTest } from './lib/gitlab.js';
import { htmlToText, safeFragment, withoutRunLink } from './lib/richtext.js';
import { runSession } from './lib/session.js';
import { loadSetup, rallyConfig, saveFormSettings, withEdits } from './lib/settings.js';
import { describeFailure } from './lib/messages.js';
import { qtestConfig, qtestFailure, qtestRunPage } from './lib/qtest.js';

const $ = (id) => document.getElementById(id);
const state = { setup: null, schema: null, schemaOf: null, run: null, qtest: null, files: null, edits: {}, output: null, form: null, busy: false, submitted: false };
const ready = init();

// --- messages -----------------------------------------------------------------------

function showMessage(title, detail = '', kind = 'error', technical = '') {
  const box = $('message');
  box.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = title;
  box.append(strong);
  if (detail) box.append(document.createTextNode(detail));
  if (technical) {
    const more = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'Details';
    more.append(summary, document.createTextNode(technical));
    box.append(more);
  }
  box.className = kind === 'error' ? '' : 'note';
  box.hidden = false;
}

function clearMessage() {
  $('message').hidden = true;
}

const sourceStatus = (text) => {
  $('source-status').textContent = text;
};

// --- the schema ---------------------------------------------------------------------

/** The Defect form of the connection set up now (loaded again when the set-up changes). */
async function loadSchema() {
  const setup = state.setup;
  const connection = JSON.stringify(rallyConfig(setup));
  if (state.schema && state.schemaOf === connection) return state.schema;
  if (!setup.rallyUrl || !setup.rallyApiKey || !setup.rallyWorkspace) {
    throw Object.assign(new Error('Rally is not set up yet'), {
      detail: 'Open the set-up page and enter the Rally URL, workspace, project and your API key.',
    });
  }
  const listed = $('source-status').textContent;
  sourceStatus('Loading the Defect form from Rally…');
  const report = await runSession('rally.schema', { config: rallyConfig(setup) }, setup.rallyApiKey).finally(() =>
    sourceStatus(listed),
  );
  if (report.error) throw describeFailure(report.error, 'load the Defect form');
  state.schema = report.details.schema;
  state.schemaOf = connection;
  return state.schema;
}

// --- where the failed run comes from ------------------------------------------------

/** Lists failed tests as buttons; `pick(item)` gives the auto-fill run of one. */
function listFailed(items, describe, pick) {
  const list = $('failed-tests');
  list.replaceChildren();
  items.forEach((item, i) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('aria-pressed', 'false');
    const { title, why } = describe(item);
    button.append(document.createTextNode(title));
    if (why) {
      const small = document.createElement('span');
      small.className = 'why';
      small.textContent = why;
      button.append(small);
    }
    button.addEventListener('click', () => {
      for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
      chooseRun(() => pick(item));
    });
    li.append(button);
    list.append(li);
    if (i === 0 && items.length === 1) queueMicrotask(() => button.click());
  });
}

/** The failed (and broken) tests of a report, depth first. */
function failedCases(report) {
  const failed = [];
  const walk = (suite) => {
    for (const c of suite.cases) if (c.status === 'failed' || c.status === 'error') failed.push(c);
    for (const s of suite.suites) walk(s);
  };
  report.suites.forEach(walk);
  return failed;
}

/**
 * Dropped or chosen files: a JUnit report (the first .xml file the core reads as one) or
 * the files of an allure-results folder, with the files their failed tests attach.
 */
async function fromFiles(files) {
  clearMessage();
  await ready;
  const kind = reportKind(files);
  if (!kind) {
    const names = files.map((f) => baseName(f.name)).slice(0, 3).join(', ');
    showMessage('No test report among the dropped files', ` Drop a JUnit XML report or the files of an allure-results folder (its *-result.json files and their attachments)${names ? `; got ${names}` : ''}.`);
    return;
  }
  let report;
  let source;
  if (kind === 'allure') {
    const read = await Promise.all(allureFiles(files).map(async (f) => ({ name: baseName(f.name), data: new Uint8Array(await f.arrayBuffer()) })));
    try {
      report = parseAllure(read);
    } catch (e) {
      showMessage('These allure results cannot be read', ` ${e.message}`);
      return;
    }
    source = `allure-results (${read.filter((f) => f.name.endsWith('-result.json')).length} results)`;
  } else {
    const xml = files.filter((f) => /\.xml$/i.test(f.name));
    let firstError;
    for (const file of xml) {
      try {
        report = parseJunit(new Uint8Array(await file.arrayBuffer()));
        source = baseName(file.name);
        break;
      } catch (e) {
        firstError ??= `${baseName(file.name)}: ${e.message}`;
      }
    }
    if (!report) {
      showMessage(`${baseName(xml[0].name)} is not a JUnit report we can read`, ` ${firstError}`);
      return;
    }
  }
  const failed = failedCases(report);
  // What the core could not read (a broken result file, a duplicate): said, never fatal.
  const warnings = report.warnings ?? [];
  if (warnings.length) {
    showMessage(`${source}: ${warnings.length} warning${warnings.length === 1 ? '' : 's'} while reading`, ` ${warnings.slice(0, 3).map((w) => w.message).join(' ')}`, 'note');
  }
  if (failed.length === 0) {
    listFailed([], () => ({}), () => null);
    sourceStatus(`${source}: no failed test (${report.counts.tests ?? report.counts.total ?? 0} tests).`);
    return;
  }
  sourceStatus(`${source}: ${failed.length} failed test${failed.length === 1 ? '' : 's'}. Pick one:`);
  listFailed(
    failed,
    (c) => ({ title: c.classname ? `${c.classname} › ${c.name}` : c.name, why: (c.message ?? '').split('\n', 1)[0] }),
    (c) => {
      state.files = matchAttachments(c.attachments, files);
      return autofillRunFromJunit(c);
    },
  );
}

/** What will be attached to the defect, and what cannot be (its file was not dropped). */
function showFiles() {
  const box = $('attachments');
  const f = state.files;
  if (!f || (f.found.length === 0 && f.missing.length === 0)) {
    box.hidden = true;
    return;
  }
  const line = (label, items) => {
    const li = document.createElement('li');
    const strong = document.createElement('strong');
    strong.textContent = label;
    li.append(strong, document.createTextNode(items.join(', ')));
    return li;
  };
  const rows = [];
  if (f.found.length) rows.push(line('To attach: ', f.found.map((a) => a.name)));
  if (f.missing.length) rows.push(line('Not attached: ', f.missing.map((a) => `${a.name} (${a.why})`)));
  box.replaceChildren(...rows);
  box.hidden = false;
}

/** The tab the panel sits beside: the active tab of a normal window, not an extension page. */
async function pageTab() {
  const tabs = await chrome.tabs.query({ active: true });
  const pages = tabs.filter((t) => t.url && !t.url.startsWith(chrome.runtime.getURL('')));
  const [current] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
  return pages.find((t) => t.id === current?.id) ?? pages[0] ?? null;
}

async function fromGitlabPage() {
  clearMessage();
  const { gitlabUrl, gitlabToken } = state.setup;
  if (!gitlabUrl) {
    showMessage('GitLab is not set up yet', ' Add your GitLab URL and an access token on the set-up page.');
    return;
  }
  const tab = await pageTab();
  const page = gitlabPage(tab?.url, gitlabUrl);
  if (!page) {
    showMessage('This page is not a GitLab pipeline or job', ` Open a pipeline (…/-/pipelines/123) or job page of ${new URL(gitlabUrl).host}, then try again.`);
    return;
  }
  sourceStatus(`Reading the test report of ${page.project}…`);
  try {
    const { pipeline, failed } = await failedTestsOfPage(page, gitlabUrl, gitlabToken);
    if (failed.length === 0) {
      listFailed([], () => ({}), () => null);
      sourceStatus(`Pipeline #${pipeline.id}: no failed test in its test report.`);
      return;
    }
    sourceStatus(`Pipeline #${pipeline.id} (${pipeline.ref}): ${failed.length} failed test${failed.length === 1 ? '' : 's'}. Pick one:`);
    listFailed(
      failed,
      (t) => ({ title: `${t.suite} › ${t.classname ? `${t.classname}.` : ''}${t.name}`, why: (t.system_output ?? '').split('\n', 1)[0] }),
      (t) => runFromGitlabTest(t, pipeline),
    );
  } catch (e) {
    sourceStatus('');
    showMessage('The pipeline could not be read', ` ${e.message}`);
  }
}

/** The qTest test run page the user is on: the run, its case and latest log, through the core. */
async function fromQtestPage() {
  clearMessage();
  const { qtestUrl, qtestToken } = state.setup;
  if (!qtestUrl || !qtestToken) {
    showMessage('qTest is not set up yet', ' Add your qTest URL, project and API token on the set-up page.');
    return;
  }
  const tab = await pageTab();
  const page = qtestRunPage(tab?.url, qtestUrl);
  if (!page) {
    showMessage('This page is not a qTest test run', ` Open a test run in the Test Execution tab of ${new URL(qtestUrl).host}, then try again.`);
    return;
  }
  sourceStatus(`Reading test run ${page.testRun} from qTest…`);
  await ready;
  const input = { config: qtestConfig(state.setup, page.project), request: { test_run: page.testRun } };
  const report = await runSession('qtest.failed_run', input, qtestToken);
  if (report.error) {
    sourceStatus('');
    showMessage('The qTest test run could not be read', ` ${qtestFailure(report.error)}`);
    return;
  }
  const found = report.details;
  const run = found.run.test_run;
  const files = found.attachments.length;
  sourceStatus(`qTest ${run.pid ?? run.id}: latest execution ${run.status ?? 'failed'}, ${files} file${files === 1 ? '' : 's'} to attach.`);
  listFailed(
    [found],
    (f) => ({ title: `${f.run.test_run.pid ?? ''} ${f.run.test_case.name ?? f.run.test_run.name ?? ''}`.trim(), why: f.attachments.map((a) => a.name).join(', ') }),
    (f) => {
      state.qtest = { ...f, project: page.project };
      return f.run;
    },
  );
}

async function chooseRun(makeRun) {
  clearMessage();
  $('result').hidden = true;
  try {
    await ready;
    state.qtest = null;
    state.files = null;
    state.run = makeRun();
    showFiles();
    state.edits = {};
    await loadSchema();
    buildForm();
  } catch (e) {
    showMessage(e.message, e.detail ? ` ${e.detail}` : '', 'error', e.technical);
  }
}

// --- the form -----------------------------------------------------------------------

const dropDowns = () => new Set(state.schema.fields.filter((f) => f.allowed_values.length > 0).map((f) => f.name));
const settingsNow = () => withEdits(state.setup.formSettings, state.edits, dropDowns());

function compute() {
  const settings = settingsNow();
  state.form = autofillForm(state.schema, settings);
  state.output = autofill(state.schema, state.run, settings);
}

const isRichText = (field) => field.kind === 'text';

function controlFor(field, filled) {
  const id = `field-${field.name}`;
  let control;
  if (field.allowed_values.length > 0) {
    control = document.createElement('select');
    const none = new Option('—', '');
    control.append(none);
    for (const v of field.allowed_values) control.append(new Option(v.value, v.value));
    control.value = filled?.value ?? '';
  } else if (isRichText(field)) {
    control = document.createElement('textarea');
    control.value = htmlToText(withoutRunLink(filled?.value ?? ''));
  } else {
    control = document.createElement('input');
    control.type = 'text';
    control.value = filled?.value ?? '';
  }
  control.id = id;
  control.name = field.name;
  if (field.required) control.setAttribute('aria-required', 'true');
  control.setAttribute('aria-describedby', `${id}-problems`);
  const onEdit = () => {
    state.edits[field.name] = control.value;
    refresh();
  };
  control.addEventListener(control.tagName === 'SELECT' ? 'change' : 'input', onEdit);
  return control;
}

function layoutButton(label, title, field, op) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'icon';
  b.textContent = label;
  b.title = `${title} ${field.label}`;
  b.setAttribute('aria-label', b.title);
  b.addEventListener('click', () => editLayout({ op, field: field.name }));
  return b;
}

function allowSubmit() {
  if (!state.submitted) return;
  state.submitted = false;
  $('submit').disabled = false;
  $('submit').textContent = 'Submit to Rally';
}

/** Builds the controls: once per run and per layout; typing only refreshes problems. */
function buildForm() {
  allowSubmit();
  compute();
  const box = $('fields');
  box.replaceChildren();
  const filledByName = new Map(state.output.fields.map((f) => [f.field, f]));
  for (const field of state.form.fields) {
    if (field.hidden || field.read_only) continue;
    const filled = filledByName.get(field.name);
    const row = document.createElement('div');
    row.className = 'field';
    row.dataset.field = field.name;
    const head = document.createElement('div');
    head.className = 'head';
    const label = document.createElement('label');
    label.htmlFor = `field-${field.name}`;
    label.textContent = field.label;
    if (field.required) {
      const mark = document.createElement('span');
      mark.className = 'required';
      mark.textContent = '*';
      mark.title = 'required';
      label.append(mark);
    }
    head.append(
      label,
      layoutButton('↑', 'Move up', field, 'move_up'),
      layoutButton('↓', 'Move down', field, 'move_down'),
      layoutButton('Hide', 'Hide', field, 'hide'),
    );
    row.append(head, controlFor(field, filled));
    if (isRichText(field)) {
      const preview = document.createElement('div');
      preview.className = 'preview';
      preview.dataset.preview = field.name;
      row.append(preview);
    }
    const problems = document.createElement('ul');
    problems.className = 'problems';
    problems.id = `field-${field.name}-problems`;
    row.append(problems);
    box.append(row);
  }
  $('defect-form').hidden = false;
  showProblems();
}

function problemItem(p) {
  const li = document.createElement('li');
  li.className = p.severity;
  li.textContent = p.hint ? `${p.message} (${p.hint})` : p.message;
  return li;
}

/** Every problem beside its field; the rest above the form. Rich text previews too. */
function showProblems() {
  const all = [...state.form.problems, ...state.output.problems];
  const shown = new Set();
  for (const row of $('fields').children) {
    const name = row.dataset.field;
    const mine = all.filter((p) => p.field === name);
    mine.forEach((p) => shown.add(p));
    row.querySelector('.problems').replaceChildren(...mine.map(problemItem));
    row.classList.toggle('has-error', mine.some((p) => p.severity === 'error'));
    const preview = row.querySelector('.preview');
    if (preview) {
      const filled = state.output.fields.find((f) => f.field === name);
      preview.replaceChildren(safeFragment(filled?.value ?? ''));
    }
  }
  $('form-problems').replaceChildren(...all.filter((p) => !shown.has(p)).map(problemItem));
}

let pending = null;
/** The core checks the form again after each keystroke (batched per animation frame). */
function refresh() {
  allowSubmit();
  if (pending) return;
  pending = requestAnimationFrame(() => {
    pending = null;
    compute();
    showProblems();
  });
}

async function editLayout(edit) {
  try {
    const { settings, note } = autofillEditForm(state.schema, state.setup.formSettings, edit);
    state.setup.formSettings = settings;
    await saveFormSettings(settings);
    buildForm();
    showMessage('Form layout saved', note ? ` ${note}` : '', 'note');
  } catch (e) {
    showMessage('The form layout could not be changed', ` ${e.message}`);
  }
}

// --- submit -------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  if (state.busy) return;
  clearMessage();
  $('result').hidden = true;
  compute();
  showProblems();
  const errors = [...state.form.problems, ...state.output.problems].filter((p) => p.severity === 'error');
  if (!state.output.ready || errors.length > 0) {
    const fields = [...new Set(errors.map((p) => p.field).filter(Boolean))];
    const labels = fields.map((f) => state.schema.fields.find((s) => s.name === f)?.label ?? f);
    showMessage(
      'Nothing was sent: the form is not complete',
      labels.length ? ` Fix ${labels.join(', ')} (see the message beside each field).` : ` ${errors.map((p) => p.message).join(' ')}`,
    );
    document.querySelector('.field.has-error select, .field.has-error input, .field.has-error textarea')?.focus();
    return;
  }
  state.busy = true;
  $('submit').disabled = true;
  $('submit').textContent = 'Submitting…';
  try {
    const q = state.qtest;
    // From qTest: the Rally test case made from the qTest case, its story, the log's files.
    // From a dropped report: the dropped files its failed test names.
    const request = q
      ? { payload: state.output.payload, test_case_link: q.test_case_url, attachments: q.attachments }
      : { payload: state.output.payload, attachments: await droppedAttachments() };
    const report = await runSession('rally.defect', { config: rallyConfig(state.setup), request }, state.setup.rallyApiKey);
    if (report.error) {
      const failure = describeFailure(report.error, 'create the defect');
      showMessage(failure.message, ` ${failure.detail}`, 'error', failure.technical);
      return;
    }
    const { formatted_id: id, ref, name } = report.details;
    const link = $('defect-link');
    link.textContent = id ?? ref;
    link.href = defectUrl(state.setup.rallyUrl, ref);
    $('defect-name').textContent = name ? `: ${name}` : '';
    $('defect-extra').textContent = '';
    $('result').hidden = false;
    state.submitted = true;
    if (q) await linkBack(q, report, link.href);
    else $('defect-extra').textContent = fileNotes(report).length ? ` (${fileNotes(report).join('; ')})` : '';
  } finally {
    state.busy = false;
    // Filed once: a second click would file a second defect. An edit or another test enables it again.
    $('submit').disabled = state.submitted;
    $('submit').textContent = state.submitted ? 'Submitted' : 'Submit to Rally';
  }
}

/** The dropped files the picked test names, as the defect session takes them. */
async function droppedAttachments() {
  const found = state.files?.found ?? [];
  return Promise.all(
    found.map(async ({ name, file }) => ({
      name,
      content_type: contentType(name, file.type),
      content_base64: toBase64(new Uint8Array(await file.arrayBuffer())),
    })),
  );
}

/** What became of the files: attached, refused by Rally (the core says why), not dropped. */
function fileNotes(report) {
  const notes = [];
  const attached = report.details.attachments ?? [];
  if (attached.length) notes.push(`attached ${attached.join(', ')}`);
  for (const f of report.failed.filter((e) => e.kind === 'attachment')) notes.push(`${f.key}: ${f.why}`);
  for (const m of state.files?.missing ?? []) notes.push(`${m.name} not attached: ${m.why}`);
  return notes;
}

/** Links the defect back to the qTest run (a comment on it) and says what was linked. */
async function linkBack(q, report, url) {
  const filed = report.details;
  const notes = fileNotes(report);
  notes.push(filed.test_case ? 'linked to its Rally test case and story' : 'no Rally test case holds the qTest case: filed without one');
  const input = {
    config: qtestConfig(state.setup, q.project),
    request: { test_run: q.test_run_id, test_log: q.test_log_id, defect: { formatted_id: filed.formatted_id, url, name: filed.name } },
  };
  const linked = await runSession('qtest.link_defect', input, state.setup.qtestToken);
  notes.push(linked.error ? `not linked back to qTest: ${qtestFailure(linked.error)}` : `linked back to qTest test run ${q.run.test_run.pid ?? q.test_run_id}`);
  $('defect-extra').textContent = ` (${notes.join('; ')})`;
}

/** Rally's detail page of a defect: `<origin>/#/detail/defect/<ObjectID>`. */
function defectUrl(rallyUrl, ref) {
  const oid = String(ref ?? '').split('/').pop();
  return `${new URL(rallyUrl).origin}/#/detail/defect/${encodeURIComponent(oid)}`;
}

// --- wiring -------------------------------------------------------------------------

/** The files of a drop, folders walked (entries are taken while the drop event lasts). */
function droppedFiles(dataTransfer) {
  const files = [...dataTransfer.files];
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.some((e) => e.isDirectory)) return Promise.resolve(files);
  const out = [];
  const walk = async (entry) => {
    if (entry.isFile) out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  return entries.reduce((done, e) => done.then(() => walk(e)), Promise.resolve()).then(() => out);
}

function wireDrop() {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    droppedFiles(e.dataTransfer).then((files) => files.length && fromFiles(files), (err) => showMessage('The dropped files cannot be read', ` ${err.message}`));
  });
  for (const id of ['report-files', 'report-folder']) {
    $(id).addEventListener('change', (e) => {
      const files = [...e.target.files];
      if (files.length) fromFiles(files);
    });
  }
}

async function main() {
  state.setup = await loadSetup();
  wireDrop();
  $('from-page').addEventListener('click', fromGitlabPage);
  $('from-qtest').addEventListener('click', fromQtestPage);
  $('open-options').addEventListener('click', () => chrome.runtime.openOptionsPage());
  $('defect-form').addEventListener('submit', submit);
  $('reset-layout').addEventListener('click', () => editLayout({ op: 'reset' }));
  chrome.storage.onChanged.addListener(async () => {
    state.setup = await loadSetup();
  });
  if (!state.setup.rallyUrl) showMessage('Rally is not set up yet', ' Open the set-up page to connect Rally and GitLab.', 'note');
  document.body.dataset.ready = 'true';
  // Opened beside a GitLab pipeline or job page, or a qTest test run: its failed tests come up at once.
  const tab = state.setup.gitlabUrl || state.setup.qtestUrl ? await pageTab() : null;
  if (gitlabPage(tab?.url, state.setup.gitlabUrl)) await fromGitlabPage();
  else if (qtestRunPage(tab?.url, state.setup.qtestUrl)) await fromQtestPage();
}

main();
