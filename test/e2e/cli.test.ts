import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectWithMessage } from '../support/runner';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
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
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    return JSON.parse(r.stdout) as {
      summary: Record<string, number>;
      invoices: Array<{
        key: string;
        net: string;
        workedHours: string;
        billedHours: string;
        status: string;
        currency: string;
        client: string;
        period: string;
      }>;
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
    expect(s).toMatchObject({
      read: 14,
      accepted: 10,
      unchanged: 0,
      quarantined: 4,
      invoicesDrafted: 3,
      invoicesUpdated: 0,
      pushFailed: 0,
    });
    expect(s.read).toBe(s.accepted! + s.unchanged! + s.skipped! + s.quarantined!);
    expect(result.invoices.map((i) => [i.key, i.client, i.currency, i.workedHours, i.net, i.status])).toEqual([
      // 8 h × 65 + 8 h × 85 (senior) + 7.5 h × 65 + 4.25 h × 70 + 3.75 h × 70 (after the rate change)
      ['acme-2026-03-files-1', 'acme', 'EUR', '31.5', '2247.50', 'pushed'],
      // night shift 22:00–06:00 less 30 min: 7.5 h × 68.75 (+25 %) + 42 km × 0.23
      ['globex-2026-W10-einvoices-1', 'globex', 'EUR', '7.5', '525.29', 'pushed'],
      ['globex-2026-W11-einvoices-1', 'globex', 'EUR', '16', '891.02', 'pushed'],
    ]);
    const doc = JSON.parse(readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8'));
    expect(doc).toMatchObject({
      key: 'acme-2026-03-files-1',
      currency: 'EUR',
      net: '2247.50',
      dueDate: '2026-04-14',
      client: { id: 'acme' },
    });
    expect(existsSync(path.join(dir, 'out/acme-2026-03-files-1.html'))).toBe(true);
  }, 240_000);

  it('Given rows kept but not invoiced When a run prints its summary Then it points to the report that lists them, which lists each with its reason, and explain says why', () => {
    // A fresh ledger, so this run prices (and excludes) them again; preview writes nothing.
    const text = run('preview', '--config', 'config/example.yaml', '--data-dir', 'data-fresh');
    expectWithMessage(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      'Not invoiced: 2 excluded (non-billable, not approved or billed at source) — listed by `hourbridge report excluded`.',
    );
    const r = run('report', 'excluded', '--config', 'config/example.yaml', '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    const entries = (
      JSON.parse(r.stdout) as { entries: Array<{ entry: string; date: string; worker: string; reason: string; row: number }> }
    ).entries;
    expect(entries.map((e) => [e.date, e.worker, e.row, e.reason])).toEqual([
      ['2026-03-06', 'Anna de Vries', 6, 'marked non-billable in the source'],
      ['2026-03-10', 'Bram Jansen', 7, 'not approved (client acme requires approval)'],
    ]);
    const explained = run('explain', '--config', 'config/example.yaml', '--entry', entries[1]!.entry);
    expectWithMessage(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('not invoiced: not approved (client acme requires approval).');
    const json = JSON.parse(run('explain', '--config', 'config/example.yaml', '--entry', entries[0]!.entry, '--json').stdout) as {
      status: string;
      invoiced: string;
    };
    expect(json).toMatchObject({
      status: 'excluded',
      invoiced: expect.stringContaining('not invoiced: marked non-billable in the source'),
    });
  }, 240_000);

  it("Given drafted invoices When the unbilled report is read Then its figures are the drafts' own net totals and hours, to the cent, and the files label them net", () => {
    const r = run('report', 'unbilled', '--config', 'config/example.yaml', '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    const clients = (
      JSON.parse(r.stdout) as {
        clients: Array<{
          client: string;
          drafted: { net: string };
          notDrafted: { net: string };
          outstanding: { net: string };
          periods: Array<{ invoice: string; drafted: { net: string; workedHours: string; billedHours: string } }>;
        }>;
      }
    ).clients;
    const doc = (key: string) =>
      JSON.parse(readFileSync(invoiceFile(key), 'utf8')) as {
        net: string;
        workedHours: string;
        billedHours: string;
        lines: Array<{ net: string }>;
      };
    expect(clients.map((c) => [c.client, c.drafted.net, c.notDrafted.net, c.outstanding.net])).toEqual([
      ['acme', '2247.50', '0.00', '2247.50'],
      ['globex', '1416.31', '0.00', '1416.31'],
    ]);
    for (const p of clients.flatMap((c) => c.periods)) {
      const d = doc(p.invoice);
      expect([p.drafted.net, p.drafted.workedHours, p.drafted.billedHours]).toEqual([d.net, d.workedHours, d.billedHours]);
    }
    expect(readFileSync(path.join(dir, 'out/globex-2026-W10-einvoices-1.html'), 'utf8')).toContain('Net total, excl. tax (7.5 h)');
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
    const globexBefore = readFileSync(invoiceFile('globex-2026-W11-einvoices-1'), 'utf8');
    editCsv((lines) => lines.map((l) => (l.startsWith('17-03-2026;13:00;17:00') ? l.replace('13:00;17:00', '13:00;18:00') : l)));
    const result = sync();
    expect(result.summary).toMatchObject({ accepted: 1, invoicesDrafted: 0, invoicesUpdated: 1 });
    expect(result.invoices.map((i) => [i.key, i.net])).toEqual([['acme-2026-03-files-1', '2317.50']]);
    expect(readFileSync(invoiceFile('globex-2026-W11-einvoices-1'), 'utf8')).toBe(globexBefore);
    const doc = JSON.parse(readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8'));
    const support = doc.lines.find((l: { description: string }) => l.description.startsWith('Support'));
    expect(support).toMatchObject({ quantity: '4.75', unitPrice: '70.00', net: '332.50' });
  }, 240_000);

  it('Given a row deleted from the sheet When sync runs Then it leaves its still-open draft', () => {
    editCsv((lines) => lines.filter((l) => !l.startsWith('11-03-2026;08:00;16:30')));
    const result = sync();
    expect(result.summary).toMatchObject({ read: 13, deleted: 1, invoicesUpdated: 1 });
    // 891.02 − (8 h × 55 + 18 km × 0.23)
    expect(result.invoices.map((i) => [i.key, i.net])).toEqual([['globex-2026-W11-einvoices-1', '446.88']]);
  }, 240_000);

  it('Given a new row When previewed Then it shows the invoice that would change and writes nothing', () => {
    editCsv((lines) => [
      ...lines.filter((l) => l.trim() !== ''),
      '24-03-2026;09:00;17:00;30;;Anna de Vries;consultant;Acme B.V.;Website;ja;ja;;Preview me',
      '',
    ]);
    const before = readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8');
    const preview = sync('preview');
    expect(preview.summary).toMatchObject({ accepted: 1, invoicesUpdated: 1, pushed: 0 });
    // + 7.5 h × 70
    expect(preview.invoices.map((i) => [i.key, i.net])).toEqual([['acme-2026-03-files-1', '2842.50']]);
    expect(readFileSync(invoiceFile('acme-2026-03-files-1'), 'utf8')).toBe(before);
    // Nothing was committed either: a second preview sees the same change.
    expect(sync('preview').summary).toMatchObject({ accepted: 1, invoicesUpdated: 1 });
  }, 240_000);

  it('Given bad rows When the quarantine report is asked for Then each names its source, row, column and reason', () => {
    const r = run('report', 'quarantine', '--config', 'config/example.yaml', '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    const rows = (
      JSON.parse(r.stdout) as { rows: Array<{ source: string; row: number; column: string | null; field: string | null; reason: string }> }
    ).rows;
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
    const doc = JSON.parse(readFileSync(invoiceFile('globex-2026-W10-einvoices-1'), 'utf8'));
    const entryKey = doc.lines[0].entries[0] as string;
    const r = run('explain', '--config', 'config/example.yaml', '--entry', entryKey, '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    const explained = JSON.parse(r.stdout) as {
      explain: Array<{ unitPrice: string; rule: string; trace: Array<{ kind: string; applied: boolean }> }>;
      placements: unknown[];
    };
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

/** The `--json` error document of a failed run: one document on stdout, JSON lines on stderr. */
interface ErrorDocument {
  ok: false;
  error: { code: string; message: string; where?: Record<string, string | number>; issues?: Array<Record<string, string | number>> };
  connectors?: Array<{ id: string; ok: boolean; category?: string; message: string }>;
}

/** A local port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('hourbridge CLI --json when a command fails', () => {
  let dir: string;
  // Obviously fake credentials: they must not appear anywhere in the output.
  const token = 'hb-fake-harvest-token-0000';
  const ledgerPassword = 'hb-fake-ledger-password-0000';
  const env = { ...process.env, DATABASE_URL: '', HOURBRIDGE_LEDGER_URL: '', HOURBRIDGE_LOG_LEVEL: 'warn', HARVEST_TOKEN: token };
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  /** Exactly one JSON document on stdout, only JSON lines on stderr, and no secret anywhere. */
  const failed = (r: { code: number | null; stdout: string; stderr: string }) => {
    const doc = JSON.parse(r.stdout) as ErrorDocument;
    for (const line of r.stderr.split('\n').filter((l) => l.trim() !== ''))
      expectWithMessage(() => JSON.parse(line), `stderr line: ${line}`).not.toThrow();
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain(ledgerPassword);
    expect(doc.ok).toBe(false);
    return doc;
  };
  const example = () => readFileSync(path.join(root, 'config/example.yaml'), 'utf8');
  const writeConfig = (name: string, yaml: string) => {
    writeFileSync(path.join(dir, 'config', name), yaml);
    return `config/${name}`;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-e2e-json-'));
    cpSync(path.join(root, 'config'), path.join(dir, 'config'), { recursive: true });
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Given a Harvest source on a port where nothing listens When sync --json runs Then it prints one error document naming the source and exits 1', async () => {
    const port = await closedPort();
    const sources = example().replace(
      /^sources:\n[\s\S]*?(?=^clients:)/m,
      [
        'sources:',
        '  - id: harvest',
        '    kind: harvest',
        `    baseUrl: http://127.0.0.1:${port}/v2`,
        '    accountId: 123456',
        '    token: ${HARVEST_TOKEN}',
        '    userTimeZones: false',
        '    currency: EUR',
        '    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 }',
        '',
        '',
      ].join('\n'),
    );
    const config = writeConfig('harvest-down.yaml', sources);
    const r = run('sync', '--config', config, '--json');
    expect(r.code).toBe(1);
    const doc = failed(r);
    expect(doc.error.code).toBe('connector_transient');
    expect(doc.error.where).toEqual({ source: 'harvest', connector: 'harvest' });
    expect(doc.error.message).toContain('harvest');
  }, 240_000);

  it('Given a CSV source whose file does not exist When sync --json runs Then the error document names the source and the file, and it exits 1', () => {
    const config = writeConfig('csv-missing.yaml', example().replace('../example/hours.csv', '../example/no-such-file.csv'));
    const r = run('sync', '--config', config, '--json');
    expect(r.code).toBe(1);
    const doc = failed(r);
    expect(doc.error).toMatchObject({
      code: 'connector_config',
      where: { source: 'timesheet', connector: 'csv', file: 'example/no-such-file.csv' },
    });
    expect(doc.error.message).toContain('not found');
  }, 240_000);

  it('Given the same missing file When check --json runs Then the document lists every connector, says which failed, and it exits 1', () => {
    const config = writeConfig('csv-missing-check.yaml', example().replace('../example/hours.csv', '../example/no-such-file.csv'));
    const r = run('check', '--config', config, '--json');
    expect(r.code).toBe(1);
    const doc = failed(r);
    expect(doc.error).toMatchObject({ code: 'check_failed', where: { source: 'timesheet', connector: 'csv' } });
    expect(doc.connectors?.map((c) => [c.id, c.ok, c.category])).toEqual([
      ['timesheet', false, 'config'],
      ['files', true, undefined],
      ['einvoices', true, undefined],
    ]);
  }, 240_000);

  it('Given a config with a typo When validate --json and sync --json run Then both print the error document with file, line, column and path, and exit 2', () => {
    const bad = example().replace('paymentTermsDays: 14', 'paymentTermDays: 14');
    const config = writeConfig('typo.yaml', bad);
    const line = bad.split('\n').findIndex((l) => l.includes('paymentTermDays')) + 1;
    for (const cmd of ['validate', 'sync']) {
      const r = run(cmd, '--config', config, '--json');
      expectWithMessage(r.code, cmd).toBe(2);
      const doc = failed(r);
      expect(doc.error.code).toBe('invalid_config');
      expect(doc.error.where).toEqual({ file: 'config/typo.yaml', line, column: 5, path: 'clients[0].paymentTermDays' });
      expect(doc.error.issues).toHaveLength(1);
      expect(doc.error.message).toContain('unknown key "paymentTermDays"');
    }
  }, 240_000);

  it('Given a valid config When validate --json runs Then the document says ok and lists what it found', () => {
    const r = run('validate', '--config', 'config/example.yaml', '--json');
    expectWithMessage(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      sources: ['timesheet'],
      clients: ['acme', 'globex'],
      destinations: ['files', 'einvoices'],
      einvoices: [{ client: 'globex', destination: 'einvoices', ready: true, missing: [] }],
    });
  }, 240_000);

  it('Given bad usage (an unknown option, no --config) When a command runs with --json Then it prints a usage error document and exits 2', () => {
    const unknown = run('sync', '--config', 'config/example.yaml', '--bogus', '--json');
    expect(unknown.code).toBe(2);
    expect(failed(unknown).error).toMatchObject({ code: 'usage', where: { option: '--bogus' } });
    const missing = run('report', 'unbilled', '--json');
    expect(missing.code).toBe(2);
    expect(failed(missing).error).toMatchObject({ code: 'usage', where: { option: '--config' } });
    const kind = run('report', 'everything', '--config', 'config/example.yaml', '--json');
    expect(kind.code).toBe(2);
    expect(failed(kind).error).toMatchObject({ code: 'usage', message: expect.stringContaining('unknown report "everything"') });
  }, 240_000);

  it('Given a ledger URL with a password on a port where nothing listens When report --json runs Then the error says the ledger is unavailable without the password, and it exits 1', async () => {
    const port = await closedPort();
    const r = run(
      'report',
      'unbilled',
      '--config',
      'config/example.yaml',
      '--json',
      '--ledger-url',
      `postgres://hourbridge:${ledgerPassword}@127.0.0.1:${port}/ledger`,
    );
    expect(r.code).toBe(1);
    expect(failed(r).error).toMatchObject({ code: 'ledger_unavailable' });
  }, 240_000);
});
