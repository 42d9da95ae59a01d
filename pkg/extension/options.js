// Stores the failed run (a JUnit report or a run JSON) and the settings, after checking
// them with tmbridge so mistakes show here rather than on the Rally page.
import init, { autofillForm, parseJunit } from './tmbridge/index.js';

const status = document.getElementById('status');
const file = (id) => document.getElementById(id).files[0];
const say = (text, isError = false) => {
  status.textContent = text;
  status.style.color = isError ? '#b00020' : '#1d6b3a';
};

document.getElementById('save').addEventListener('click', async () => {
  try {
    await init();
    const values = {};
    if (file('report')) {
      values.report = await file('report').text();
      values.run = null;
      const report = parseJunit(new TextEncoder().encode(values.report));
      if (report.counts.failed + report.counts.errors === 0) throw new Error('this report has no failed test');
    } else if (file('run')) {
      values.run = await file('run').text();
      values.report = null;
      JSON.parse(values.run);
    }
    if (file('settings')) {
      values.settings = await file('settings').text();
      // A settings file with unknown keys is refused by the core: check it on an empty schema.
      autofillForm({ type_name: 'Defect', fields: [], warnings: [] }, JSON.parse(values.settings));
    }
    await chrome.storage.local.set(values);
    say('Saved');
  } catch (e) {
    say(e.message, true);
  }
});

document.getElementById('clear').addEventListener('click', async () => {
  await chrome.storage.local.clear();
  say('Cleared');
});
