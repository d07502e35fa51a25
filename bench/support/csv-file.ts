import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Write a CSV file row by row with back-pressure, so a million-row file never exists in memory.
 * `row(i)` returns the cells of data row i (0-based); cells are quoted only when they contain
 * the delimiter, a quote or a line break. Returns the bytes written.
 */
export async function writeCsvFile(
  path: string,
  opts: { header: readonly string[]; rows: number; row: (i: number) => readonly string[]; delimiter?: string; bom?: boolean },
): Promise<number> {
  const d = opts.delimiter ?? ',';
  const needsQuote = (s: string) => s.includes(d) || s.includes('"') || s.includes('\n') || s.includes('\r');
  const line = (cells: readonly string[]) => `${cells.map((c) => (needsQuote(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(d)}\n`;
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write((opts.bom ? '\uFEFF' : '') + line(opts.header));
  // Lines are joined in chunks: one write call per row would dominate generation time.
  const CHUNK = 2000;
  for (let from = 0; from < opts.rows; from += CHUNK) {
    let text = '';
    const to = Math.min(opts.rows, from + CHUNK);
    for (let i = from; i < to; i++) text += line(opts.row(i));
    await write(text);
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
