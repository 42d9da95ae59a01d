// The Node addon and both entries of the WASM package export the same names, and
// index.d.ts declares exactly those.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

// index.d.ts declares the functions and classes, types.d.ts (generated) the shapes.
const declarations = () =>
  ['index.d.ts', 'types.d.ts']
    .map((file) => readFileSync(new URL(`../../bindings/node/${file}`, import.meta.url), 'utf8'))
    .join('\n');

const names = async (path) => Object.keys(await import(path)).filter((n) => n !== 'default').sort();

it('the addon, pkg (Node) and pkg (browser) export the same API', async () => {
  const addon = await names('../../bindings/node/index.js');
  assert.deepEqual(await names('../../pkg/node.js'), addon);
  assert.deepEqual(await names('../../pkg/index.js'), addon);
});

it('index.d.ts declares every runtime export and nothing more', async () => {
  const dts = declarations();
  const declared = [...dts.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(declared)].sort(), await names('../../bindings/node/index.js'));
});

it('pkg ships the same types files as the addon', () => {
  for (const [addon, pkg] of [['index.d.ts', 'tmbridge.d.ts'], ['types.d.ts', 'types.d.ts']]) {
    const ours = readFileSync(new URL(`../../bindings/node/${addon}`, import.meta.url), 'utf8');
    assert.equal(readFileSync(new URL(`../../pkg/${pkg}`, import.meta.url), 'utf8'), ours);
  }
});

it('every type named in listOps() shapes is declared', async () => {
  const dts = declarations();
  const declared = new Set([...dts.matchAll(/^export (?:interface|type|class) (\w+)/gm)].map((m) => m[1]));
  const { listOps } = await import('../../bindings/node/index.js');
  const named = new Set(listOps().flatMap((op) => `${op.input} ${op.output}`.match(/\b[A-Z]\w*/g) ?? []));
  assert.ok(named.size > 10);
  for (const name of named) assert.ok(declared.has(name), `${name} is used by an op but not declared`);
});

it('both packages resolve by name through their exports maps', async () => {
  const { mkdtempSync, mkdirSync, symlinkSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const dir = mkdtempSync(join(tmpdir(), 'tmbridge-resolve-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(fileURLToPath(new URL('../../pkg', import.meta.url)), join(dir, 'node_modules/tmbridge-wasm'));
    symlinkSync(fileURLToPath(new URL('../../bindings/node', import.meta.url)), join(dir, 'node_modules/tmbridge'));
    const script = `
      const wasm = await import('tmbridge-wasm');
      const addon = await import('tmbridge');
      const xml = '<testsuite name="s"><testcase name="t"/></testsuite>';
      console.log(JSON.stringify([typeof wasm.default, typeof addon.default, wasm.parseJunit(xml).counts.tests, addon.parseJunit(xml).counts.tests,
        import.meta.resolve('tmbridge-wasm').endsWith('/node.js')]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), ['function', 'function', 1, 1, true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
