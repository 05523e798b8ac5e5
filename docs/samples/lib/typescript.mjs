// What runs the TypeScript samples (NestJS apps, written with decorators): a sample file holds each source file
// of the app in a block comment, `/* name.ts`, the code verbatim as the page shows it, then `*/` alone on a line.
// They are compiled as the Nest CLI compiles them (legacy decorators with their metadata) into a temporary
// directory, and the entry file is imported.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const FILE = /^\/\* ([\w.-]+\.ts)\n([\s\S]*?)\n\*\/$/gm;

const compilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
};

/**
 * The temporary directory is outside the repository, where bare specifiers do not resolve: they are replaced
 * by what they resolve to from here (the repository's node_modules, and the built prom-http packages).
 */
function resolveBare(js) {
  return js.replace(/(\bfrom\s*|\bimport\s*)(['"])([^'"./][^'"]*)\2/g, (_, keyword, quote, specifier) => {
    return `${keyword}${quote}${import.meta.resolve(specifier)}${quote}`;
  });
}

/**
 * Compiles the TypeScript files that the sample at `sampleUrl` holds and imports `entry` (e.g. 'main.ts'). A file
 * the sample does not hold is taken from the first of the samples named in `sharedFrom` (beside it) that does: the
 * page shows the app's other files once.
 */
export async function runTypeScript(sampleUrl, entry, sharedFrom = []) {
  const own = [...readFileSync(fileURLToPath(sampleUrl), 'utf8').matchAll(FILE)];
  const files = [...own];
  for (const other of sharedFrom) {
    for (const file of readFileSync(fileURLToPath(new URL(other, sampleUrl)), 'utf8').matchAll(FILE)) {
      if (!files.some(([, name]) => name === file[1])) files.push(file);
    }
  }
  if (!files.some(([, name]) => name === entry)) throw new Error(`${sampleUrl} holds no /* ${entry} block`);
  const dir = mkdtempSync(join(tmpdir(), 'prom-http-sample-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const [, name, source] of files) {
    const { outputText, diagnostics } = ts.transpileModule(source, { compilerOptions, fileName: name, reportDiagnostics: true });
    if (diagnostics?.length) throw new Error(`${name}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`);
    writeFileSync(join(dir, name.replace(/\.ts$/, '.js')), resolveBare(outputText));
  }
  return import(pathToFileURL(join(dir, entry.replace(/\.ts$/, '.js'))).href);
}

/** The servers the app started (see harness.mjs), once it started one: a Nest app listens after its bootstrap. */
export async function started() {
  for (let i = 0; i < 500; i++) {
    const servers = await globalThis.listening();
    if (servers.length > 0) return servers;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the app started no server within 10 s');
}
