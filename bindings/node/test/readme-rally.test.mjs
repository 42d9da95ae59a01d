// The README's ten-line example runs exactly as printed, against the simulator: it
// publishes, imports stories and files a defect; run twice, it duplicates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, startSim, teamConfig } from '../test-support/rally-sim.mjs';

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));

function example() {
  const text = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
  const section = text.split('## Rally in ten lines')[1];
  return section.match(/```js\n([\s\S]*?)```/)[1];
}

test('the README example runs as printed', async () => {
  const code = example();
  assert.ok(code.trim().split('\n').length <= 14);
  const sim = await startSim();
  try {
    for (let n = 1; n <= 14; n += 1) await sim.create('TestCase', { Name: `checkout test ${n}` });
    await sim.create('HierarchicalRequirement', { Name: 'Checkout by card' });
    const dir = mkdtempSync(join(tmpdir(), 'tmbridge-readme-'));
    // `import ... from 'tmbridge'` resolves to this package, as after `npm install tmbridge`.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(PACKAGE, join(dir, 'node_modules', 'tmbridge'), 'dir');
    writeFileSync(join(dir, 'rally.json'), JSON.stringify(teamConfig(sim)));
    copyFileSync(join(FIXTURES, 'e2e-report.xml'), join(dir, 'report.xml'));
    cpSync(join(FIXTURES, 'shots'), join(dir, 'shots'), { recursive: true });
    writeFileSync(join(dir, 'example.mjs'), code);
    let run;
    for (let i = 0; i < 2; i += 1) {
      run = spawnSync(process.execPath, ['example.mjs'], {
        cwd: dir, env: { ...process.env, RALLY_API_KEY: sim.apiKey }, encoding: 'utf8', timeout: 120000,
      });
      assert.equal(run.status, 0, run.stderr);
    }
    // The second run: the same stories, and the report of the defect filed before.
    assert.match(run.stdout, /Checkout by card/);
    assert.match(run.stdout, /filed DE\d+/);
    const ledger = await sim.ledger();
    const count = (type) => ledger.filter((e) => e.type === type).length;
    assert.equal(count('TestCaseResult'), 3);
    assert.equal(count('Defect'), 1);
    assert.equal(count('Attachment'), 1);
    assert.ok(!readFileSync(join(dir, 'tmbridge-state.json'), 'utf8').includes(sim.apiKey));
  } finally {
    sim.close();
  }
});
