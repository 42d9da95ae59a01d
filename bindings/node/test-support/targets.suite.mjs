// The qtest.* and testrail.* suite, run by the addon and by the WASM package in Node:
// the host loop of `rally` drives the core's qTest and TestRail sessions against their
// simulators on loopback, through faults and reruns, with binary uploads, allure-results
// folders, scope filters, dry runs and refused credentials.
import { it as test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './rally-sim.mjs';
import { startTargetSims } from './target-sims.mjs';

const REPORT = join(FIXTURES, 'e2e-report.xml');
const SHOT = join(FIXTURES, 'shots', 'pays-by-card.png');
const TESTS = 4;
const temp = () => mkdtempSync(join(tmpdir(), 'tmbridge-targets-'));

const count = (entries, key) => {
  const counts = {};
  for (const e of entries) counts[e[key]] = (counts[e[key]] ?? 0) + 1;
  return counts;
};

async function withSims(body) {
  const sims = await startTargetSims();
  try {
    await body(sims);
  } finally {
    sims.close();
  }
}

/** An allure-results folder: a passed test and a failed one with a screenshot. */
function allureResults(dir) {
  const folder = join(dir, 'allure-results');
  mkdirSync(folder);
  const base = { start: 1717000000000, stop: 1717000001500, labels: [{ name: 'suite', value: 'shop' }] };
  writeFileSync(join(folder, 'u1-result.json'), JSON.stringify({ ...base, uuid: 'u1', historyId: 'h1', name: 'pays', fullName: 'shop#pays', status: 'passed' }));
  writeFileSync(
    join(folder, 'u2-result.json'),
    JSON.stringify({
      ...base, uuid: 'u2', historyId: 'h2', name: 'refunds', fullName: 'shop#refunds', status: 'failed',
      statusDetails: { message: 'expected 42.00, was 0.00', trace: 'at refund' },
      attachments: [{ name: 'screen', source: 'shot-attachment.png', type: 'image/png' }],
    }),
  );
  writeFileSync(join(folder, 'shot-attachment.png'), readFileSync(SHOT));
  return folder;
}

/** The suite for one package: `tmbridge` is its module. */
export function targetsSuite(name, tmbridge) {
  const { qtest, testrail, QtestError, TestrailError, SessionError, ConfigError } = tmbridge;

  test(`${name}: qTest publish under faults, then the next pipeline adds only test logs`, () =>
    withSims(async (sims) => {
      const config = sims.qtestConfig({ parent_module: 'node-e2e' });
      const secrets = { api_key: sims.qtestToken };
      await sims.fault('qtest', { kind: 'throttle', retry_after: '1', count: '1', method: 'POST' });
      await sims.fault('qtest', { kind: 'server_error', status: '503', count: '1', method: 'GET' });
      const state = join(temp(), 'state.json');
      const progress = [];
      const first = await qtest.publish(REPORT, config, {
        context: { pipeline_id: '101', job_name: 'e2e-chrome' }, secrets, state, onProgress: (done) => progress.push(done),
      });
      assert.equal(first.error, null);
      assert.deepEqual(first.failed, []);
      assert.ok(progress.at(-1) > 0);
      const made = count(await sims.ledger('qtest'), 'kind');
      assert.equal(made['test-case'], TESTS);
      assert.equal(made['test-run'], TESTS);
      assert.equal(made['test-log'], TESTS);
      assert.equal(made['test-cycle'], 1);

      const size = (await sims.ledger('qtest')).length;
      const again = await qtest.publish(REPORT, config, { context: { pipeline_id: '101', job_name: 'e2e-chrome' }, secrets, state });
      assert.equal(again.resumed, true);
      assert.equal((await sims.ledger('qtest')).length, size, 'the same work again sends nothing');

      await qtest.publish(REPORT, config, { context: { pipeline_id: '102', job_name: 'e2e-chrome' }, secrets, state });
      const after = count(await sims.ledger('qtest'), 'kind');
      assert.equal(after['test-log'], 2 * TESTS);
      for (const kind of ['test-case', 'test-run', 'test-cycle', 'module', 'test-suite']) assert.equal(after[kind], made[kind], kind);
    }));

  test(`${name}: qTest dry run, connect, a refused token and a missing one`, () =>
    withSims(async (sims) => {
      const dry = await qtest.publish(REPORT, sims.qtestConfig(), { context: { pipeline_id: '7' }, secrets: { api_key: sims.qtestToken }, dryRun: true });
      assert.equal((await sims.ledger('qtest')).length, 0);
      assert.ok(dry.dryRunRequests.some((r) => r.url.includes('/auto-test-logs')));
      assert.ok(!JSON.stringify(dry.dryRunRequests).includes(sims.qtestToken), 'the token is masked');
      const ok = await qtest.connect(sims.qtestConfig(), { secrets: { api_key: sims.qtestToken } });
      assert.equal(ok.error, null);
      await assert.rejects(qtest.connect(sims.qtestConfig(), { secrets: { api_key: 'not-a-token' } }), (e) => {
        assert.ok(e instanceof QtestError);
        assert.equal(e.code, 'qtest.unauthorized');
        assert.equal(e.report.error.code, 'qtest.unauthorized');
        return true;
      });
      const saved = process.env.TMBRIDGE_QTEST_TOKEN;
      delete process.env.TMBRIDGE_QTEST_TOKEN;
      try {
        await assert.rejects(qtest.connect(sims.qtestConfig()), (e) => e instanceof SessionError && /TMBRIDGE_QTEST_TOKEN/.test(e.message));
      } finally {
        if (saved !== undefined) process.env.TMBRIDGE_QTEST_TOKEN = saved;
      }
    }));

  test(`${name}: TestRail exports an allure-results folder with its screenshot once, even when rerun`, () =>
    withSims(async (sims) => {
      const dir = temp();
      const folder = allureResults(dir);
      const secrets = { username: sims.testrailUser, api_key: sims.testrailKey };
      await sims.fault('testrail', { kind: 'throttle', retry_after: '1', count: '1', path: 'add_results_for_cases' });
      const state = join(dir, 'state.json');
      const report = await testrail.publish(folder, sims.testrailConfig(), { context: { pipeline_id: '501' }, secrets, state });
      assert.equal(report.error, null);
      assert.deepEqual(report.failed, []);
      const made = count(await sims.ledger('testrail'), 'action');
      assert.equal(made.add_case, 2);
      assert.equal(made.add_run, 1);
      assert.equal(made.add_result, 2);
      assert.equal(made.add_attachment, 1, 'the PNG went up as multipart bytes');
      await testrail.publish(folder, sims.testrailConfig(), { context: { pipeline_id: '501' }, secrets, state });
      await testrail.publish(folder, sims.testrailConfig(), { context: { pipeline_id: '501' }, secrets });
      const after = count(await sims.ledger('testrail'), 'action');
      assert.equal(after.add_case, 2);
      assert.equal(after.add_result, 2);
    }));

  test(`${name}: TestRail scope, dry run and refused credentials`, () =>
    withSims(async (sims) => {
      const secrets = { username: sims.testrailUser, api_key: sims.testrailKey };
      const scoped = await testrail.publish(REPORT, sims.testrailConfig(), { context: { pipeline_id: '601' }, secrets, scope: 'status = failed' });
      assert.equal(scoped.error, null);
      assert.equal(count(await sims.ledger('testrail'), 'action').add_result, 1);
      await assert.rejects(
        testrail.publish(REPORT, sims.testrailConfig(), { context: { pipeline_id: '602' }, secrets, scope: 'status in (failed' }),
        (e) => e instanceof ConfigError && /column/.test(e.message),
      );
      const before = (await sims.ledger('testrail')).length;
      const dry = await testrail.publish(REPORT, sims.testrailConfig(), { context: { pipeline_id: '603' }, dryRun: true });
      assert.equal((await sims.ledger('testrail')).length, before);
      assert.ok(dry.dryRunRequests.some((r) => r.url.includes('add_results_for_cases')));
      await assert.rejects(
        testrail.connect(sims.testrailConfig(), { secrets: { username: sims.testrailUser, api_key: 'wrong' } }),
        (e) => e instanceof TestrailError && e.code === 'testrail.unauthorized',
      );
    }));

  test(`${name}: a refused key switches the TestRail export off until reenable`, () =>
    withSims(async (sims) => {
      const state = join(temp(), 'state.json');
      const config = sims.testrailConfig();
      await assert.rejects(
        testrail.publish(REPORT, config, { context: { pipeline_id: '801' }, state, secrets: { username: sims.testrailUser, api_key: 'revoked' } }),
        (e) => e instanceof TestrailError && e.code === 'testrail.unauthorized',
      );
      const secrets = { username: sims.testrailUser, api_key: sims.testrailKey };
      const before = (await sims.ledger('testrail')).length;
      await assert.rejects(testrail.publish(REPORT, config, { context: { pipeline_id: '802' }, state, secrets }), (e) => {
        assert.ok(e instanceof TestrailError);
        assert.equal(e.code, 'testrail.export_disabled');
        assert.match(e.message, /testrail\.unauthorized/);
        assert.match(e.message, /reenable: true/);
        return true;
      });
      assert.equal((await sims.ledger('testrail')).length, before, 'nothing sent while off');
      const back = await testrail.publish(REPORT, config, { context: { pipeline_id: '802' }, state, secrets, reenable: true });
      assert.equal(back.error, null);
      assert.equal(count(await sims.ledger('testrail'), 'action').add_result, TESTS);
    }));
}
