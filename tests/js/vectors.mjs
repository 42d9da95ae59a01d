// Conformance vectors for JavaScript runners (Node and the browser): the same three
// steps as core/tests/support/vector_text.rs. Take a top-level value's raw text, minify
// it, compare bytes. Parsing and re-serialising would reorder integer-like keys.

function skipWs(t, i) {
  while (i < t.length && ' \t\n\r'.includes(t[i])) i++;
  return i;
}

function stringEnd(t, i) {
  i++;
  while (i < t.length) {
    if (t[i] === '\\') i += 2;
    else if (t[i] === '"') return i + 1;
    else i++;
  }
  throw new Error('unterminated string');
}

function valueEnd(t, i) {
  const c = t[i];
  if (c === '"') return stringEnd(t, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    while (i < t.length) {
      const d = t[i];
      if (d === '"') {
        i = stringEnd(t, i);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new Error('unterminated value');
  }
  while (i < t.length && !',}] \t\n\r'.includes(t[i])) i++;
  return i;
}

/** The raw text of a top-level key's value in a JSON object text, or null. */
export function rawValue(text, key) {
  let i = skipWs(text, 0);
  if (text[i] !== '{') throw new Error('a vector is a JSON object');
  i++;
  for (;;) {
    i = skipWs(text, i);
    if (text[i] !== '"') return null;
    const keyEnd = stringEnd(text, i);
    const name = text.slice(i + 1, keyEnd - 1);
    i = skipWs(text, keyEnd);
    if (text[i] !== ':') throw new Error('expected :');
    const start = skipWs(text, i + 1);
    const end = valueEnd(text, start);
    if (name === key) return text.slice(start, end);
    i = skipWs(text, end);
    if (text[i] !== ',') return null;
    i++;
  }
}

/** The JSON text without whitespace outside strings. */
export function minify(json) {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const c of json) {
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!' \t\n\r'.includes(c)) {
      out += c;
    }
  }
  return out;
}

/** `{ name, op, input, expected }` of a vector file's text; input and expected are JSON text. */
export function readVector(name, text) {
  const op = JSON.parse(rawValue(text, 'op'));
  const rawInput = rawValue(text, 'input');
  const input = rawInput !== null ? rawInput : JSON.parse(rawValue(text, 'input_text'));
  const expected = rawValue(text, 'expected');
  if (expected === null) throw new Error(`${name}: no expected (run the Rust runner with UPDATE_VECTORS=1)`);
  return { name, op, input, isJson: rawInput !== null, expected: minify(expected) };
}

/** Runs vectors through `callJson(op, inputText) -> string`; returns the ones that differ. */
export function runVectors(vectors, callJson) {
  const failures = [];
  for (const v of vectors) {
    let actual;
    try {
      actual = callJson(v.op, v.input);
    } catch (e) {
      actual = `threw: ${e && e.stack ? e.stack : e}`;
    }
    if (actual !== v.expected) failures.push({ name: v.name, actual, expected: v.expected });
  }
  return { total: vectors.length, passed: vectors.length - failures.length, failures };
}

/** Where two texts first differ, for a readable failure. */
export function firstDifference(actual, expected) {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  return `at ${i}:\n  actual:   …${actual.slice(Math.max(0, i - 60), i + 60)}\n  expected: …${expected.slice(Math.max(0, i - 60), i + 60)}`;
}
