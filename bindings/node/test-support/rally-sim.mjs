// The Rally simulator binary on a free loopback port, for the tests of `rally`:
// seeding it through its own WSAPI, arming faults, reading its ledger.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = join(ROOT, 'tests', 'fixtures', 'publish');

/** The simulators binary, built when missing (the test command builds it first). */
export function simulatorBinary() {
  const target = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
  const path = join(target, 'debug', 'tmbridge-simulators');
  if (!existsSync(path)) {
    const built = spawnSync('cargo', ['build', '-q', '-p', 'tmbridge-simulators', '--bin', 'tmbridge-simulators'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('could not build the simulator');
  }
  return path;
}

export async function startSim() {
  const proc = spawn(simulatorBinary(), ['--rally', '127.0.0.1:0', '--gitlab', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen = {};
  const lines = createInterface({ input: proc.stdout });
  for await (const line of lines) {
    let m;
    if ((m = line.match(/^rally\.url = (\S+)/))) seen.url = m[1];
    else if ((m = line.match(/^rally api key \(ZSESSIONID\) = (\S+)/))) seen.apiKey = m[1];
    else if ((m = line.match(/^rally\.workspace = (\S+)/))) seen.workspace = m[1];
    else if ((m = line.match(/^rally\.project = (\S+)/))) {
      seen.project = m[1];
      break;
    }
  }
  const call = async (method, path, body, auth = true) => {
    const answer = await fetch(seen.url + path, {
      method,
      headers: { 'Content-Type': 'application/json', ...(auth ? { ZSESSIONID: seen.apiKey } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return answer.json();
  };
  return {
    ...seen,
    close: () => proc.kill('SIGKILL'),
    config: (rally = {}) => ({ rally: { url: seen.url, workspace: seen.workspace, project: seen.project, ...rally } }),
    async create(type, fields) {
      const answer = await call('POST', `/slm/webservice/v2.0/${type.toLowerCase()}/create`, {
        [type]: { Workspace: seen.workspace, Project: seen.project, ...fields },
      });
      if (answer.CreateResult.Errors.length) throw new Error(answer.CreateResult.Errors.join('; '));
      return answer.CreateResult.Object;
    },
    fault: (kind, count = 1, params = {}) =>
      call('POST', `/__sim/faults?${new URLSearchParams({ kind, count: String(count), ...params })}`, undefined, false),
    ledger: () => call('GET', '/__sim/ledger', undefined, false),
    async created(type) {
      return (await this.ledger()).filter((e) => e.type.toLowerCase() === type.toLowerCase());
    },
  };
}

/** tests/fixtures/publish/rally.toml as an object, pointed at the simulator. */
export function teamConfig(sim) {
  return {
    matching: { sources: ['mapping', 'name', 'property'], properties: ['rally_id'], mapping: { 'com.acme.checkout.ShippingTest.shipping cost': 'TC14' } },
    rally: {
      url: sim.url,
      api_key_env: 'RALLY_API_KEY',
      workspace: sim.workspace,
      project: sim.project,
      build: 'shop#{pipeline_id} ({short_sha})',
      test_set: 'Sprint-{N}-Automated-Tests',
      inline_attachment_max_bytes: 2097152,
      statuses: { skipped: 'Blocked' },
    },
  };
}
