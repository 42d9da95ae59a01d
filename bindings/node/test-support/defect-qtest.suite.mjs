// qtest.submitDefect, run by the addon and by the WASM package in Node: a failed qTest
// run (made through the qTest simulator's API) becomes a Rally defect linked to the
// Rally test case that holds the qTest case's address and to its story, with the log's
// files, and a comment on the qTest run links it back.
import { it as test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT, simulatorBinary } from './rally-sim.mjs';

const SHOT = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/** The Rally and qTest simulators of one process, their URLs and credentials. */
async function startSims() {
  const proc = spawn(simulatorBinary(), ['--rally', '127.0.0.1:0', '--gitlab', '127.0.0.1:0', '--qtest', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const s = {};
  for await (const line of createInterface({ input: proc.stdout })) {
    let m;
    if ((m = line.match(/^rally\.url = (\S+)/))) s.rallyUrl = m[1];
    else if ((m = line.match(/^rally api key \(ZSESSIONID\) = (\S+)/))) s.rallyKey = m[1];
    else if ((m = line.match(/^rally\.workspace = (\S+)/))) s.workspace = m[1];
    else if ((m = line.match(/^rally\.project = (\S+)/))) s.project = m[1];
    else if ((m = line.match(/^qtest url = (\S+)\s+\(bearer token (\S+), project (\d+)\)/))) {
      Object.assign(s, { qtestUrl: m[1], qtestToken: m[2], qtestProject: Number(m[3]) });
      break;
    }
  }
  s.close = () => proc.kill('SIGKILL');
  return s;
}

async function json(url, method, headers, body) {
  const answer = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(answer.ok, `${method} ${url}: ${answer.status}`);
  return answer.json();
}

export function defectQtestSuite(name, tmbridge) {
  test(`${name}: a failed qTest run becomes a linked Rally defect with its files, linked back`, async () => {
    const s = await startSims();
    try {
      const qtest = (method, path, body) =>
        json(`${s.qtestUrl}/api/v3/projects/${s.qtestProject}/${path}`, method, { Authorization: `Bearer ${s.qtestToken}` }, body);
      const rally = async (type, fields) => {
        const r = await json(`${s.rallyUrl}/slm/webservice/v2.0/${type}/create`, 'POST', { ZSESSIONID: s.rallyKey }, {
          [type]: { Workspace: s.workspace, Project: s.project, ...fields },
        });
        return r.CreateResult.Object._ref;
      };
      const testCase = await qtest('POST', 'test-cases', { name: 'Checkout rejects an expired card', test_steps: [{ description: 'Pay', expected: 'An error' }] });
      const run = await qtest('POST', 'test-runs?parentId=0&parentType=root', { name: 'Checkout rejects an expired card', test_case: { id: testCase.id } });
      await qtest('POST', `test-runs/${run.id}/auto-test-logs`, {
        status: 'FAIL',
        exe_start_date: '2026-05-13T10:00:00Z',
        exe_end_date: '2026-05-13T10:01:00Z',
        name: 'Checkout rejects an expired card',
        test_step_logs: [{ order: 0, description: 'Pay', expected_result: 'An error', actual_result: 'A spinner', status: 'FAIL' }],
        attachments: [{ name: 'checkout.png', content_type: 'image/png', data: b64(SHOT) }],
      });
      const caseUrl = (await qtest('GET', `test-cases/${testCase.id}`)).web_url;
      const story = await rally('HierarchicalRequirement', { Name: 'Pay by card' });
      const rallyCase = await rally('TestCase', { Name: 'Checkout rejects an expired card', WorkProduct: story, Description: `From qTest: ${caseUrl}` });

      const schema = tmbridge.autofillSchema(readFileSync(join(ROOT, 'tests/fixtures/autofill/rally-defect-typedef.json')));
      const config = {
        rally: { url: s.rallyUrl, workspace: s.workspace, project: s.project },
        qtest: { url: s.qtestUrl, project_id: s.qtestProject },
      };
      const settings = {
        hidden: ['SubmittedBy', 'Owner', 'Workspace', 'Iteration', 'Release'],
        allowed_values: { Project: [{ value: 'Web Team', reference: s.project }] },
        rules: [{ field: 'Name', template: '{test_case.name}' }],
        defaults: { Project: s.project, Environment: 'Test', State: 'Submitted', ScheduleState: 'Defined' },
      };
      const done = await tmbridge.qtest.submitDefect(run.id, config, {
        schema,
        settings,
        qtestSecrets: { api_key: s.qtestToken },
        rallySecrets: { api_key: s.rallyKey },
      });
      assert.equal(done.form.ready, true);
      const filed = done.defect.details;
      assert.match(filed.formatted_id, /^DE\d+$/);
      assert.ok(rallyCase.endsWith(filed.test_case), `${filed.test_case} is ${rallyCase}`);
      assert.ok(story.endsWith(filed.requirement), `${filed.requirement} is ${story}`);
      assert.deepEqual(filed.attachments, ['checkout.png']);
      assert.equal(done.linkBack.details.existed, false);
      const comments = await qtest('GET', `test-runs/${run.id}/comments`);
      assert.equal(comments.total, 1);
      assert.ok(comments.items[0].content.includes(`>${filed.formatted_id}</a>`), comments.items[0].content);
    } finally {
      s.close();
    }
  });
}
