// Renders icon.svg to the PNG sizes the manifest names, with Chromium (run after
// editing the SVG: `node pkg/extension/icons/render-icons.mjs`; the PNGs are committed).
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url);
const svg = readFileSync(new URL('icon.svg', here), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
try {
  for (const size of [16, 32, 48, 128]) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<style>html,body{margin:0;background:transparent}svg{width:${size}px;height:${size}px;display:block}</style>${svg}`);
    await page.screenshot({ path: new URL(`icon-${size}.png`, here).pathname, omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
