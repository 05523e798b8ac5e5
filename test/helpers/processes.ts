// The child processes of an end-to-end test (apps, Prometheus, a Pushgateway), with their output kept for the
// error that says what never happened.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Proc {
  name: string;
  child: ChildProcess;
  output: string;
  exited: Promise<number | null>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The processes one test file started; `stopAll` in its `afterAll`. */
export class Processes {
  readonly procs: Proc[] = [];

  start(name: string, command: string, args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = { name, child, output: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
    child.stdout?.on('data', (d: Buffer) => {
      proc.output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      proc.output += d.toString();
    });
    this.procs.push(proc);
    return proc;
  }

  /** Polls `probe` until it returns something other than undefined; the error names what never happened. */
  async eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        last = error;
      }
      await sleep(250);
    }
    const logs = this.procs.map((p) => `--- ${p.name} (exit ${p.child.exitCode})\n${p.output.slice(-2000)}`).join('\n');
    throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}\n${logs}`);
  }

  /**
   * The port `proc` says it listens on: every server here listens on port 0, as a port picked by the test and
   * released is free only until something else on the machine takes it.
   */
  listeningPort(proc: Proc, listening: RegExp): Promise<number> {
    return this.eventually(`${proc.name} listening`, async () => {
      const match = listening.exec(proc.output);
      return match === null ? undefined : Number(match[1]);
    });
  }

  stopAll(): Promise<Array<number | null>> {
    return Promise.all(this.procs.map(stop));
  }
}

/** SIGTERM, then SIGKILL after 15 s; resolves with the exit code. */
export async function stop(proc: Proc): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
  proc.child.kill('SIGTERM');
  // Later than the apps' own 10 s limit on shutdown, so that an app that hit it reports its exit code (1).
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

/** `url` answers 2xx (its body read): true, else undefined (for `eventually`). */
export async function ok(url: string): Promise<true | undefined> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.ok ? true : undefined;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query of the Prometheus at `prometheusUrl`: its vector. */
export async function promQuery(prometheusUrl: string, expr: string): Promise<PromSample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${expr}: ${body.error ?? res.status}`);
  if (body.data.resultType !== 'vector') throw new Error(`${expr}: a ${body.data.resultType}, not a vector`);
  return body.data.result;
}

/** The Prometheus log line that says where it listens. */
export const PROMETHEUS_LISTENING = /msg="Listening on" address=[^\s]*:(\d+)/;
