// The host loop of a session, with a recorded transcript (a `session.replay` vector)
// standing in for HTTP and files. Shared by the Node runners and the browser page.

/** The transcripts among vectors: `session.replay` vectors that expect steps. */
export function transcripts(vectors) {
  return vectors.filter((v) => v.op === 'session.replay' && JSON.parse(v.expected).ok !== null);
}

/** Starts the transcript's session through `t.Session` (secrets may be replaced). */
export function startTranscript(t, vector, secrets) {
  const { start, secrets: recorded } = JSON.parse(vector.input);
  return t.Session.start(start.kind, start.input, { secrets: secrets ?? recorded, options: start.options });
}

/**
 * Drives a live session through the transcript. `resumeAt`: the index of a `save`
 * step where the host stops and goes on from the saved progress (through `resumeWith`,
 * another implementation of the API if given). `onSave` sees every saved string.
 */
export function driveTranscript(t, vector, { resumeAt = null, resumeWith = t, secrets, onSave = () => {} } = {}) {
  const input = JSON.parse(vector.input);
  const keys = secrets ?? input.secrets;
  const feed = [...input.feed];
  let session = startTranscript(t, vector, secrets);
  const steps = [];
  const resumedAfter = [];
  for (;;) {
    const step = session.next();
    steps.push(step);
    if (step.step === 'done') {
      if (feed.length !== 0) throw new Error(`${vector.name}: the session ended before the feed did`);
      session.free();
      return { steps, resumedAfter, kind: session.kind };
    }
    if (step.step === 'wait') continue;
    if (step.step === 'save') {
      const saved = session.save();
      onSave(saved);
      if (steps.length - 1 === resumeAt) {
        session.free();
        session = resumeWith.Session.resume(saved, { secrets: keys });
      }
      continue;
    }
    const item = feed.shift();
    if (item === 'resume') {
      // The host dies after sending: it goes on from the saved progress.
      const saved = session.save();
      session.free();
      session = t.Session.resume(saved, { secrets: keys });
      resumedAfter.push(steps.length - 1);
    } else if (step.step === 'send') {
      session.receive(step.id, item.answer);
    } else if ('file' in item) {
      session.provideFile(step.id, { data: new TextEncoder().encode(item.file) });
    } else {
      session.provideFile(step.id, { error: item.file_error });
    }
  }
}

/** The `save` steps right after a write was answered: a resumed session goes on exactly. */
export function savesAfterWrites(vector) {
  const expected = JSON.parse(vector.expected).ok.steps;
  const feed = [...JSON.parse(vector.input).feed];
  const answers = new Map();
  expected.forEach((s, i) => {
    if (s.step === 'send' || s.step === 'read') answers.set(i, feed.shift());
  });
  return expected
    .map((s, i) => i)
    .filter((i) => {
      const before = expected[i - 1];
      const answer = answers.get(i - 1);
      return (
        expected[i].step === 'save' &&
        before?.step === 'send' &&
        before.method !== 'GET' &&
        answer !== 'resume' &&
        answer?.answer.kind === 'answered'
      );
    });
}
