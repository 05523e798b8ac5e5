// What the docs samples use to check themselves: requests to the servers they started, and assertions on the
// exposition. Kept out of the samples' shown part, so a reader sees only the code a user writes.
import assert from 'node:assert/strict';

/** GET `url`; its status and body. */
export async function get(url, headers = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, text: await response.text() };
}

/** The exposition at `url`, which must answer 200. */
export async function scrape(url, headers = {}) {
  const { status, text } = await get(url, headers);
  assert.equal(status, 200, `GET ${url} answered ${status}: ${text}`);
  return text;
}

/** `text` has a sample line that starts with `series` (name and labels) and has the value `value`. */
export function hasSample(text, series, value) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `no sample ${series} in:\n${text}`);
  if (value !== undefined) assert.equal(Number(line.slice(series.length + 1)), value, line);
}

/** `text` has no sample line of `name` (with any labels). */
export function hasNoSample(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  assert.equal(line, undefined, `unexpected sample: ${line}`);
}

/** The sample passed: end the process (its servers and timers would keep it alive). */
export function done() {
  process.exit(0);
}
