// Times tmbridge's WASM package in headless Chromium over one JUnit file:
// `node browser_peers.mjs FILE`. Prints `tmbridge.wasm.chromium.readJunit seconds cases`.
// Drives Debian's Chromium as the browser tests do (tests/js/chromium.mjs: playwright-core,
// same launch flags) and serves pkg/ from 127.0.0.1 (tests/js/serve.mjs). The page loads
// the package (`await init()`), fetches the report whole into a Uint8Array, and only then
// times `readJunit(bytes)` visiting every test case, with performance.now().
import { readFile } from 'node:fs/promises';
import { launch, watchErrors } from '../tests/js/chromium.mjs';
import { serve } from '../tests/js/serve.mjs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node browser_peers.mjs FILE');
  process.exit(2);
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>tmbridge bench</title><link rel="icon" href="data:,">
<script type="module">
import init, { readJunit } from '/pkg/index.js';
try {
  await init();
  const bytes = new Uint8Array(await (await fetch('/bench/report.xml')).arrayBuffer());
  const start = performance.now();
  let cases = 0;
  for (const e of readJunit(bytes)) if (e.event === 'case') cases += 1;
  const seconds = (performance.now() - start) / 1000;
  window.__result = { seconds, cases, bytes: bytes.length };
} catch (e) {
  window.__result = { fatal: String(e && e.stack || e) };
}
</script>`;

const server = await serve({
  '/bench/index.html': async () => ({ type: 'text/html; charset=utf-8', body: PAGE }),
  '/bench/report.xml': async () => ({ type: 'application/xml', body: await readFile(file) }),
});
let browser;
try {
  browser = await launch();
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/bench/index.html`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 600_000, polling: 250 });
  const result = await page.evaluate(() => window.__result);
  if (result.fatal) throw new Error(`in the page: ${result.fatal}`);
  if (errors.length) throw new Error(`in the page: ${errors.join('; ')}`);
  console.log(`tmbridge.wasm.chromium.readJunit ${result.seconds.toFixed(3)} ${result.cases}`);
} finally {
  await browser?.close();
  await server.close();
}

