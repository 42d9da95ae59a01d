// CommonJS scripts load the addon package with require() (Node 20.19+ loads an ES
// module through require): the same functions, classes and errors as import.
const test = require('node:test');
const assert = require('node:assert/strict');
const tmbridge = require('..');

test('require() gives the same API as import', async () => {
  const esm = await import('../index.js');
  assert.equal(tmbridge.parseJunit, esm.parseJunit, 'one module instance, not a copy');
  const report = tmbridge.parseJunit('<testsuite name="s"><testcase name="t"><failure message="boom"/></testcase></testsuite>');
  assert.equal(report.counts.failed, 1);
  for (const target of ['rally', 'qtest', 'testrail']) assert.equal(typeof tmbridge[target].publish, 'function', target);
  assert.throws(() => tmbridge.parseJunit('<testsuite>'), (e) => e instanceof tmbridge.JunitError && e.code === 'junit.truncated');
});
