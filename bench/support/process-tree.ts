import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Run a command as a whole process and measure what a user would see: wall time (spawn to
 * exit, start-up included) and the peak resident memory of the process tree (the child and
 * all its descendants, e.g. esbuild's service process under tsx). The tree is sampled from
 * /proc every `intervalMs`; each process's own kernel high-water mark (VmHWM) is kept as
 * well, so a spike between samples still shows in `hwmSumMb` (an upper bound: the sum of
 * per-process peaks that may not have coincided).
 * Hand-rolled because no library in package.json reads /proc; /usr/bin/time -v sees only the
 * largest single process, not the tree.
 */
export interface TreeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
  peakRssMb: number;
  hwmSumMb: number;
  samples: number;
  processes: number;
}

function kb(status: string, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

export function runMeasured(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; intervalMs?: number } = {},
): Promise<TreeRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let peak = 0;
    let samples = 0;
    const hwm = new Map<number, number>();
    const sample = () => {
      if (child.pid === undefined) return;
      let sum = 0;
      for (const pid of descendants(child.pid)) {
        let status: string;
        try {
          status = readFileSync(`/proc/${pid}/status`, 'utf8');
        } catch {
          continue;
        }
        sum += kb(status, 'VmRSS');
        hwm.set(pid, Math.max(hwm.get(pid) ?? 0, kb(status, 'VmHWM')));
      }
      samples++;
      if (sum > peak) peak = sum;
    };
    const timer = setInterval(sample, opts.intervalMs ?? 50);
    child.once('spawn', sample);
    child.once('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearInterval(timer);
      const ms = performance.now() - t0;
      const hwmSum = [...hwm.values()].reduce((a, b) => a + b, 0);
      resolve({
        code,
        signal,
        ms,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        peakRssMb: Math.round(peak / 1024),
        hwmSumMb: Math.round(hwmSum / 1024),
        samples,
        processes: hwm.size,
      });
    });
  });
}
