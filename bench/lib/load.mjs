// Fixed-URL load from a separate process: wrk when it is installed (it takes less CPU from the server on a
// small machine), autocannon's CLI otherwise.
import { execFile, execFileSync } from 'node:child_process';
import { onCpus } from './server.mjs';

const AUTOCANNON = new URL('../node_modules/autocannon/autocannon.js', import.meta.url).pathname;
const WRK_SCRIPT = new URL('./wrk-json.lua', import.meta.url).pathname;

export function defaultTool() {
  try {
    execFileSync('which', ['wrk'], { stdio: 'ignore' });
    return 'wrk';
  } catch {
    return 'autocannon';
  }
}

function run(command, commandArgs, timeoutMs, cpus) {
  const [cmd, args] = onCpus(cpus, command, commandArgs);
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * `headers`: sent with every request.
 * @returns {Promise<{ rps: number, p99ms: number, requests: number, errors: number }>}
 */
export async function load({ tool, url, connections, duration, threads = 1, cpus = null, headers = {} }) {
  const timeoutMs = (duration + 30) * 1000;
  const entries = Object.entries(headers);
  if (tool === 'wrk') {
    const h = entries.flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    const out = await run('wrk', [`-t${threads}`, `-c${connections}`, `-d${duration}s`, ...h, '-s', WRK_SCRIPT, url], timeoutMs, cpus);
    const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const r = JSON.parse(line);
    const e = r.errors;
    return {
      rps: r.requests / (r.duration_us / 1e6),
      p99ms: r.p99_us / 1000,
      requests: r.requests,
      errors: e.connect + e.read + e.write + e.status + e.timeout,
    };
  }
  const h = entries.flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  const out = await run(
    process.execPath,
    [AUTOCANNON, '--json', '-c', String(connections), '-d', String(duration), ...h, url],
    timeoutMs,
    cpus,
  );
  const r = JSON.parse(out.slice(out.indexOf('{')));
  return {
    rps: r.requests.total / r.duration,
    p99ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}
