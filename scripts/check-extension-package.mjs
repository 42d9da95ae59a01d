// Checks an extension folder before it is zipped for the store: the manifest asks only
// for storage and sidePanel (hosts only as optional permissions), and every file the
// manifest, the pages and the modules refer to is in the folder.
// usage: node scripts/check-extension-package.mjs DIR
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const dir = process.argv[2];
const problems = [];
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

if (JSON.stringify([...(manifest.permissions ?? [])].sort()) !== JSON.stringify(['sidePanel', 'storage'])) {
  problems.push(`permissions are ${JSON.stringify(manifest.permissions)}, not just storage and sidePanel`);
}
for (const key of ['host_permissions', 'content_scripts', 'web_accessible_resources', 'externally_connectable']) {
  if (key in manifest) problems.push(`the manifest has ${key}: hosts are asked for at set-up, as optional_host_permissions`);
}

const referenced = [
  manifest.background.service_worker,
  manifest.side_panel.default_path,
  manifest.options_ui.page,
  ...Object.values(manifest.icons),
  ...Object.values(manifest.action.default_icon ?? {}),
];
const seen = new Set();
const visit = (file) => {
  const path = normalize(file);
  if (seen.has(path)) return;
  seen.add(path);
  if (!existsSync(join(dir, path))) {
    problems.push(`${path} is referred to but missing`);
    return;
  }
  if (!/\.(js|html)$/.test(path)) return;
  const text = readFileSync(join(dir, path), 'utf8');
  const refs = path.endsWith('.html')
    ? [...text.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    : [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)].map((m) => m[1]);
  for (const ref of refs) visit(join(dirname(path), ref));
};
referenced.forEach(visit);
// The WASM module is loaded by the glue code beside it, not by an import.
visit('tmbridge/web/tmbridge_wasm_bg.wasm');

if (problems.length > 0) {
  console.error(`the extension package is not ready:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.error(`extension package: ${seen.size} files checked, permissions: ${manifest.permissions.join(', ')}`);
