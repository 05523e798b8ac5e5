// Where every bench script leaves its results: `<dir>/<name>.md` (the table) and `<name>.json` (the data, with
// when and on which Node it was measured).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the table and the data; returns the two paths. */
export function writeResults(dir, name, md, data) {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, name);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...data }, null, 2)}\n`);
  return [`${base}.md`, `${base}.json`];
}
