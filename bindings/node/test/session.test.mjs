import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as addon from '../index.js';
import * as wasm from '../../../pkg/node.js';
import { loadVectors } from '../../../tests/js/load-vectors.mjs';
import { driveTranscript, savesAfterWrites, transcripts } from '../../../tests/js/session-drive.mjs';
import { sessionSuite } from '../../../tests/js/session.suite.mjs';

sessionSuite('node addon', addon);

// A resumed publish re-checks what it may not have finished, which its transcript's
// own `resume` covers; these sessions keep nothing to re-check and go on exactly.
for (const name of ['session.replay.rally-link-case.json', 'session.replay.rally-defect.json']) it(`saved by the addon, resumed in WASM (and back): the same steps (${name})`, () => {
  const vector = transcripts(loadVectors()).find((v) => v.name === name);
  const expected = JSON.parse(vector.expected).ok.steps;
  const saves = savesAfterWrites(vector);
  assert.ok(saves.length >= 1, `${saves}`);
  for (const at of saves) {
    assert.deepEqual(driveTranscript(addon, vector, { resumeAt: at, resumeWith: wasm }).steps, expected, `addon -> wasm at ${at}`);
    assert.deepEqual(driveTranscript(wasm, vector, { resumeAt: at, resumeWith: addon }).steps, expected, `wasm -> addon at ${at}`);
  }
});
