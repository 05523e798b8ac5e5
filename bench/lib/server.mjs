// Starts a benchmark app as its own process and learns its port from the one JSON line it prints.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const live = new Set();

// The harness must never leave a server running, whatever way it ends.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(130);
  });
}

export function appFile(app) {
  return new URL(`../apps/${app}.mjs`, import.meta.url).pathname;
}

export function startApp(app, { timeoutMs = 15_000, execArgv = [] } = {}) {
  const child = spawn(process.execPath, ['--expose-gc', ...execArgv, appFile(app)], {
    env: { ...process.env, PORT: '0', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => live.delete(child));

  async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (why) => {
      clearTimeout(timer);
      stop();
      reject(new Error(`${app}: ${why}${stderr ? `\n${stderr}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no port announced within ${timeoutMs} ms`), timeoutMs);
    exited.then((code) => fail(`exited (${code}) before listening`));
    lines.once('line', (line) => {
      clearTimeout(timer);
      let port;
      try {
        port = JSON.parse(line).port;
      } catch {
        return fail(`first stdout line is not {"port": N}: ${line}`);
      }
      resolve({ app, port, url: `http://127.0.0.1:${port}`, child, stop, stderr: () => stderr });
    });
  });
}

export async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

export async function getText(url) {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

let ticksPerSecond;
/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux; null elsewhere). Throughput on a
 * shared machine swings with whatever else runs; CPU time per request barely does.
 */
export function cpuSeconds(pid) {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}
