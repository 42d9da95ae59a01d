// One test suite for sessions in the JavaScript API, run against every implementation
// of it in Node (the addon, the WASM package): live sessions take exactly the steps of
// the recorded transcripts (tests/vectors/session.replay.rally-*.json).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadVectors } from './load-vectors.mjs';
import { driveTranscript, savesAfterWrites, startTranscript, transcripts } from './session-drive.mjs';

export function sessionSuite(label, t) {
  const all = transcripts(loadVectors());
  const named = (name) => all.find((v) => v.name === name);

  describe(`${label}: sessions`, () => {
    it('every kind the core offers has a transcript', () => {
      const kinds = [...new Set(all.map((v) => JSON.parse(v.input).start.kind))].sort();
      const offered = t.sessionKinds().map((k) => k.name).sort();
      assert.deepEqual(kinds, offered);
    });

    for (const vector of all) {
      it(`a live session takes the steps of ${vector.name}`, () => {
        const { steps, resumedAfter, kind } = driveTranscript(t, vector);
        const expected = JSON.parse(vector.expected).ok;
        assert.deepEqual(steps, expected.steps);
        assert.deepEqual(resumedAfter, expected.resumed_after);
        assert.equal(kind, JSON.parse(vector.input).start.kind);
      });
    }

    // A resumed publish re-checks what it may not have finished (its transcript's own
    // `resume` covers that); these sessions keep nothing to re-check and go on exactly.
    for (const name of ['session.replay.rally-link-case.json', 'session.replay.rally-defect.json']) {
      it(`saving after a write and resuming gives the same steps (${name})`, () => {
        const vector = named(name);
        const expected = JSON.parse(vector.expected).ok.steps;
        const at = savesAfterWrites(vector);
        assert.ok(at.length >= 1, `${at}`);
        for (const i of at) assert.deepEqual(driveTranscript(t, vector, { resumeAt: i }).steps, expected, `resumed at ${i}`);
      });
    }

    it('bad starts throw SessionError with the core code', () => {
      const attempt = (f) => {
        try {
          f();
        } catch (e) {
          return e;
        }
        assert.fail('did not throw');
      };
      let e = attempt(() => t.Session.start('rally.publsh', {}, { secrets: { api_key: 'k' } }));
      assert.ok(e instanceof t.SessionError && e instanceof t.TmbridgeError);
      assert.equal(e.name, 'SessionError');
      assert.equal(e.code, 'session.unknown_kind');
      assert.match(e.hint, /rally\.publish/);
      const connect = named('session.replay.rally-connect.json');
      assert.equal(attempt(() => startTranscript(t, connect, {})).code, 'session.no_credentials');
      assert.equal(attempt(() => t.Session.resume('{}', { secrets: { api_key: 'k' } })).code, 'session.invalid_saved');
      e = attempt(() => startTranscript(t, connect, { api_key: 'k', pasword: 'typo' }));
      assert.equal(e.code, 'session.bad_secrets');
      assert.ok(!e.message.includes('typo'));
      assert.equal(t.errorClassFor('sync.unexpected_response'), t.SessionError);
      assert.throws(() => new t.Session(), TypeError);
    });

    it('wrong host calls throw and leave the session usable', () => {
      const vector = named('session.replay.rally-connect.json');
      const answer = JSON.parse(vector.input).feed[0].answer;
      const session = startTranscript(t, vector);
      const step = session.next();
      assert.equal(step.step, 'send');
      assert.throws(() => session.receive(step.id + 100, answer), (e) => e instanceof t.TmbridgeError && /^(session|sync)\./.test(e.code));
      assert.throws(() => session.receive(step.id, { status: 200 }), (e) => e instanceof t.InputError && /kind/.test(e.message));
      assert.throws(() => session.receive(1.5, answer), TypeError);
      assert.throws(() => session.provideFile(1, {}), TypeError);
      assert.throws(() => session.provideFile(1, { data: 'x', error: 'both' }), TypeError);
      session.receive(step.id, answer);
      assert.equal(session.next().step, 'send');
      session.free();
      assert.throws(() => session.next(), /freed/);
    });

    it('secrets never appear in saved progress', () => {
      const vector = named('session.replay.rally-publish.json');
      const secret = 's3cr3t-key-from-js';
      const saves = [];
      const { steps } = driveTranscript(t, vector, { secrets: { api_key: secret }, onSave: (s) => saves.push(s) });
      assert.equal(steps.at(-1).step, 'done');
      assert.ok(saves.length > 5);
      for (const saved of saves) {
        assert.ok(!saved.includes(secret));
        assert.equal(JSON.parse(saved).format, 'tmbridge.session');
      }
      // The session did use it: it signs every request.
      for (const s of steps.filter((s) => s.step === 'send')) assert.ok(s.headers.some(([n, v]) => n === 'ZSESSIONID' && v === secret));
      const { config } = JSON.parse(vector.input).start.input;
      const basic = t.Session.start('rally.connect', { config }, { secrets: { username: 'ci', password: secret } });
      assert.ok(!basic.save().includes(secret));
      basic.free();
    });
  });
}
