import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as addon from '../index.js';
import * as wasm from '../../../pkg/node.js';
import { loadVectors } from '../../../tests/js/load-vectors.mjs';
import { driveTranscript, savesAfterWrites, transcripts } from '../../../tests/js/session-drive.mjs';
import { sessionSuite } from '../../../tests/js/session.suite.mjs';

sessionSuite('node addon', addon);

it('saved by the addon, resumed in WASM (and back): the same steps', () => {
  const vector = transcripts(loadVectors()).find((v) => v.name === 'session.replay.rally-publish.json');
  const expected = JSON.parse(vector.expected).ok.steps;
  for (const at of savesAfterWrites(vector)) {
    assert.deepEqual(driveTranscript(addon, vector, { resumeAt: at, resumeWith: wasm }).steps, expected, `addon -> wasm at ${at}`);
    assert.deepEqual(driveTranscript(wasm, vector, { resumeAt: at, resumeWith: addon }).steps, expected, `wasm -> addon at ${at}`);
  }
});
