// Set-up: the Rally, GitLab and qTest connections (host access asked for exactly those hosts),
// a connection test through the core's `rally.connect` session, and the defect form
// settings (rules, defaults, value maps, layout) edited in a form whose every change the
// core checks against the user's Rally Defect form, or as JSON, checked before it is stored.
import init, { autofill, autofillCheckMappings, autofillForm, autofillRender } from './tmbridge/index.js';
import { describeFailure } from './lib/messages.js';
import { runSession } from './lib/session.js';
import {
  DEFAULT_SETTINGS,
  loadSetup,
  originPattern,
  placeProblems,
  rallyConfig,
  saveFormSettings,
  separatorText,
  separatorValue,
} from './lib/settings.js';

const FIELDS = ['rallyUrl', 'rallyWorkspace', 'rallyProject', 'rallyApiKey', 'gitlabUrl', 'gitlabToken', 'qtestUrl', 'qtestProject', 'qtestToken'];
const $ = (id) => document.getElementById(id);
const ready = init();

function say(id, text, ok) {
  $(id).textContent = text;
  $(id).className = `status ${ok ? 'ok' : 'error'}`;
}

function values() {
  return Object.fromEntries(FIELDS.map((f) => [f, $(f).value.trim()]));
}

/** The origins to ask for: only the user's own Rally, GitLab and qTest hosts; no plain HTTP off this machine. */
function origins(v) {
  const out = [];
  for (const url of [v.rallyUrl, v.gitlabUrl, v.qtestUrl]) {
    if (!url) continue;
    const u = new URL(url);
    const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
    if (u.protocol !== 'https:' && !loopback) throw new Error(`${u.host}: use https:// (your key would travel in clear text)`);
    out.push(originPattern(url));
  }
  return out;
}

$('connection').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const v = values();
    // Asked here, during the click: the browser shows its prompt for these hosts only.
    const granted = await chrome.permissions.request({ origins: origins(v) });
    if (!granted) {
      say('status', 'Not saved: the extension needs access to these hosts to send your defects.', false);
      return;
    }
    await chrome.storage.local.set(v);
    say('status', 'Saved. Open the side panel from the toolbar button.', true);
  } catch (e) {
    say('status', `Not saved: ${e.message}`, false);
  }
});

$('test').addEventListener('click', async () => {
  say('status', 'Testing…', true);
  try {
    await ready;
    const v = values();
    const report = await runSession('rally.connect', { config: rallyConfig(v) }, v.rallyApiKey);
    if (report.error) {
      const failure = describeFailure(report.error, 'be reached');
      say('status', `${failure.message}. ${failure.detail}${failure.technical ? `\n(${failure.technical})` : ''}`, false);
    } else {
      say('status', 'Rally answered: the key, workspace and project work.', true);
    }
  } catch (e) {
    say('status', e.message, false);
  }
});

// --- the defect form settings, as a form -------------------------------------------

const EMPTY_SCHEMA = { type_name: 'Defect', fields: [], warnings: [] };
/** What the form edits; the settings' other parts (added fields, reloaded values) are kept as they are. */
let ui = null;
/** The Defect form of the user's Rally, loaded when the settings are first edited. */
let schema = null;
let schemaLoad = null;
/** Each row's problem list, filled by check(). */
let slots = { rules: [], defaults: [], maps: [] };

const list = (text) => text.split(',').map((t) => t.trim()).filter(Boolean);

function fromSettings(settings) {
  const { rules = [], defaults = {}, value_maps: maps = [], order = [], hidden = [], ...rest } = settings;
  return {
    rules: rules.map((r) => ({
      field: r.field ?? '',
      mode: r.sources?.length && r.template == null ? 'sources' : 'template',
      template: r.template ?? '',
      sources: (r.sources ?? []).join('\n'),
      separator: separatorText(r.separator ?? ''),
      map: r.map ?? '',
    })),
    defaults: Object.entries(defaults).map(([field, value]) => ({ field, value })),
    maps: maps.map((m) => ({ name: m.name ?? '', pairs: (m.pairs ?? []).map((p) => ({ ...p })), source_values: m.source_values ?? [] })),
    order: order.join(', '),
    hidden: hidden.join(', '),
    rest,
  };
}

