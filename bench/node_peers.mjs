// Times tmbridge in Node (the napi addon, or the WASM package with --wasm) and the
// parsers Node users pick instead, over one JUnit file: `node node_peers.mjs FILE [NAME]`.
// Prints one `name seconds cases` line per reader; each visits every test case once.
import { readFileSync, openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const [file, only] = process.argv.slice(2);

async function tmbridgeAddon() {
  const t = await import('../bindings/node/index.js');
  const fd = openSync(file, 'r');
  try {
    let n = 0;
    for (const e of t.readJunit(fd)) if (e.event === 'case') n += 1;
    return n;
  } finally {
    closeSync(fd);
  }
}

async function tmbridgeWasm() {
  const t = await import('../pkg/node.js');
  const fd = openSync(file, 'r');
  try {
    let n = 0;
    for (const e of t.readJunit(fd)) if (e.event === 'case') n += 1;
    return n;
  } finally {
    closeSync(fd);
  }
}

function casesOf(suites, visit) {
  for (const suite of [suites].flat()) {
    if (!suite) continue;
    for (const c of [suite.testcase ?? []].flat()) visit(c);
    casesOf(suite.testsuite ?? [], visit);
  }
}

async function fastXmlParser() {
  const { XMLParser } = require('fast-xml-parser');
  const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(file));
  let n = 0;
  casesOf(doc.testsuites?.testsuite ?? doc.testsuite, (c) => {
    void c['@_name'];
    n += 1;
  });
  return n;
}

async function xml2js() {
  const { parseStringPromise } = require('xml2js');
  const doc = await parseStringPromise(readFileSync(file, 'utf8'));
  let n = 0;
  const walk = (suites) => {
    for (const s of suites ?? []) {
      for (const c of s.testcase ?? []) {
        void c.$.name;
        n += 1;
      }
      walk(s.testsuite);
    }
  };
  walk(doc.testsuites ? doc.testsuites.testsuite : [doc.testsuite]);
  return n;
}

const READERS = [
  ['tmbridge.addon.readJunit', tmbridgeAddon],
  ['tmbridge.wasm.readJunit', tmbridgeWasm],
  ['fast-xml-parser', fastXmlParser],
  ['xml2js', xml2js],
];

for (const [name, reader] of READERS) {
  if (only && name !== only) continue;
  const start = performance.now();
  const cases = await reader();
  console.log(`${name} ${((performance.now() - start) / 1000).toFixed(3)} ${cases}`);
}
