// A publishing script as a user writes it, that dies (SIGKILL) once it has sent a
// given number of requests: the answer to the last one is lost with it.
// usage: node publish-script.mjs REPORT CONFIG.json STATE.json KILL_AFTER
// (RALLY_API_KEY set; TMBRIDGE_PACKAGE: the URL of the package's entry, the addon by default)
import { readFileSync } from 'node:fs';

const { rally } = await import(process.env.TMBRIDGE_PACKAGE || new URL('../index.js', import.meta.url).href);

const [report, config, state, killAfter] = process.argv.slice(2);
let left = Number(killAfter);
const dying = async (...args) => {
  const answer = await fetch(...args);
  await answer.clone().text();
  left -= 1;
  if (left === 0) process.kill(process.pid, 'SIGKILL');
  return answer;
};
const result = await rally.publish(report, JSON.parse(readFileSync(config, 'utf8')), {
  context: { pipeline_id: '4242', sha: '8f3c2a1d9e7b', sprint: '14' },
  state,
  fetch: left > 0 ? dying : undefined,
});
console.log(JSON.stringify({ created: result.created.length, resumed: result.resumed }));
