import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeReceiver, type FakeReceiver } from '../webhook/fake-receiver';
import { startFakeMoneybird, type FakeMoneybird } from './fake-moneybird';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/hourbridge.js');

/** `hourbridge check --json` as a user runs it (the real bin), with a Moneybird and a webhook destination. */
function run(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Not spawnSync: the fakes answer from this process while the CLI runs.
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, HOURBRIDGE_LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hourbridge check with moneybird and webhook destinations', () => {
  let dir: string;
  let mb: FakeMoneybird;
  let wh: FakeReceiver;
  const config = (token: string) => `version: 1
sources:
  - { id: sheet, kind: csv, path: hours.csv, timeZone: Europe/Amsterdam, locale: { decimal: ".", dateFormat: yyyy-MM-dd }, columns: { date: date, hours: hours, worker: worker, client: client } }
clients:
  - { id: acme, name: Acme Ltd, currency: EUR, timeZone: Europe/Amsterdam, period: { unit: month }, destination: books }
  - { id: globex, name: Globex GmbH, currency: EUR, timeZone: Europe/Amsterdam, period: { unit: month }, destination: erp }
rates:
  rulesets:
    standard:
      base: [{ id: hourly, match: {}, hourly: '100.00' }]
destinations:
  - id: books
    kind: moneybird
    administrationId: "${mb.administrationId}"
    token: ${token}
    baseUrl: ${mb.baseUrl}
    defaults: { taxRateId: "${mb.taxRate.id}", ledgerAccountId: "${mb.ledgerAccountId}" }
    retry: { maxAttempts: 1 }
  - id: erp
    kind: webhook
    url: ${wh.url}
    secret: \${HOURBRIDGE_WEBHOOK_SECRET}
`;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hb-mb-check-'));
    writeFileSync(path.join(dir, 'hours.csv'), 'date,hours,worker,client\n2026-03-02,8,Ann,Acme\n');
    [mb, wh] = await Promise.all([startFakeMoneybird(), startFakeReceiver()]);
  });
  afterAll(async () => {
    await Promise.all([mb.stop(), wh.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given valid credentials When checked Then both destinations are OK; Given a refused Moneybird token Then check fails naming it, without the token', async () => {
    writeFileSync(path.join(dir, 'ok.yaml'), config('${MONEYBIRD_API_TOKEN}'));
    const env = { MONEYBIRD_API_TOKEN: mb.token, HOURBRIDGE_WEBHOOK_SECRET: wh.secret };
    const ok = await run(['check', '--config', 'ok.yaml', '--json'], dir, env);
    expect({ code: ok.code, stderr: ok.stderr }).toMatchObject({ code: 0 });
    const doc = JSON.parse(ok.stdout) as { ok: boolean; connectors: { id: string; ok: boolean; message: string }[] };
    expect(doc.ok).toBe(true);
    expect(doc.connectors.filter((c) => c.id !== 'sheet').map((c) => [c.id, c.ok])).toEqual([
      ['books', true],
      ['erp', true],
    ]);
    const bad = await run(['check', '--config', 'ok.yaml', '--json'], dir, { ...env, MONEYBIRD_API_TOKEN: 'refused-token-4242' });
    expect(bad.code).toBe(1);
    expect(bad.stdout + bad.stderr).not.toContain('refused-token-4242');
    const badDoc = JSON.parse(bad.stdout) as { ok: boolean; error: { code: string }; connectors: { id: string; ok: boolean }[] };
    expect(badDoc.error.code).toBe('check_failed');
    expect(badDoc.connectors.find((c) => c.id === 'books')?.ok).toBe(false);
  }, 120_000);
});
