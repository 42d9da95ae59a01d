// A static file server on 127.0.0.1 for the browser tests: serves pkg/ and tests/ from
// the repository root, with the right MIME types (application/wasm for WASM).
import { createServer } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
};

/** Starts the server; resolves to `{ url, close }`. `routes` maps extra paths to handlers. */
export function serve(routes = {}) {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (routes[path]) {
        const { type, body } = await routes[path](req);
        res.writeHead(200, { 'content-type': type });
        res.end(body);
        return;
      }
      if (path === '/tests/vectors/index.json') {
        const files = (await readdir(join(ROOT, 'tests/vectors'))).filter((f) => f.endsWith('.json') && f !== 'index.json').sort();
        res.writeHead(200, { 'content-type': TYPES['.json'] });
        res.end(JSON.stringify(files));
        return;
      }
      const rel = normalize(path).replace(/^\/+/, '');
      if (!/^(pkg|tests)\//.test(rel) || rel.includes('..')) {
        res.writeHead(404).end();
        return;
      }
      const body = await readFile(join(ROOT, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
