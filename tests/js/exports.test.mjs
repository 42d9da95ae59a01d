// The Node addon and both entries of the WASM package export the same names, and
// index.d.ts declares exactly those.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const names = async (path) => Object.keys(await import(path)).filter((n) => n !== 'default').sort();

it('the addon, pkg (Node) and pkg (browser) export the same API', async () => {
  const addon = await names('../../bindings/node/index.js');
  assert.deepEqual(await names('../../pkg/node.js'), addon);
  assert.deepEqual(await names('../../pkg/index.js'), addon);
});

it('index.d.ts declares every runtime export and nothing more', async () => {
  const dts = readFileSync(new URL('../../bindings/node/index.d.ts', import.meta.url), 'utf8');
  const declared = [...dts.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(declared)].sort(), await names('../../bindings/node/index.js'));
});

it('pkg ships the same types file as the addon', () => {
  const addon = readFileSync(new URL('../../bindings/node/index.d.ts', import.meta.url), 'utf8');
  const pkg = readFileSync(new URL('../../pkg/tmbridge.d.ts', import.meta.url), 'utf8');
  assert.equal(pkg, addon);
});
