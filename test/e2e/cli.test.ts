import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectWithMessage } from '../support/runner';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/hourbridge.js');

/** The README's first command, run as a user would: the real bin, the bundled example, a fresh directory. */
// Each step spawns the real CLI (tsx start-up + the embedded ledger): give a loaded machine room.
describe('hourbridge CLI on the bundled example (embedded ledger)', () => {
  let dir: string;
  const env = { ...process.env, DATABASE_URL: '', HOURBRIDGE_LEDGER_URL: '', HOURBRIDGE_LOG_LEVEL: 'warn' };
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const sync = (cmd = 'sync') => {
    const r = run(cmd, '--config', 'config/example.yaml', '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as {
      summary: Record<string, number>;
      invoices: Array<{ key: string; total: string; hours: string; status: string; currency: string; client: string; period: string }>;
    };
  };
  const csv = () => path.join(dir, 'example/hours.csv');
  const editCsv = (fn: (lines: string[]) => string[]) => writeFileSync(csv(), fn(readFileSync(csv(), 'utf8').split('\n')).join('\n'));
  const invoiceFile = (key: string) => path.join(dir, 'out', `${key}.json`);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-e2e-'));
    cpSync(path.join(root, 'config'), path.join(dir, 'config'), { recursive: true });
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Given a fresh clone When sync runs Then every row is counted once and the example invoices are drafted with exact totals', () => {
    const result = sync();
    const s = result.summary;
    expect(s).toMatchObject({ read: 14, accepted: 10, unchanged: 0, quarantined: 4, invoicesDrafted: 3, invoicesUpdated: 0, pushFailed: 0 });
    expect(s.read).toBe(s.accepted! + s.unchanged! + s.skipped! + s.quarantined!);
    expect(result.invoices.map((i) => [i.key, i.client, i.currency, i.hours, i.total, i.status])).toEqual([
      // 8 h × 65 + 8 h × 85 (senior) + 7.5 h × 65 + 4.25 h × 70 + 3.75 h × 70 (after the rate change)
      ['acme-2026-03-files-1', 'acme', 'EUR', '31.5', '2247.50', 'pushed'],
      // night shift 22:00–06:00 less 30 min: 7.5 h × 68.75 (+25 %) + 42 km × 0.23
      ['globex-2026-W10-files-1', 'globex', 'EUR', '7.5', '525.29', 'pushed'],
      ['globex-2026-W11-files-1', 'globex', 'EUR', '16', '891.02', 'pushed'],
    ]);
    const doc = JSON.parse(readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8'));
    expect(doc).toMatchObject({ key: 'acme-2026-03-files-1', currency: 'EUR', total: '2247.50', dueDate: '2026-04-14', client: { id: 'acme' } });
    expect(existsSync(path.join(dir, 'out/acme-2026-03-files-1.html'))).toBe(true);
  }, 240_000);

  it('Given unchanged input When sync runs again Then nothing is drafted or written, and it says so', () => {
    const before = statSync(invoiceFile('acme-2026-03-files-1')).mtimeMs;
    const result = sync();
    expect(result.summary).toMatchObject({ read: 14, accepted: 0, unchanged: 10, invoicesDrafted: 0, invoicesUpdated: 0, pushed: 0 });
    expect(result.invoices).toEqual([]);
    expect(statSync(invoiceFile('acme-2026-03-files-1')).mtimeMs).toBe(before);
    const text = run('sync', '--config', 'config/example.yaml');
    expect(text.stdout).toContain('No invoice changed');
  }, 240_000);

  it('Given one row whose hours change When sync runs Then exactly that invoice line and total change', () => {
    const globexBefore = readFileSync(invoiceFile('globex-2026-W11-files-1'), 'utf8');
    editCsv((lines) => lines.map((l) => (l.startsWith('17-03-2026;13:00;17:00') ? l.replace('13:00;17:00', '13:00;18:00') : l)));
    const result = sync();
    expect(result.summary).toMatchObject({ accepted: 1, invoicesDrafted: 0, invoicesUpdated: 1 });
    expect(result.invoices.map((i) => [i.key, i.total])).toEqual([['acme-2026-03-files-1', '2317.50']]);
    expect(readFileSync(invoiceFile('globex-2026-W11-files-1'), 'utf8')).toBe(globexBefore);
    const doc = JSON.parse(readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8'));
    const support = doc.lines.find((l: { description: string }) => l.description.startsWith('Support'));
    expect(support).toMatchObject({ quantity: '4.75', unitPrice: '70.00', amount: '332.50' });
  }, 240_000);

  it('Given a row deleted from the sheet When sync runs Then it leaves its still-open draft', () => {
    editCsv((lines) => lines.filter((l) => !l.startsWith('11-03-2026;08:00;16:30')));
    const result = sync();
    expect(result.summary).toMatchObject({ read: 13, deleted: 1, invoicesUpdated: 1 });
    // 891.02 − (8 h × 55 + 18 km × 0.23)
    expect(result.invoices.map((i) => [i.key, i.total])).toEqual([['globex-2026-W11-files-1', '446.88']]);
  }, 240_000);

  it('Given a new row When previewed Then it shows the invoice that would change and writes nothing', () => {
    editCsv((lines) => [...lines.filter((l) => l.trim() !== ''), '24-03-2026;09:00;17:00;30;;Anna de Vries;consultant;Acme B.V.;Website;ja;ja;;Preview me', '']);
    const before = readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8');
    const preview = sync('preview');
    expect(preview.summary).toMatchObject({ accepted: 1, invoicesUpdated: 1, pushed: 0 });
    // + 7.5 h × 70
    expect(preview.invoices.map((i) => [i.key, i.total])).toEqual([['acme-2026-03-files-1', '2842.50']]);
    expect(readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8')).toBe(before);
    // Nothing was committed either: a second preview sees the same change.
    expect(sync('preview').summary).toMatchObject({ accepted: 1, invoicesUpdated: 1 });
  }, 240_000);

  it('Given bad rows When the quarantine report is asked for Then each names its source, row, column and reason', () => {
    const r = run('report', 'quarantine', '--config', 'config/example.yaml', '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { rows: Array<{ source: string; row: number; column: string | null; field: string | null; reason: string }> }).rows;
    // Rows 12–15 of the bundled file; a row above them was deleted by an earlier step, so they
    // moved up one — quarantine follows the file as it is now, with no stale rows left behind.
    expect(rows.map((q) => [q.source, q.row, q.column ?? q.field])).toEqual([
      ['timesheet', 11, 'Datum'],
      ['timesheet', 12, 'Medewerker'],
      ['timesheet', 13, 'client'],
      ['timesheet', 14, 'Begin'],
    ]);
    expect(rows[2]!.reason).toContain('Initech');
  }, 240_000);

  it('Given an entry When explained Then the rule, rate and rounding behind its amount are shown', () => {
    const unbilled = run('report', 'unbilled', '--config', 'config/example.yaml', '--json');
    expect(JSON.parse(unbilled.stdout).clients.map((c: { client: string }) => c.client)).toEqual(['acme', 'globex']);
    const doc = JSON.parse(readFileSync(invoiceFile('globex-2026-W10-files-1'), 'utf8'));
    const entryKey = doc.lines[0].entries[0] as string;
    const r = run('explain', '--config', 'config/example.yaml', '--entry', entryKey, '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    const explained = JSON.parse(r.stdout) as { explain: Array<{ unitPrice: string; rule: string; trace: Array<{ kind: string; applied: boolean }> }>; placements: unknown[] };
    expect(explained.explain.some((l) => l.unitPrice === '68.75' && l.trace.some((t) => t.kind === 'surcharge' && t.applied))).toBe(true);
    expect(explained.placements.length).toBeGreaterThan(0);
  }, 240_000);

  it('Given a config with a typo When validated Then it exits 2 naming file, line, column, path and what was expected', () => {
    const bad = readFileSync(path.join(dir, 'config/example.yaml'), 'utf8').replace('paymentTermsDays: 14', 'paymentTermDays: 14');
    writeFileSync(path.join(dir, 'config/bad.yaml'), bad);
    const r = run('validate', '--config', 'config/bad.yaml');
    expect(r.code).toBe(2);
    const line = bad.split('\n').findIndex((l) => l.includes('paymentTermDays')) + 1;
    expect(r.stderr).toContain(`config/bad.yaml:${line}:5`);
    expect(r.stderr).toContain('clients[0].paymentTermDays');
    expect(r.stderr).toContain('unknown key "paymentTermDays"');
  }, 240_000);
});
