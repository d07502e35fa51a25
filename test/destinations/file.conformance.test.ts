import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dec, sum } from '../../src/domain/money';
import { describeDestinationConformance, type RemoteDocument } from './conformance';

/**
 * The file destination: a draft is `<key>.json` (connectors/file/README.md). It has no approval
 * step, no network and no tax computation, so the approval, fault and tax cases are skipped.
 */
let dir = '';
let writes = 0;
let seen = new Map<string, number>();

/** Files written since the last look, by modification time (a rewrite counts as a write). */
function countWrites(): number {
  for (const f of readdirSync(dir)) {
    const at = statSync(path.join(dir, f)).mtimeMs;
    if (seen.get(f) !== at) {
      seen.set(f, at);
      writes++;
    }
  }
  return writes;
}

describeDestinationConformance('file', {
  kind: 'file',
  async start() {
    dir = mkdtempSync(path.join(tmpdir(), 'hb-file-dest-'));
    writes = 0;
    seen = new Map();
  },
  async stop() {
    rmSync(dir, { recursive: true, force: true });
  },
  destinationYaml: () => `  - id: dest\n    kind: file\n    dir: ${dir}\n    formats: [json]`,
  env: () => ({}),
  async documents(key): Promise<RemoteDocument[]> {
    const file = path.join(dir, `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
    let doc: { key: string; status: string; net: string; lines: { net: string }[] };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
    } catch {
      return [];
    }
    const net = sum(doc.lines.map((l) => l.net));
    return [
      {
        id: doc.key,
        type: dec(doc.net).isNegative() ? 'credit-note' : 'invoice',
        status: doc.status,
        net: net.toFixed(2),
        lines: doc.lines.length,
      },
    ];
  },
  writes: () => countWrites(),
  clearFaults() {},
});
