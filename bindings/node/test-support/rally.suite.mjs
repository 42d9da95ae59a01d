// The rally.* suite, run by the addon and by the WASM package in Node: against the
// Rally simulator binary on loopback, publishing under injected
// faults and after SIGKILL creates every record exactly once; dry runs send nothing;
// stories are imported and watched (AbortSignal stops the watch); defects are filed
// from a loaded schema; progress arrives as events.
import { it as test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, startSim, teamConfig } from './rally-sim.mjs';

const REPORT = join(FIXTURES, 'e2e-report.xml');
const CONTEXT = { pipeline_id: '4242', sha: '8f3c2a1d9e7b', sprint: '14' };
const PUBLISHED = ['TC11', 'TC12', 'TC13'];
const temp = () => mkdtempSync(join(tmpdir(), 'tmbridge-rally-'));

async function withSim(body) {
  const sim = await startSim();
  try {
    for (let n = 1; n <= 14; n += 1) await sim.create('TestCase', { Name: `checkout test ${n}` });
    await body(sim);
  } finally {
    sim.close();
  }
}

async function assertPublishedOnce(sim) {
  const ids = Object.fromEntries((await sim.created('TestCase')).map((e) => [e.ref, e.formatted_id]));
  const results = (await sim.created('TestCaseResult')).map((e) => ids[e.fields.TestCase._ref ?? e.fields.TestCase]);
  assert.deepEqual(results.sort(), PUBLISHED);
  assert.equal((await sim.created('TestSet')).length, 1);
  assert.deepEqual((await sim.created('Attachment')).map((a) => a.fields.Name), ['pays-by-card.png']);
  const [content] = await sim.created('AttachmentContent');
  assert.deepEqual(Buffer.from(content.fields.Content, 'base64'), readFileSync(join(FIXTURES, 'shots', 'pays-by-card.png')));
}

