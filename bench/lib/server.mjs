// Starts a benchmark app as its own process and learns its port from the one JSON line it prints.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
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

/**
 * Which CPUs the server and the load generator run on. On a machine with two or more CPUs each gets its own
 * (the server the last CPU, the load generator the others), so they do not take turns on one core and the
 * server's throughput reflects its own cost per request; null when pinning is off or impossible.
 */
export function cpuPlan(mode = 'auto') {
  if (mode === 'off') return null;
  const count = os.cpus().length;
  let taskset = true;
  try {
    execFileSync('which', ['taskset'], { stdio: 'ignore' });
  } catch {
    taskset = false;
  }
  if (count < 2 || !taskset) {
    if (mode === 'on') throw new Error('--pin on needs taskset and at least 2 CPUs');
    return null;
  }
  return { server: String(count - 1), load: count === 2 ? '0' : `0-${count - 2}` };
}

/** `[cmd, args]` run on `cpus` (a taskset CPU list) when given. */
export function onCpus(cpus, cmd, args) {
  return cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

/**
 * Starts `app` in its own Node process. `launcher`: a command line that runs Node (e.g. valgrind and its options);
 * like taskset, it must exec or trace Node in place, so that the child's pid is the server's. `onTrace`: called
 * with each line V8's tracing flags print (they start with `[pid:isolate]`). `env`: added to the server's environment.
 */
export function startApp(app, { timeoutMs = 15_000, execArgv = [], cpus = null, launcher = [], onTrace = null, env = {} } = {}) {
  // taskset execs the command: the child's pid is the server's.
  const [first, ...rest] = [...launcher, process.execPath, '--expose-gc', ...execArgv, appFile(app)];
  const [cmd, argv] = onCpus(cpus, first, rest);
  const child = spawn(cmd, argv, {
    env: { ...process.env, ...env, PORT: '0', NODE_ENV: 'production' },
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
    let announced = false;
    lines.on('line', (line) => {
      // V8's tracing (--trace-gc-nvp and the like) writes to stdout too: handed to `onTrace`, before the port or after.
      if (line.startsWith('[')) return onTrace?.(line);
      if (announced) return;
      announced = true;
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
