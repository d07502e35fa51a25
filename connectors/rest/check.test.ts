import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext } from '../../src/connectors/contract';
import type { RestApiFake } from '../../test/fakes/rest-api-server';
import { everhourRecord, startEverhourFake, type EverhourTimeRecord } from '../../test/fakes/everhour-server';
import { RestConfigSchema } from './config.schema';
import { exampleSource } from './examples';
import { restSource } from './index';

const KEY = 'FAKE-EVERHOUR-KEY-0000';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ctx = (): ConnectorContext => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: process.cwd() });
let fake: RestApiFake<EverhourTimeRecord> | undefined;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const config = () =>
  RestConfigSchema.parse({
    ...exampleSource('rest-everhour.yaml', { EVERHOUR_API_KEY: KEY }, {}),
    baseUrl: fake!.baseUrl,
    rateLimit: { requests: 100, perSeconds: 1 },
  });

describe('hourbridge check for a rest source', () => {
  it('Given records that map, when checked, then one page is fetched and the first entries are shown as mapped', async () => {
    fake = await startEverhourFake(
      KEY,
      Array.from({ length: 5 }, (_, i) => everhourRecord(i, 2 + i)),
    );
    const r = await restSource.check(config(), ctx());
    expect(r.ok).toBe(true);
    expect(fake.stats.listing).toBe(1);
    const lines = r.message.split('\n');
    expect(lines[0]).toMatch(
      /^rest \(everhour\): credentials accepted; 5 record\(s\) on the first page for \d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d; first entries as mapped:$/,
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^5000: \d{4}-\d\d-\d\d Ada Lovelace · Acme BV \/ ev:1234567890 · 1:00$/);
    expect(lines[2]).toContain('Grace Hopper');
  });

  it('Given a record that does not map, when checked, then the check fails naming the record, the field, the pointer, the value and what was expected', async () => {
    const records = Array.from({ length: 3 }, (_, i) => everhourRecord(i, 2 + i));
    (records[1] as unknown as { time: unknown }).time = 'two hours';
    fake = await startEverhourFake(KEY, records);
    const r = await restSource.check(config(), ctx());
    expect(r).toMatchObject({ ok: false, category: 'config' });
    expect(r.message).toContain('record 5001 does not map: durationSeconds (from /time): value "two hours": expected a number of seconds');
  });

  it('Given an empty first page, when checked, then it passes with a warning that the mapping could not be tried', async () => {
    fake = await startEverhourFake(KEY, []);
    const r = await restSource.check(config(), ctx());
    expect(r.ok).toBe(true);
    expect(r.warnings?.[0]).toMatch(/no records on the first page/);
  });

  it('Given the Everhour example pointed at the fake, when `hourbridge check --json` runs, then its document shows the mapped entries', async () => {
    fake = await startEverhourFake(
      KEY,
      Array.from({ length: 2 }, (_, i) => everhourRecord(i, 2 + i)),
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hb-rest-check-'));
    try {
      const yaml = readFileSync(path.join(ROOT, 'config', 'examples', 'rest-everhour.yaml'), 'utf8').replace(
        'baseUrl: https://api.everhour.com',
        `baseUrl: ${fake.baseUrl}`,
      );
      writeFileSync(path.join(dir, 'hourbridge.yaml'), yaml);
      // Spawned without blocking this process: the fake answers from here.
      const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'hourbridge.js'), 'check', '--json', '--config', 'hourbridge.yaml'], {
          cwd: dir,
          env: { ...process.env, EVERHOUR_API_KEY: KEY, HOURBRIDGE_LEDGER_URL: '' },
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.on('error', reject);
        child.on('close', (c) => resolve({ code: c, stdout: out }));
      });
      const doc = JSON.parse(stdout) as { ok: boolean; connectors: Array<{ id: string; ok: boolean; message: string }> };
      expect(code).toBe(0);
      const source = doc.connectors.find((c) => c.id === 'everhour')!;
      expect(source.ok).toBe(true);
      expect(source.message).toContain('5000: ');
      expect(source.message).toContain('Ada Lovelace · Acme BV');
      expect(source.message).not.toContain(KEY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
