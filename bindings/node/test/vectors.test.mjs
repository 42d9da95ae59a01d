// Conformance vectors through the Node addon: byte-identical envelopes.
import { it } from 'node:test';
import * as tmbridge from '../index.js';
import { assertAllVectors } from '../../../tests/js/run-vectors.mjs';

it('node addon: every vector gives its expected bytes', () => {
  assertAllVectors('node addon', (op, input) => tmbridge.callJson(op, input));
});
