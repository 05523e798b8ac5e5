// What bench/gc.mjs reads of V8's --trace-gc-nvp output: one line per collection.

/** One line of --trace-gc-nvp: `[pid:isolate]  N ms: pause=2.6 mutator=80.1 gc=s ... promoted=144128 ...`. */
export function parseTraceLine(line) {
  const fields = {};
  for (const m of line.matchAll(/ ([a-z_.]+)=([^ ]+)/g)) fields[m[1]] = m[2];
  if (fields.gc === undefined || fields.pause === undefined) return null;
  return { kind: fields.gc, pause: Number(fields.pause), promoted: Number(fields.promoted ?? 0) };
}

/** Sums collections of one window: `gc=s` are scavenges, `gc=mc` (and `mmc`, under memory pressure) mark-compacts. */
export function sumCollections(events) {
  const sum = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0, promotedBytes: 0 };
  for (const e of events) {
    if (e.kind === 's') {
      sum.scavenges++;
      sum.scavengeMs += e.pause;
      sum.promotedBytes += e.promoted;
    } else if (e.kind === 'mc' || e.kind === 'mmc') {
      sum.markCompacts++;
      sum.markCompactMs += e.pause;
    }
  }
  return sum;
}