function toSettings(u) {
  const settings = { hidden: list(u.hidden), order: list(u.order) };
  settings.rules = u.rules.map((r) => {
    const rule = { field: r.field.trim() };
    if (r.mode === 'sources') {
      rule.sources = r.sources.split('\n').map((t) => t.trim()).filter(Boolean);
      if (r.separator !== '') rule.separator = separatorValue(r.separator);
    } else {
      rule.template = r.template;
    }
    if (r.map.trim()) rule.map = r.map.trim();
    return rule;
  });
  settings.defaults = Object.fromEntries(u.defaults.filter((d) => d.field.trim()).map((d) => [d.field.trim(), d.value]));
  if (u.maps.length) {
    settings.value_maps = u.maps.map((m) => ({
      name: m.name.trim(),
      pairs: m.pairs.filter((p) => p.source !== '' || p.target !== ''),
      ...(m.source_values.length ? { source_values: m.source_values } : {}),
    }));
  }
  return { ...settings, ...u.rest };
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** A text input bound to `obj[key]`: typing re-checks, nothing is rebuilt (focus stays). */
function bound(obj, key, label, props = {}) {
  const input = el('input', { type: 'text', value: obj[key], ...props });
  input.setAttribute('aria-label', label);
  input.addEventListener('input', () => {
    obj[key] = input.value;
    changed();
  });
  return input;
}

function button(text, label, onClick) {
  const b = el('button', { type: 'button', textContent: text });
  b.setAttribute('aria-label', label);
  b.addEventListener('click', () => {
    onClick();
    render();
  });
  return b;
}

function ruleRow(r, i) {
  const n = i + 1;
  const problems = el('ul', { className: 'problems' });
  const row = el('div', { className: 'row rule' });
  row.dataset.index = String(i);
  row.dataset.field = r.field;
  const field = bound(r, 'field', `Rule ${n} field`, { className: 'field', placeholder: 'Field (ElementName)' });
  field.setAttribute('list', 'field-names');
  field.addEventListener('input', () => {
    row.dataset.field = field.value;
  });
  const mode = el('select', { className: 'mode' }, new Option('template', 'template'), new Option('sources', 'sources'));
  mode.value = r.mode;
  mode.setAttribute('aria-label', `Rule ${n} fills from`);
  mode.addEventListener('change', () => {
    r.mode = mode.value;
    render();
  });
  const line = el(
    'div',
    { className: 'line' },
    field,
    mode,
    el('label', { textContent: 'map' }),
    bound(r, 'map', `Rule ${n} value map`, { className: 'map', size: 10 }),
    button('↑', `Move rule ${n} up`, () => i > 0 && ui.rules.splice(i - 1, 0, ...ui.rules.splice(i, 1))),
    button('Remove', `Remove rule ${n}`, () => ui.rules.splice(i, 1)),
  );
  row.append(line);
  if (r.mode === 'template') {
    row.append(el('div', { className: 'line' }, bound(r, 'template', `Rule ${n} template`, { className: 'template grow', placeholder: '{test_case.name}' })));
  } else {
    const sources = el('textarea', { className: 'sources', value: r.sources, placeholder: 'test_log.build_url|prefix("Build: ")' });
    sources.setAttribute('aria-label', `Rule ${n} sources, one per line`);
    sources.addEventListener('input', () => {
      r.sources = sources.value;
      changed();
    });
    row.append(sources, el('div', { className: 'line' }, el('label', { textContent: 'separator' }), bound(r, 'separator', `Rule ${n} separator`, { className: 'separator', size: 6, placeholder: '\\n' })));
  }
  row.append(problems);
  slots.rules.push(problems);
  return row;
}

function defaultRow(d, i) {
  const n = i + 1;
  const problems = el('ul', { className: 'problems' });
  const field = bound(d, 'field', `Default ${n} field`, { className: 'field', placeholder: 'Field' });
  field.setAttribute('list', 'field-names');
  const row = el(
    'div',
    { className: 'row default' },
    el('div', { className: 'line' }, field, bound(d, 'value', `Default ${n} value`, { className: 'value grow' }), button('Remove', `Remove default ${n}`, () => ui.defaults.splice(i, 1))),
    problems,
  );
  row.dataset.index = String(i);
  slots.defaults.push({ problems, d });
  return row;
}

function mapRow(m, i) {
  const n = i + 1;
  const problems = el('ul', { className: 'problems' });
  const row = el(
    'div',
    { className: 'row map' },
    el(
      'div',
      { className: 'line' },
      el('label', { textContent: 'name' }),
      bound(m, 'name', `Value map ${n} name`, { className: 'name grow' }),
      button('Add a pair', `Add a pair to value map ${n}`, () => m.pairs.push({ source: '', target: '' })),
      button('Remove', `Remove value map ${n}`, () => ui.maps.splice(i, 1)),
    ),
  );
  m.pairs.forEach((p, j) => {
    row.append(
      el(
        'div',
        { className: 'line pair' },
        bound(p, 'source', `Value map ${n} pair ${j + 1} source`, { placeholder: 'from the test' }),
        document.createTextNode('→'),
        bound(p, 'target', `Value map ${n} pair ${j + 1} target`, { placeholder: "Rally's value" }),
        button('Remove', `Remove pair ${j + 1} of value map ${n}`, () => m.pairs.splice(j, 1)),
      ),
    );
  });
  row.append(problems);
  row.dataset.index = String(i);
  slots.maps.push(problems);
  return row;
}

/** Builds the rows from `ui` (after a row is added, removed or moved), then checks. */
function render() {
  slots = { rules: [], defaults: [], maps: [] };
  $('rules').replaceChildren(...ui.rules.map(ruleRow));
  $('defaults').replaceChildren(...ui.defaults.map(defaultRow));
  $('value-maps').replaceChildren(...ui.maps.map(mapRow));
  $('order').value = ui.order;
  $('hidden').value = ui.hidden;
  check();
}

/** Each rule's template or sources through the core's template reader (no schema at hand). */
function templateProblems(settings) {
  const out = [];
  settings.rules.forEach((r, i) => {
    const texts = r.template != null ? [r.template] : (r.sources ?? []).map((t) => `{${t}}`);
    for (const text of texts) {
      try {
        autofillRender(text, {}, 'plain');
      } catch (e) {
        out.push({ code: e.code, field: r.field, severity: 'error', message: `rule ${i} (${r.field}): ${e.message}`, hint: e.hint ?? null });
        break;
      }
    }
  });
  return out;
}

const problemItem = (p) => el('li', { className: p.severity, textContent: p.hint ? `${p.message} (${p.hint})` : p.message });

/** The core's problems with the settings now, each beside its row; the number of errors. */
function check() {
  let settings;
  const general = $('settings-problems');
  try {
    settings = toSettings(ui);
    autofillForm(EMPTY_SCHEMA, settings);
  } catch (e) {
    general.replaceChildren(problemItem({ severity: 'error', message: e.message }));
    for (const ul of [...slots.rules, ...slots.maps, ...slots.defaults.map((s) => s.problems)]) ul.replaceChildren();
    return { errors: 1, settings };
  }
  let problems;
  if (schema) {
    try {
      problems = [...autofillForm(schema, settings).problems, ...autofill(schema, {}, settings).problems, ...autofillCheckMappings(schema, settings)];
    } catch (e) {
      problems = [{ severity: 'error', message: e.message }];
    }
  } else {
    problems = templateProblems(settings);
  }
  const placed = placeProblems(problems, settings);
  let errors = 0;
  const show = (ul, items) => {
    ul.replaceChildren(...items.map(problemItem));
    const bad = items.some((p) => p.severity === 'error');
    ul.parentElement?.classList.toggle('has-error', bad);
    errors += items.filter((p) => p.severity === 'error').length;
  };
  slots.rules.forEach((ul, i) => show(ul, placed.rules[i] ?? []));
  slots.maps.forEach((ul, i) => show(ul, placed.maps[i] ?? []));
  for (const { problems: ul, d } of slots.defaults) show(ul, placed.defaults[d.field.trim()] ?? []);
  show(general, placed.other);
  return { errors, settings };
}

let pendingCheck = null;
function changed() {
  $('form-status').textContent = '';
  loadSchema();
  if (pendingCheck) return;
  pendingCheck = requestAnimationFrame(() => {
    pendingCheck = null;
    check();
  });
}

/** The Defect form of the user's Rally (the core's `rally.schema` session), once. */
function loadSchema() {
  if (schemaLoad) return schemaLoad;
  schemaLoad = (async () => {
    await ready;
    await readSchema();
  })().catch((e) => say('schema-status', `Rally's Defect form could not be loaded (${e.message}): templates are checked, field names and values are not.`, false));
  return schemaLoad;
}

/** Loads the schema through the core's `rally.schema` session, with the stored connection. */
async function readSchema() {
  const setup = await loadSetup();
  if (!setup.rallyUrl || !setup.rallyApiKey || !setup.rallyWorkspace) {
    say('schema-status', 'Rally is not set up yet: templates are checked, field names and values are not.', false);
    $('schema-status').className = 'status note';
    return;
  }
  $('schema-status').textContent = "Loading your Rally's Defect form…";
  $('schema-status').className = 'status note';
  const report = await runSession('rally.schema', { config: rallyConfig(setup) }, setup.rallyApiKey);
  if (report.error) {
    const failure = describeFailure(report.error, 'load the Defect form');
    say('schema-status', `${failure.message}: templates are checked, field names and values are not.`, false);
    return;
  }
  schema = report.details.schema;
  $('field-names').replaceChildren(...schema.fields.filter((f) => !f.read_only).map((f) => new Option(f.label, f.name)));
  say('schema-status', `Checked against the Defect form of ${new URL(setup.rallyUrl).host}.`, true);
  check();
}

function showSettings(settings) {
  ui = fromSettings(settings);
  render();
}

$('add-rule').addEventListener('click', () => {
  ui.rules.push({ field: '', mode: 'template', template: '', sources: '', separator: '', map: '' });
  render();
  $('rules').lastElementChild.querySelector('input').focus();
});
$('add-default').addEventListener('click', () => {
  ui.defaults.push({ field: '', value: '' });
  render();
  $('defaults').lastElementChild.querySelector('input').focus();
});
$('add-map').addEventListener('click', () => {
  ui.maps.push({ name: '', pairs: [{ source: '', target: '' }], source_values: [] });
  render();
  $('value-maps').lastElementChild.querySelector('input').focus();
});
for (const id of ['order', 'hidden']) {
  $(id).addEventListener('input', () => {
    ui[id] = $(id).value;
    changed();
  });
}
$('form-settings').addEventListener('focusin', () => loadSchema());

$('form-settings').addEventListener('submit', async (event) => {
  event.preventDefault();
  await ready;
  await loadSchema();
  const { errors, settings } = check();
  if (errors > 0) {
    say('form-status', `Not saved: ${errors === 1 ? 'a problem' : `${errors} problems`} marked above.`, false);
    return;
  }
  await saveFormSettings(settings);
  say('form-status', 'Saved. The side panel fills the next test you pick with these settings.', true);
});

$('import').addEventListener('change', async () => {
  const [file] = $('import').files;
  if (!file) return;
  try {
    await ready;
    const settings = JSON.parse(await file.text());
    // The core refuses unknown keys and broken rules; check on an empty schema.
    autofillForm(EMPTY_SCHEMA, settings);
    await saveFormSettings(settings);
    showSettings(settings);
    say('settings-status', `Imported ${file.name}.`, true);
  } catch (e) {
    say('settings-status', `${file.name} was not imported: ${e.message}`, false);
  }
});

$('export').addEventListener('click', async () => {
  const { formSettings } = await loadSetup();
  const url = URL.createObjectURL(new Blob([JSON.stringify(formSettings, null, 2)], { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: 'tmbridge-defect-form.json' });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});

$('reset').addEventListener('click', async () => {
  await saveFormSettings(DEFAULT_SETTINGS);
  showSettings(structuredClone(DEFAULT_SETTINGS));
  say('settings-status', 'Back to the built-in settings.', true);
});

loadSetup().then(async (setup) => {
  for (const f of FIELDS) if (setup[f]) $(f).value = setup[f];
  await ready;
  showSettings(setup.formSettings);
  document.body.dataset.ready = 'true';
});
