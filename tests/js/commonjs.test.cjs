// CommonJS scripts load the WASM package with require() (Node 20.19+ loads an ES
// module through require): the package's Node entry, the same API as import.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

test('require() of the WASM package gives the same API as import', async () => {
  const tmbridge = require(path.join(__dirname, '../../pkg/node.js'));
  const esm = await import('../../pkg/node.js');
  assert.equal(tmbridge.parseJunit, esm.parseJunit);
  const report = tmbridge.parseJunit('<testsuite name="s"><testcase name="t"/></testsuite>');
  assert.equal(report.counts.passed, 1);
  for (const target of ['rally', 'qtest', 'testrail']) assert.equal(typeof tmbridge[target].publish, 'function', target);
  assert.throws(() => tmbridge.parseJunit('<testsuite>'), (e) => e instanceof tmbridge.JunitError);
});
