// The qTest and TestRail simulators (the same binary as the Rally one) on free loopback
// ports, for the tests of `qtest` and `testrail`: URLs and credentials as the binary
// prints them, faults and ledgers.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { simulatorBinary } from './rally-sim.mjs';

export async function startTargetSims() {
  const proc = spawn(simulatorBinary(), ['--rally', '127.0.0.1:0', '--gitlab', '127.0.0.1:0', '--qtest', '127.0.0.1:0', '--testrail', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const seen = {};
  for await (const line of createInterface({ input: proc.stdout })) {
    let m;
    if ((m = line.match(/^qtest url = (\S+)\s+\(bearer token (\S+), project (\d+)\)/))) {
      Object.assign(seen, { qtestUrl: m[1], qtestToken: m[2], qtestProject: Number(m[3]) });
    } else if ((m = line.match(/^testrail url = (\S+)/))) seen.testrailUrl = m[1];
    else if ((m = line.match(/^testrail user \/ password \/ api key = (\S+) \/ (\S+) \/ (\S+)/))) {
      Object.assign(seen, { testrailUser: m[1], testrailKey: m[3] });
    } else if ((m = line.match(/^testrail single-suite project = P(\d+) \(suite S\d+, section (\d+)\)/))) {
      Object.assign(seen, { testrailProject: Number(m[1]), testrailSection: Number(m[2]) });
    }
    if (Object.keys(seen).length === 8) break;
  }
  if (Object.keys(seen).length !== 8) {
    proc.kill('SIGKILL');
    throw new Error(`the simulators printed only ${Object.keys(seen)}`);
  }
  const origin = (url) => new URL(url).origin;
  const control = async (target, method, path) => {
    const answer = await fetch(origin(target === 'qtest' ? seen.qtestUrl : seen.testrailUrl) + path, { method });
    return answer.json();
  };
  return {
    ...seen,
    close: () => proc.kill('SIGKILL'),
    qtestConfig: (qtest = {}) => ({ qtest: { url: seen.qtestUrl, project_id: seen.qtestProject, ...qtest } }),
    testrailConfig: (testrail = {}) => ({
      testrail: { url: seen.testrailUrl, project_id: `P${seen.testrailProject}`, section_id: seen.testrailSection, ...testrail },
    }),
    fault: (target, params) => control(target, 'POST', `/__sim/faults?${new URLSearchParams(params)}`),
    ledger: (target) => control(target, 'GET', '/__sim/ledger'),
  };
}