/** The suite for one package: `tmbridge` is its module, `packageUrl` its entry's URL. */
export function rallySuite(name, tmbridge, packageUrl) {
  const { rally, parseJunit, iterCases, TmbridgeError, SessionError } = tmbridge;

  test(`${name}: publish under 5xx, 429 and dropped connections creates each record once, with progress events`, () =>
    withSim(async (sim) => {
      await sim.fault('server_error', 2, { status: '503' });
      await sim.fault('throttle', 1, { retry_after: '1' });
      await sim.fault('drop', 1, { method: 'POST' });
      // The results go in one /batch request (rally.batch_size is 25 by default).
      await sim.fault('drop_after_apply', 1, { path: '/batch' });
      const events = new EventTarget();
      const seen = [];
      events.addEventListener('progress', (e) => seen.push([e.detail.done, e.detail.total]));
      const report = await rally.publish(REPORT, teamConfig(sim), {
        context: CONTEXT, secrets: { api_key: sim.apiKey }, state: join(temp(), 'state.json'), onProgress: events,
      });
      await assertPublishedOnce(sim);
      assert.equal(report.error, null);
      assert.deepEqual(report.created.filter((e) => e.kind === 'test_case_result').map((e) => e.key).sort(), PUBLISHED);
      assert.ok(report.stats.waited_ms >= 1000);
      const [done, total] = seen.at(-1);
      assert.ok(total > 0 && done === total);
    }));

  test(`${name}: a script killed part-way and rerun creates each record once`, () =>
    withSim(async (sim) => {
      const dir = temp();
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify(teamConfig(sim)));
      const script = fileURLToPath(new URL('./publish-script.mjs', import.meta.url));
      const run = (killAfter) =>
        spawnSync(process.execPath, [script, REPORT, config, join(dir, 'state.json'), String(killAfter)], {
          env: { ...process.env, RALLY_API_KEY: sim.apiKey, TMBRIDGE_PACKAGE: packageUrl }, encoding: 'utf8', timeout: 120000,
        });
      for (const killAfter of [5, 4, 3]) {
        const killed = run(killAfter);
        assert.equal(killed.signal, 'SIGKILL', killed.stderr);
      }
      const finished = run(0);
      assert.equal(finished.status, 0, finished.stderr);
      assert.equal(JSON.parse(finished.stdout).resumed, true);
      await assertPublishedOnce(sim);
      assert.ok(!readFileSync(join(dir, 'state.json'), 'utf8').includes(sim.apiKey));
    }));

  test(`${name}: a dry run sends nothing and shows the requests masked`, () =>
    withSim(async (sim) => {
      const before = (await sim.ledger()).length;
      const report = await rally.publish(REPORT, teamConfig(sim), {
        context: CONTEXT, secrets: { api_key: sim.apiKey }, dryRun: true,
        fetch: () => { throw new Error('a dry run must not send'); },
      });
      assert.equal((await sim.ledger()).length, before);
      // Single creates, or entries of /batch requests (rally.batch_size, 25 by default).
      const creates = report.dryRunRequests
        .filter((r) => r.method === 'POST')
        .flatMap((r) => (r.url.split('?')[0].endsWith('/batch') ? JSON.parse(r.body).Batch.map((e) => e.Entry.Path) : [r.url]))
        .filter((u) => u.includes('/testcaseresult/create'));
      assert.equal(creates.length, PUBLISHED.length);
      assert.ok(!JSON.stringify(report.dryRunRequests).includes(sim.apiKey));
    }));

  test(`${name}: a refused key throws with the report; an aborted signal stops the run`, () =>
    withSim(async (sim) => {
      await assert.rejects(rally.connect(teamConfig(sim), { secrets: { api_key: 'not-the-key' } }), (error) => {
        assert.ok(error instanceof TmbridgeError);
        assert.equal(error.code, 'rally.unauthorized');
        assert.equal(error.report.error.code, 'rally.unauthorized');
        return true;
      });
      const controller = new AbortController();
      controller.abort(new Error('stopped by the user'));
      await assert.rejects(rally.connect(teamConfig(sim), { secrets: { api_key: sim.apiKey }, signal: controller.signal }), /stopped by the user/);
      const saved = process.env.RALLY_API_KEY;
      delete process.env.RALLY_API_KEY;
      try {
        await assert.rejects(rally.connect(teamConfig(sim)), (e) => e instanceof SessionError && e.code === 'session.no_credentials');
      } finally {
        if (saved !== undefined) process.env.RALLY_API_KEY = saved;
      }
    }));

  test(`${name}: import requirements, then watch one more poll until aborted`, () =>
    withSim(async (sim) => {
      for (const Name of ['Checkout by card', 'Checkout by invoice']) await sim.create('HierarchicalRequirement', { Name });
      const controller = new AbortController();
      const stories = rally.importRequirements('(Name contains Checkout)', {
        config: teamConfig(sim), secrets: { api_key: sim.apiKey }, watch: true, interval: 0.2, signal: controller.signal,
        state: join(temp(), 'state.json'),
      });
      const first = [(await stories.next()).value, (await stories.next()).value];
      assert.deepEqual(first.map((s) => s.name).sort(), ['Checkout by card', 'Checkout by invoice']);
      const added = await sim.create('HierarchicalRequirement', { Name: 'Checkout by voucher' });
      const polled = (await stories.next()).value;
      assert.equal(polled.formatted_id, added.FormattedID);
      const waiting = stories.next();
      controller.abort(new Error('enough'));
      await assert.rejects(waiting, /enough/);
    }));

  test(`${name}: submit a defect auto-filled from the loaded schema, once`, () =>
    withSim(async (sim) => {
      const { autofill, autofillRunFromJunit } = tmbridge;
      const options = { secrets: { api_key: sim.apiKey } };
      const schema = await rally.loadSchema(teamConfig(sim), options);
      const failed = [...iterCases(parseJunit(readFileSync(REPORT)))].find((c) => c.status === 'failed');
      const fill = autofill(schema, autofillRunFromJunit(failed), { rules: [{ field: 'Name', template: '{test_case.name} fails' }] });
      const state = join(temp(), 'state.json');
      const report = await rally.submitDefect({ payload: fill.payload, test_case: 'TC13' }, teamConfig(sim), { ...options, state });
      const again = await rally.submitDefect({ payload: fill.payload, test_case: 'TC13' }, teamConfig(sim), { ...options, state });
      const defects = await sim.created('Defect');
      assert.equal(defects.length, 1);
      assert.equal(defects[0].fields.Name, 'pays by card fails');
      assert.equal(report.details.formatted_id, defects[0].formatted_id);
      assert.equal(again.resumed, true);
    }));

  test(`${name}: without a file system: report bytes, readFile and any store (as in browsers)`, () =>
    withSim(async (sim) => {
      const values = new Map();
      const store = { get: async (k) => values.get(k) ?? null, set: async (k, v) => void values.set(k, v) };
      const asked = [];
      const readFile = (path) => {
        asked.push(path);
        return path === 'shots/pays-by-card.png' ? { data: readFileSync(join(FIXTURES, path)) } : { error: `${path}: not here` };
      };
      const options = { context: CONTEXT, secrets: { api_key: sim.apiKey }, store, readFile };
      const first = await rally.publish(new Uint8Array(readFileSync(REPORT)), teamConfig(sim), options);
      const again = await rally.publish(new Uint8Array(readFileSync(REPORT)), teamConfig(sim), options);
      assert.equal(first.error, null);
      assert.equal(again.resumed, true);
      assert.ok(asked.includes('shots/pays-by-card.png'));
      assert.ok([...values.keys()].some((k) => k.startsWith('report:')));
      await assertPublishedOnce(sim);
    }));
}
