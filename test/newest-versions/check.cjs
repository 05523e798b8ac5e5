'use strict';
/**
 * What the check scripts share: an exposition parser, value checks that print one line each and keep going (so
 * a run lists every failure, not only the first), and the exit code.
 */

let failures = 0;
let known = 0;

/** The samples of a Prometheus text exposition: `{ name, labels, value }`. */
function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
function value(samples, name, labels) {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/**
 * Prints `ok` or `FAIL` for `what`, comparing as JSON. With `knownIssue` (a defect found here and reported, not
 * yet fixed), a mismatch prints `KNOWN` and does not fail the run, and a match fails it, so the marker is removed
 * once the defect is fixed.
 */
function expectEqual(what, actual, expected, knownIssue) {
  const same = JSON.stringify(actual) === JSON.stringify(expected);
  const got = same ? '' : `: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  if (knownIssue === undefined) {
    if (!same) failures++;
    console.log(`${same ? 'ok  ' : 'FAIL'} ${what}${got}`);
  } else if (same) {
    failures++;
    console.log(`FAIL ${what}: passes now, remove its known-issue marker (${knownIssue})`);
  } else {
    known++;
    console.log(`KNOWN ${what}${got} (${knownIssue})`);
  }
}

/** Marks a failure that is not a comparison (an exception of the script itself). */
function fail(what, error) {
  failures++;
  console.log(`FAIL ${what}: ${error?.stack ?? String(error)}`);
}

/** Sends the requests one after the other; each `[path, times]`. Returns the statuses seen, by path. */
async function send(base, requests) {
  const statuses = {};
  for (const [path, times] of requests) {
    for (let i = 0; i < times; i++) {
      const response = await fetch(base + path, { headers: { 'accept-encoding': 'gzip' } });
      await response.arrayBuffer();
      statuses[path] = response.status;
    }
  }
  return statuses;
}

/**
 * Checks the default metrics after `send`: every request of `expected` (`{ route, status, count, exception }`)
 * counted once in the request counter and the duration histogram, an exception only where one was expected,
 * nothing else recorded (not the scrape itself), and no request left in progress.
 */
function checkDefaults(samples, expected) {
  for (const { route, status, count, exception } of expected) {
    const labels = { method: 'GET', path: route, status: String(status) };
    expectEqual(`http_request_total ${route} ${status}`, value(samples, 'http_request_total', labels), count);
    expectEqual(
      `http_request_duration_seconds_count ${route} ${status}`,
      value(samples, 'http_request_duration_seconds_count', labels),
      count,
    );
    expectEqual(
      `http_request_exceptions_total ${route} ${status}`,
      value(samples, 'http_request_exceptions_total', labels),
      exception ? count : undefined,
    );
  }
  const total = (name) => samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
  const sent = expected.reduce((sum, e) => sum + e.count, 0);
  expectEqual('http_request_total sums to the requests sent (each once, the scrape not at all)', total('http_request_total'), sent);
  expectEqual(
    'http_request_exceptions_total sums to the exceptions',
    total('http_request_exceptions_total'),
    expected.filter((e) => e.exception).reduce((sum, e) => sum + e.count, 0),
  );
  expectEqual('http_requests_in_progress is 0', total('http_requests_in_progress'), 0);
}

/** Scrapes `base + path` and returns the samples (fetch undoes any content encoding). */
async function scrape(base, path = '/metrics') {
  const response = await fetch(base + path, { headers: { 'accept-encoding': 'gzip' } });
  expectEqual(`GET ${path} answers 200`, response.status, 200);
  return { samples: parse(await response.text()), encoding: response.headers.get('content-encoding') };
}

function done() {
  const knownNote = known === 0 ? '' : `, ${known} known issue(s)`;
  console.log(failures === 0 ? `all checks passed${knownNote}` : `${failures} check(s) failed${knownNote}`);
  process.exit(failures === 0 ? 0 : 1);
}

module.exports = { parse, value, expectEqual, fail, send, checkDefaults, scrape, done };
