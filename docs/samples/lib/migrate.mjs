// What the migration guides' samples share: the same requests sent to the peer's app and to prom-http's, the
// peer's exposition taken from its own sample run in a process of its own (as it would run in production, with
// its own global registry), and the exposition read as series, so two of them can be compared label by label.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { get } from './check.mjs';

/** The requests both apps get: a route with a numeric id, one with a word, a 404, a hex id, doubled slashes. */
export const REQUESTS = ['/users/123?tab=posts', '/users/123', '/users/bob', '/nope/abc', '/orders/4f3a9c2e1d', '//users//42/'];

/** Sends {@link REQUESTS} to `url`, one after the other. */
export async function exercise(url) {
  for (const path of REQUESTS) await get(`${url}${path}`);
}

const harness = fileURLToPath(new URL('../harness.mjs', import.meta.url));

/** Runs the sample `file` (a "before" app of a guide) in a child process; the exposition it printed. */
export function peerExposition(file) {
  const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', harness, path],
      { env: { ...process.env, NODE_NO_WARNINGS: '1', SAMPLE_PRINT_EXPOSITION: '1' }, timeout: 30_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${file} failed: ${stderr}`)) : resolve(stdout)),
    );
  });
}

/** A "before" sample prints its exposition when another sample runs it for a comparison. */
export function printIfAsked(text) {
  if (process.env.SAMPLE_PRINT_EXPOSITION === '1') process.stdout.write(text);
}

/** The sample lines of `text` named exactly `name`: `[{ labels, value }]`. */
export function series(text, name) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const brace = line.indexOf('}');
    const labels = {};
    if (line[name.length] === '{') {
      for (const [, key, value] of line.slice(name.length + 1, brace).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    }
    out.push({ labels, value: Number(line.slice((brace === -1 ? name.length : brace + 1) + 1)) });
  }
  return out;
}

/** The label names of the series `name`, sorted (the union over its sample lines). */
export function labelNames(text, name) {
  const names = new Set(series(text, name).flatMap((s) => Object.keys(s.labels)));
  assert.ok(names.size > 0 || series(text, name).length > 0, `no series ${name}`);
  return [...names].sort();
}

/**
 * The series `name` as comparable strings, `label=value,…=value value` with the labels sorted, sorted; `map`
 * may rewrite a label set first (for a documented difference).
 */
export function seriesSet(text, name, map = (labels) => labels) {
  return series(text, name)
    .map(({ labels, value }) => {
      const mapped = map({ ...labels });
      return `${Object.keys(mapped)
        .sort()
        .map((k) => `${k}=${mapped[k]}`)
        .join(',')} ${value}`;
    })
    .sort();
}

/** The metric families of `text` (its `# TYPE` lines). */
export function families(text) {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
}
