// The extension's service worker: runs tmbridge (WebAssembly) on what the content
// script sends, and starts a fill when the toolbar button is pressed.
import init, { autofill, autofillRunFromJunit, autofillSchema, parseJunit, TmbridgeError } from './tmbridge/index.js';

// No top-level await in service workers: start loading now, wait where it is used.
const ready = init();

/** The run to fill from: the stored run JSON, or the first failed case of the stored report. */
function failedRun(stored) {
  if (stored.run) return JSON.parse(stored.run);
  if (!stored.report) throw new Error('no failed test run yet: open the extension options and load a JUnit report or a run');
  const report = parseJunit(new TextEncoder().encode(stored.report));
  const cases = [];
  const walk = (suite) => {
    cases.push(...suite.cases);
    suite.suites.forEach(walk);
  };
  report.suites.forEach(walk);
  const failed = cases.find((c) => c.status === 'failed' || c.status === 'error');
  if (!failed) throw new Error('the stored report has no failed test');
  return autofillRunFromJunit(failed);
}

/** Schema from Rally's metadata, the run and the settings → the filled form. */
async function computeFill(metadata) {
  await ready;
  const stored = await chrome.storage.local.get(['run', 'report', 'settings']);
  const settings = stored.settings ? JSON.parse(stored.settings) : {};
  const schema = autofillSchema(metadata);
  return autofill(schema, failedRun(stored), settings);
}

function describeError(e) {
  if (e instanceof TmbridgeError) {
    return { code: e.code, message: e.message, line: e.line, column: e.column };
  }
  return { code: 'extension.error', message: String(e && e.message ? e.message : e), line: null, column: null };
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.type !== 'tmbridge.autofill') return false;
  computeFill(message.metadata).then(
    (output) => sendResponse({ output }),
    (e) => sendResponse({ error: describeError(e) }),
  );
  return true; // the answer comes asynchronously
});

/** Asks the page's content script to fill its form; resolves to its summary. */
export async function fillTab(tabId) {
  return chrome.tabs.sendMessage(tabId, { type: 'tmbridge.fill' });
}

/** What the toolbar button does, callable from tests and other extension pages. */
export async function fillActiveTab() {
  const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
  if (!tab) throw new Error('no active tab');
  return fillTab(tab.id);
}

chrome.action.onClicked.addListener((tab) => {
  fillTab(tab.id).catch((e) => console.warn('tmbridge: could not fill this page:', e));
});

self.tmbridge = { fillTab, fillActiveTab, computeFill };
