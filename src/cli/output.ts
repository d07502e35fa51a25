import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import type { Progress } from '../runners/inline.runner';

export interface Out {
  /** Machine-readable mode: exactly one JSON document on stdout. */
  json: boolean;
  print(text: string): void;
  table(head: string[], rows: Array<Array<string | number | null | undefined>>, opts?: { alignRight?: number[] }): void;
  document(value: unknown): void;
}

export function createOut(json: boolean, stream: NodeJS.WritableStream = process.stdout): Out {
  return {
    json,
    print(text) {
      if (!json) stream.write(`${text}\n`);
    },
    table(head, rows, opts) {
      if (json) return;
      const t = new Table({
        head,
        style: { head: [], border: [] },
        colAligns: head.map((_, i) => (opts?.alignRight?.includes(i) ? 'right' : 'left')),
      });
      for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
      stream.write(`${t.toString()}\n`);
    },
    document(value) {
      if (json) stream.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

/** Progress bars on stderr, only when a person is watching (a TTY) and not in --json mode. */
export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { phase() {}, update() {}, done() {} };
  let bar: cliProgress.SingleBar | null = null;
  return {
    phase(label) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(22)} {value} records`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar.start(0, 0);
    },
    update(count) {
      bar?.update(count);
    },
    done() {
      bar?.stop();
      bar = null;
    },
  };
}
