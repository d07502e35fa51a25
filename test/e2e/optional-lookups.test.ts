import '../fakes/node20-polyfills';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { generatedEntry, sampleUser, startHarvestFake, type HarvestFake } from '../fakes/harvest-server';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'FAKE-HARVEST-TOKEN-OPTIONAL';
const bin = path.join(root, 'bin/hourbridge.js');

/**
 * An optional look-up that fails (Harvest `GET /v2/users`, for users' time zones) must not
 * abort the run: the bundled example's CSV drafts and the Harvest drafts are still written,
 * and the run's alerts say what was degraded and which zone was used instead.
 */
describe('a run whose optional source look-up fails (embedded ledger)', () => {
  let dir: string;
  let fake: HarvestFake;
  let ledger: Ledger;
  let configFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-optional-'));
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
    const now = Date.now();
    const entries = Array.from({ length: 3 }, (_, i) => {
      const e = generatedEntry(i, now - 3 * 86_400_000);
      e.client = { id: 1, name: 'Acme B.V.', currency: 'EUR' };
      e.billable = true;
      e.approval_status = 'approved';
      return e;
    });
    fake = await startHarvestFake({ token: TOKEN, accountId: '77', entries, users: [sampleUser(1000, 'Pacific Time (US & Canada)')] });
    fake.usersStatus = 500;
    const example = readFileSync(path.join(root, 'config/example.yaml'), 'utf8');
    const yaml = example
      .replace('path: ../example/hours.csv', `path: ${path.join(dir, 'example/hours.csv')}`)
      .replace(/dir: \.\/out/g, `dir: ${path.join(dir, 'out')}`)
      .replace(
        /\nclients:\n/,
        `
  - id: harvest
    kind: harvest
    baseUrl: ${fake.baseUrl}
    accountId: "77"
    token: \${HARVEST_TOKEN}
    timeZone: Europe/Amsterdam
    currency: EUR
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }

clients:
`,
      );
    configFile = path.join(dir, 'hourbridge.yaml');
    writeFileSync(configFile, yaml);
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Given GET /v2/users answers 500, when sync runs, then every draft is still written and the alerts name the call and the source zone used', async () => {
    const result = await runSync({ config: loadConfig(configFile, { HARVEST_TOKEN: TOKEN }), ledger, log: pino({ level: 'silent' }) });
    const harvest = result.sources.find((s) => s.sourceId === 'harvest');
    expect(harvest).toMatchObject({ read: 3, accepted: 3, quarantined: 0 });
    expect(harvest?.warnings).toEqual([expect.stringContaining('GET /v2/users')]);
    expect(result.summary.pushFailed).toBe(0);
    // The example's three CSV invoices plus the Harvest entries' open period for acme.
    expect(result.summary.pushed).toBeGreaterThanOrEqual(4);
    for (const i of result.invoices) expect(existsSync(path.join(dir, 'out', `${i.key}.json`))).toBe(true);
    expect(result.alerts).toEqual(
      expect.arrayContaining([expect.stringMatching(/harvest \(harvest\): .*GET \/v2\/users.*source zone Europe\/Amsterdam/)]),
    );
    expect(result.alerts.join('\n')).not.toContain(TOKEN);
  }, 120_000);

  it('Given GET /v2/users answers 500, when hourbridge check runs, then the source is ok with a warning naming the call (not OK-silently) and the exit code is 0', async () => {
    // Asynchronous child: the fake answers from this process while the CLI runs.
    const r = await promisify(execFile)(process.execPath, [bin, 'check', '--config', configFile, '--json'], {
      cwd: dir,
      env: { ...process.env, HARVEST_TOKEN: TOKEN, DATABASE_URL: '', HOURBRIDGE_LOG_LEVEL: 'error' },
      timeout: 100_000,
    });
    const doc = JSON.parse(r.stdout) as { ok: boolean; connectors: Array<{ id: string; ok: boolean; warnings?: string[] }> };
    expect(doc.ok).toBe(true);
    const harvest = doc.connectors.find((c) => c.id === 'harvest');
    expect(harvest).toMatchObject({ ok: true, warnings: [expect.stringMatching(/GET \/v2\/users.*source zone Europe\/Amsterdam/)] });
    expect(r.stdout).not.toContain(TOKEN);
  }, 120_000);
});
