// Reads tests/vectors/*.json in Node.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readVector } from './vectors.mjs';

export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

export function vectorFiles() {
  return readdirSync(VECTORS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadVectors() {
  return vectorFiles().map((f) => readVector(f, readFileSync(VECTORS_DIR + f, 'utf8')));
}
