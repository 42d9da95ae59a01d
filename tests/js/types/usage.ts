// Compiled (never run) by tests/js/types.test.mjs with `tsc --strict`: the generated
// types describe what the API returns, and misuse is a type error. Each
// `@ts-expect-error` line must fail to type-check, or tsc reports the directive unused.
import {
  call,
  mapResults,
  parseJunit,
  qtest,
  Session,
  testrail,
  validateConfig,
  JunitError,
  type Config,
  type OpOutputs,
  type Report,
  type Step,
  type TestCase,
} from 'tmbridge';

const report: Report = parseJunit('<testsuite name="s"><testcase name="t"/></testsuite>');
const total: number = report.counts.tests;
// @ts-expect-error a misspelt field of the report
console.log(report.resuts, total);

const parsed = call('junit.parse', { xml: '<testsuite/>' });
const cases: TestCase[] = parsed.suites.flatMap((suite) => suite.cases);
// @ts-expect-error an op's input is checked
call('junit.parse', { xmll: '<testsuite/>' });
const normalized: OpOutputs['rally_query.normalize'] = call('rally_query.normalize', { query: '(Name = x)' });
console.log(normalized.query, cases.length);

const config: Config = { rally: { workspace: '/workspace/1', project: '/project/2' } };
// @ts-expect-error an unknown configuration section
const wrong: Config = { ralley: {} };
console.log(validateConfig(config, 'rally'), wrong);
// @ts-expect-error a target that does not exist
validateConfig(config, 'ralley');

const plan = mapResults({ target: 'rally', config, cases, context: { now: '2026-01-01T00:00:00Z' } });
console.log(plan);
// @ts-expect-error an unknown context field
mapResults({ target: 'rally', config, cases, context: { nwo: 1 } });

const session = Session.start('rally.connect', { config }, { secrets: { api_key: 'key' } });
const step: Step = session.next();
if (step.step === 'send') console.log(step.method, step.url, step.headers[0]?.[0]);
else if (step.step === 'done') console.log(step.created.length, step.error?.code);
// @ts-expect-error a session's input is checked by kind
Session.start('rally.connect', { confg: config });

try {
  parseJunit('<testsuite>');
} catch (e) {
  if (e instanceof JunitError) console.log(e.code, e.line);
}

// qTest and TestRail: the same options as rally, typed details per kind.
async function targets(): Promise<void> {
  const published = await qtest.publish('report.xml', { qtest: { url: 'https://acme.qtestnet.com', project_id: 1 } }, { context: { job_name: 'e2e' } });
  console.log(published.details.session, published.details.executions.length, published.dryRunRequests.length);
  const exported = await testrail.publish('allure-results', 'tmbridge.toml', { scope: 'status = failed', dryRun: true });
  console.log(exported.details.session, exported.resumed);
  // @ts-expect-error scope is TestRail's
  await qtest.publish('report.xml', 'tmbridge.toml', { scope: 'status = failed' });
}
console.log(targets);
