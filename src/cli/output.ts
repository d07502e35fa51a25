import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import type { Progress } from '../runners/inline.runner';
import { EXIT, exitCodeOf, formatFailure, type CliFailure } from './failure';

export interface Out {
  /** Machine-readable mode: exactly one JSON document on stdout, written by `end`. */
  json: boolean;
  print(text: string): void;
  table(head: string[], rows: Array<Array<string | number | null | undefined>>, opts?: { alignRight?: number[] }): void;
  /** The command's result: the fields of the one JSON document (after `ok`, and `error` on failure). */
  document(value: object): void;
  /**
   * The command failed: the JSON document becomes `{ ok: false, error, ...document }`; in text
   * mode the failure goes to stderr. The first failure is kept.
   */
  fail(failure: CliFailure): void;
  /**
   * The command is over: in JSON mode write the one document, `ok` true only when nothing
   * failed. A thrown error is passed in and replaces a partial document. Returns the exit code.
   */
  end(code: number, thrown?: CliFailure): number;
}

export function createOut(
  json: boolean,
  stream: NodeJS.WritableStream = process.stdout,
  errStream: NodeJS.WritableStream = process.stderr,
): Out {
  let doc: object | undefined;
  let failure: CliFailure | undefined;
  let ended = false;
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
      doc = value;
    },
    fail(f) {
      failure ??= f;
      if (!json) errStream.write(`${formatFailure(f)}\n`);
    },
    end(code, thrown) {
      if (thrown) {
        // Whatever the command had gathered is incomplete: the document is the error alone.
        failure = thrown;
        doc = undefined;
        if (!json) errStream.write(`${formatFailure(thrown)}\n`);
      }
      const exit = failure ? Math.max(code, exitCodeOf(failure)) : code;
      if (json && !ended) {
        ended = true;
        const { ok: _ok, error: _error, ...rest } = (doc ?? {}) as Record<string, unknown>;
        const error = failure ?? (exit === EXIT.ok ? undefined : { code: 'failed' as const, message: `exit code ${exit}` });
        stream.write(`${JSON.stringify({ ok: !error, ...(error ? { error } : {}), ...rest }, null, 2)}\n`);
      }
      return exit;
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
