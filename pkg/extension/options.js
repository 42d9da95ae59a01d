// Set-up: the Rally, GitLab and qTest connections (host access asked for exactly those hosts),
// a connection test through the core's `rally.connect` session, and the defect form
// settings as JSON, checked by the core before they are stored.
import init, { autofillForm } from './tmbridge/index.js';
import { describeFailure } from './lib/messages.js';
import { runSession } from './lib/session.js';
import { DEFAULT_SETTINGS, loadSetup, originPattern, rallyConfig, saveFormSettings } from './lib/settings.js';

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

$('import').addEventListener('change', async () => {
  const [file] = $('import').files;
  if (!file) return;
  try {
    await ready;
    const settings = JSON.parse(await file.text());
    // The core refuses unknown keys and broken rules; check on an empty schema.
    autofillForm({ type_name: 'Defect', fields: [], warnings: [] }, settings);
    await saveFormSettings(settings);
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
  say('settings-status', 'Back to the built-in settings.', true);
});

loadSetup().then((setup) => {
  for (const f of FIELDS) if (setup[f]) $(f).value = setup[f];
});
