// Files the user dropped on the panel (or chose): which report they hold (a JUnit XML
// report or the files of an allure-results folder), and which of them are the
// attachments a failed test names. The extension reads only what was dropped: an
// attachment whose file is not among them is listed as not attached, never looked for.

/** The last part of a path as a report writes it (`/ci/out/shot.png`, `out\shot.png`). */
export function baseName(path) {
  return String(path ?? '').split(/[\\/]/).filter(Boolean).pop() ?? '';
}

/** What the core reads of an allure-results folder; every other file is an attachment or ignored. */
const ALLURE_READ = /(?:-result\.json|-container\.json|-globals\.json)$|^(?:environment\.properties|executor\.json|categories\.json)$/;

/** `allure` when the files hold Allure results, `junit` when one is an XML report, else null. */
export function reportKind(files) {
  if (files.some((f) => /-result\.json$/.test(baseName(f.name)))) return 'allure';
  if (files.some((f) => /\.xml$/i.test(baseName(f.name)))) return 'junit';
  return null;
}

/** The files the core's Allure reader takes (results, containers and the folder's settings). */
export function allureFiles(files) {
  return files.filter((f) => ALLURE_READ.test(baseName(f.name)));
}

/**
 * The dropped files a test's attachments name (by file name: reports write paths of
 * the machine that ran the tests), and those that were not dropped. Each file once.
 */
export function matchAttachments(named, files) {
  const byName = new Map();
  for (const f of files) if (!byName.has(baseName(f.name))) byName.set(baseName(f.name), f);
  const found = [];
  const missing = [];
  const seen = new Set();
  for (const path of named ?? []) {
    const name = baseName(path);
    if (!name || seen.has(name)) continue;
    seen.add(name);
    const file = byName.get(name);
    if (file) found.push({ name, file });
    else missing.push({ name, why: 'not among the dropped files' });
  }
  return { found, missing };
}

const TYPES = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  txt: 'text/plain',
  log: 'text/plain',
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html',
  csv: 'text/csv',
  mp4: 'video/mp4',
  webm: 'video/webm',
  zip: 'application/zip',
};

/** The content type Rally records for a file: the browser's, else from its extension. */
export function contentType(name, browserType = '') {
  if (browserType) return browserType;
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/** Bytes as base64, in chunks (a screenshot is too large for one `String.fromCharCode`). */
export function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
