// The JavaScript API's declarations hold under `tsc --strict`: the typed usage in
// tests/js/types/usage.ts compiles (and each misuse marked there is an error), and every
// JavaScript example of the READMEs type-checks as printed (`checkJs`).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/.bin/tsc');

function tsc(project) {
  try {
    execFileSync(TSC, ['-p', project], { encoding: 'utf8' });
    return '';
  } catch (e) {
    return `${e.stdout}${e.stderr}`;
  }
}

it('the typed usage compiles under --strict, and its misuses are type errors', () => {
  assert.equal(tsc(join(ROOT, 'tests/js/types/tsconfig.json')), '');
});

it('every JavaScript example of the READMEs type-checks under --strict', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tmbridge-readme-types-'));
  try {
    const files = [];
    for (const readme of ['bindings/node/README.md', 'pkg/README.md', 'README.md']) {
      const text = readFileSync(join(ROOT, readme), 'utf8');
      const blocks = [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
      blocks.forEach((code, i) => {
        const name = `${readme.replace(/[/.]/g, '_')}_${i + 1}.mjs`;
        writeFileSync(join(dir, name), code);
        files.push(name);
      });
    }
    assert.ok(files.length >= 5, `found ${files.length} examples`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, allowJs: true, checkJs: true, target: 'es2022',
        module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom', 'dom.iterable'],
        types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')], baseUrl: '.',
        paths: {
          tmbridge: [join(ROOT, 'bindings/node/index.d.ts')],
          // pkg ships a copy of these declarations (checked in exports.test.mjs).
          'tmbridge-wasm': [join(ROOT, 'bindings/node/index.d.ts')],
        },
      },
      files,
    }));
    assert.equal(tsc(join(dir, 'tsconfig.json')), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
