// The WASM package in Node: the shared API suite, the conformance vectors, and the
// serde-wasm-bindgen path (callToValue) agreeing with the JSON path on every vector.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as tmbridge from '../../pkg/node.js';
// The raw exports of the module pkg/node.js instantiated (it is imported first).
import * as wasm from '../../pkg/web/tmbridge_wasm.js';
import { apiSuite } from './api.suite.mjs';
import { loadVectors } from './load-vectors.mjs';
import { assertAllVectors } from './run-vectors.mjs';
import { sessionSuite } from './session.suite.mjs';
import { rallySuite } from '../../bindings/node/test-support/rally.suite.mjs';
import { targetsSuite } from '../../bindings/node/test-support/targets.suite.mjs';
import { defectQtestSuite } from '../../bindings/node/test-support/defect-qtest.suite.mjs';

apiSuite('wasm in node', tmbridge);
sessionSuite('wasm in node', tmbridge);
rallySuite('wasm in node', tmbridge, new URL('../../pkg/node.js', import.meta.url).href);
targetsSuite('wasm in node', tmbridge);
defectQtestSuite('wasm in node', tmbridge);

it('wasm in node: every vector gives its expected bytes', () => {
  assertAllVectors('wasm in node', (op, input) => tmbridge.callJson(op, input));
});

it('wasm in node: callToValue (serde-wasm-bindgen) gives the same values as callJson', () => {
  const vectors = loadVectors();
  for (const v of vectors) {
    const viaJson = JSON.parse(wasm.callJson(v.op, v.input, null));
    assert.deepEqual(wasm.callToValue(v.op, v.input, null), viaJson, v.name);
  }
  assert.ok(vectors.length > 10);
});

it('wasm in node: a Uint8Array document goes beside the JSON as bytes', () => {
  const xml = new TextEncoder().encode('<testsuite name="b"><testcase name="t"/></testsuite>');
  const envelope = wasm.callToValue('junit.parse', '{}', xml);
  assert.equal(envelope.error, null);
  assert.equal(envelope.ok.suites[0].name, 'b');
  assert.deepEqual(envelope, JSON.parse(wasm.callJson('junit.parse', '{}', xml)));
});
