// tmbridge-wasm has the same API and types as the `tmbridge` Node addon; tmbridge.d.ts
// is a copy of bindings/node/index.d.ts made at build time.
export * from './tmbridge.js';
import { init } from './tmbridge.js';
export default init;
