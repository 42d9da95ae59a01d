// What the user set up (chrome.storage.local) and the auto-fill settings the panel
// starts from. Secrets (the Rally API key, the GitLab and qTest tokens) live only here, in the
// extension's storage: never in a page, never in a request other than to their host.

/** Auto-fill settings for runs from JUnit reports, GitLab test reports and qTest runs (their failing step). */
export const DEFAULT_SETTINGS = {
  // Set by the connection (Workspace, Project) or references a tester does not type.
  hidden: ['Workspace', 'Project', 'Owner', 'SubmittedBy', 'TestCase', 'TestCaseResult', 'Requirement', 'Iteration', 'Release'],
  order: ['Name', 'Severity', 'Priority', 'State', 'Environment', 'FoundInBuild', 'Description', 'Notes'],
  rules: [
    { field: 'Name', template: '{test_case.name}{test_log.message|first_line|prefix(": ")}' },
    {
      field: 'Description',
      template:
        '{test_run.name} failed in {test_run.build|default("a local run")}.{test_log.message|prefix("\\n\\n")}{test_log.details|prefix("\\n\\n")}' +
        '{failing_step.order|prefix("\\n\\nFailed at step ")}{failing_step.description|prefix(": ")}{failing_step.expected|prefix("\\nExpected: ")}{failing_step.actual|prefix("\\nActual: ")}',
    },
    { field: 'FoundInBuild', template: '{test_run.build}' },
    { field: 'Notes', sources: ['test_log.build_url|prefix("Build: ")', 'test_run.properties.file|prefix("Test file: ")'], separator: '\n' },
  ],
  defaults: { State: 'Submitted', Severity: 'Minor Problem', Priority: 'Normal' },
};

const KEYS = ['rallyUrl', 'rallyWorkspace', 'rallyProject', 'rallyApiKey', 'gitlabUrl', 'gitlabToken', 'qtestUrl', 'qtestProject', 'qtestToken', 'formSettings'];

/** Everything stored, with the form settings parsed (the defaults when none are stored). */
export async function loadSetup() {
  const stored = await chrome.storage.local.get(KEYS);
  return {
    ...stored,
    formSettings: stored.formSettings ? JSON.parse(stored.formSettings) : structuredClone(DEFAULT_SETTINGS),
  };
}

export async function saveFormSettings(settings) {
  await chrome.storage.local.set({ formSettings: JSON.stringify(settings) });
}

/** The `rally` section of the core's config, from what the user set up. */
export function rallyConfig(setup) {
  return { rally: { url: setup.rallyUrl, workspace: setup.rallyWorkspace, project: setup.rallyProject } };
}

/** The origin pattern a host permission is asked for: `https://rally1.rallydev.com/*`. */
export function originPattern(url) {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}/*`;
}

/** A literal template: braces doubled so the core copies the text as written. */
export function literalTemplate(text) {
  return text.replaceAll('{', '{{').replaceAll('}', '}}');
}

/**
 * The settings with the user's typed values in charge, so that the core checks a typed
 * value as it checks a filled one. An edited text field gets one rule with its text; an
 * edited drop-down (`dropDowns` names them) gets its choice as the default, since the
 * core fills drop-downs only from defaults and value maps. The field's other rules go;
 * an emptied field has no rule and no default.
 */
export function withEdits(settings, edits, dropDowns = new Set()) {
  const fields = Object.keys(edits);
  if (fields.length === 0) return settings;
  const rules = (settings.rules ?? []).filter((r) => !fields.includes(r.field));
  const defaults = { ...(settings.defaults ?? {}) };
  const typed = [];
  for (const [field, text] of Object.entries(edits)) {
    delete defaults[field];
    if (text.trim() === '') continue;
    if (dropDowns.has(field)) defaults[field] = text;
    else typed.push({ field, template: literalTemplate(text) });
  }
  return { ...settings, rules: [...typed, ...rules], defaults };
}

/** Problems that depend on the failed test filled in, not on the settings. */
const ABOUT_THE_RUN = new Set([
  'autofill.required_empty',
  'autofill.value_too_long',
  'autofill.truncated',
  'autofill.no_run_link',
  'autofill.control_character',
  'autofill.unmapped_value',
  'autofill.mapped_loosely',
]);

/** Whether a problem's message is about the value map `name` (the core quotes it). */
const names = (problem, name) =>
  Boolean(name) && (problem.message.includes(`value map ${JSON.stringify(name)}`) || problem.message.includes(`value map ${name} `));

/**
 * The core's problems with the settings, each beside the row it is about: a rule by the
 * index the core names (`rule 2 (Notes): ...`), a value map by its name, a default by
 * its field; the rest stay with the whole form. Problems about the run are left out.
 */
export function placeProblems(problems, settings) {
  const rules = (settings.rules ?? []).map(() => []);
  const maps = (settings.value_maps ?? []).map(() => []);
  const defaults = {};
  const other = [];
  const seen = new Set();
  for (const p of problems) {
    const key = `${p.code}\u0000${p.field}\u0000${p.message}`;
    if (ABOUT_THE_RUN.has(p.code) || seen.has(key)) continue;
    seen.add(key);
    const rule = /^rule (\d+) \(/.exec(p.message);
    const map = (settings.value_maps ?? []).findIndex((m) => names(p, m.name));
    if (rule && rules[Number(rule[1])]) rules[Number(rule[1])].push(p);
    else if (p.code === 'autofill.unknown_map') {
      const at = (settings.rules ?? []).findIndex((r) => r.field === p.field && names(p, r.map));
      (at >= 0 ? rules[at] : other).push(p);
    } else if (map >= 0) maps[map].push(p);
    else if (p.field && Object.hasOwn(settings.defaults ?? {}, p.field)) (defaults[p.field] ??= []).push(p);
    else other.push(p);
  }
  return { rules, maps, defaults, other };
}

/** A separator as typed in one line (`\n` for a line break, `\t` for a tab, `\\` for a backslash). */
export function separatorText(separator) {
  return (separator ?? '').replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\t', '\\t');
}

export function separatorValue(text) {
  return text.replace(/\\([\\nt])/g, (_, c) => ({ n: '\n', t: '\t', '\\': '\\' })[c]);
}
