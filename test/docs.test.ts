import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The user's pages: the README and every page under docs/. Their links must resolve and the README must stay
// a page a user reads, not a report.
const root = fileURLToPath(new URL('..', import.meta.url));
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a page: one per heading, repeated headings numbered as GitHub numbers them. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Markdown links `[text](target)` outside code, with their line numbers. */
function links(text: string): Array<{ target: string; line: number }> {
  const out: Array<{ target: string; line: number }> = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) return;
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const m of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1] as string, line: i + 1 });
  });
  return out;
}

describe('docs', () => {
  it('slug() makes the anchors GitHub makes', () => {
    expect(slug('Multi-process: `node:cluster`')).toBe('multi-process-nodecluster');
    expect(slug('The route label (`groupBy`)')).toBe('the-route-label-groupby');
  });

  it('the README is at most 500 lines', () => {
    const text = readFileSync(join(root, 'README.md'), 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    expect(lines).toBeLessThanOrEqual(500);
  });

  it.each(pages)('every link of %s resolves (files and #anchors)', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    const broken: string[] = [];
    for (const { target, line } of links(text)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const path = file === '' ? join(root, page) : resolve(dirname(join(root, page)), file);
      if (!existsSync(path)) {
        broken.push(`${page}:${line} ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && path.endsWith('.md') && !anchors(readFileSync(path, 'utf8')).has(anchor)) {
        broken.push(`${page}:${line} ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
