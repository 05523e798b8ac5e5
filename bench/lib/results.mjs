// Where every bench script leaves its results: `<dir>/<name>.md` (the table) and `<name>.json` (the data, with
// when and on which Node it was measured).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The committed results, where full runs write. */
const RESULTS = new URL('../results', import.meta.url).pathname;

/**
 * Where a script writes: `--out` when given, else `bench/results`, except for a `--smoke` run, whose
 * one-second figures go to a temporary directory rather than over the published tables.
 */
export function resultsDir(args) {
  return args.out ?? (args.smoke ? join(tmpdir(), 'prom-http-bench-smoke') : RESULTS);
}

/** Writes the table and the data; returns the two paths. */
export function writeResults(dir, name, md, data) {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, name);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...data }, null, 2)}\n`);
  return [`${base}.md`, `${base}.json`];
}
