import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every JavaScript sample of the README and of docs/ is run: each code block names, in an HTML comment on the
// line before it, the file under docs/samples/ that holds it verbatim together with what makes it runnable (an
// app around it, requests, and assertions on what the scrape then shows). A sample that drifts from its file,
// or a file that stops working, fails here. docs/samples/harness.mjs moves every server to a free port.
const root = fileURLToPath(new URL('..', import.meta.url));
const samplesDir = join(root, 'docs', 'samples');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const CODE = new Set(['js', 'mjs', 'cjs', 'javascript', 'ts', 'typescript']);
const MARKER = /^<!-- sample: (docs\/samples\/[\w.-]+) -->$/;

interface Block {
  page: string;
  line: number;
  lang: string;
  code: string;
  sample: string | undefined;
}

function blocks(page: string): Block[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    let before = i - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const marker = MARKER.exec((lines[before] ?? '').trim());
    out.push({ page, line: i + 1, lang: open[1] ?? '', code: lines.slice(i + 1, end).join('\n'), sample: marker?.[1] });
    i = end;
  }
  return out;
}

const all = pages.flatMap(blocks);
const code = all.filter((b) => CODE.has(b.lang));
const sampleFiles = readdirSync(samplesDir).filter((f) => f.endsWith('.mjs') && f !== 'harness.mjs');

function run(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', join(samplesDir, 'harness.mjs'), join(root, file)],
      { cwd: root, timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('docs samples', () => {
  it('every JavaScript block names its sample file, which holds it verbatim', () => {
    const problems: string[] = [];
    for (const b of code) {
      if (b.sample === undefined) problems.push(`${b.page}:${b.line} has no <!-- sample: docs/samples/NAME.mjs --> marker`);
      else if (!existsSync(join(root, b.sample))) problems.push(`${b.page}:${b.line} names ${b.sample}, which does not exist`);
      else if (!readFileSync(join(root, b.sample), 'utf8').includes(b.code)) problems.push(`${b.page}:${b.line} differs from ${b.sample}`);
    }
    expect(problems).toEqual([]);
    expect(code.length).toBeGreaterThan(10);
  });

  it('every sample file is shown by a page', () => {
    const shown = new Set(code.map((b) => b.sample?.replace('docs/samples/', '')));
    expect(sampleFiles.filter((f) => !shown.has(f))).toEqual([]);
  });

  // The samples import the built packages: the test script builds them first.
  const built = ['core', 'express', 'fastify'].every((p) => existsSync(join(root, 'packages', p, 'dist', 'index.js')));
  it.runIf(built).each(sampleFiles)('docs/samples/%s runs and its checks pass', { timeout: 70_000 }, async (file) => {
    const { code: exit, output } = await run(`docs/samples/${file}`);
    expect(output).not.toMatch(/AssertionError|Error:/);
    expect(exit).toBe(0);
  });
});
