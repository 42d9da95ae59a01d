// The node:test body shared by the Node runners of the vectors (addon, WASM in Node).
import assert from 'node:assert/strict';
import { loadVectors } from './load-vectors.mjs';
import { firstDifference, runVectors } from './vectors.mjs';

export function assertAllVectors(label, callJson) {
  const vectors = loadVectors();
  assert.ok(vectors.length > 0, 'no vectors found');
  const result = runVectors(vectors, callJson);
  const report = result.failures.map((f) => `${f.name}: ${firstDifference(f.actual, f.expected)}`).join('\n');
  assert.equal(result.failures.length, 0, `${label}: ${result.failures.length} of ${result.total} vectors differ\n${report}`);
  console.log(`${label}: ${result.passed} of ${result.total} vectors byte-identical`);
  return result;
}
