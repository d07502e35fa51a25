import '../fakes/node20-polyfills';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { dec } from '../../src/domain/money';
import { documentedTimeEntries, HARVEST_TIME_ENTRIES_DOCS, startHarvestFake, type HarvestFake } from '../fakes/harvest-server';

/**
 * Harvest's documented "List all time entries" example response (HARVEST_TIME_ENTRIES_DOCS),
 * served by the local fake, through the inline runner into the embedded ledger and out as file
 * drafts: the one billable, not yet invoiced entry (`hours: 2.11`, 3:00pm–5:00pm) bills exactly
 * 2.11 h × 100.00 = 211.00, and an edit of its hours in Harvest (times untouched) changes the
 * draft on the next sync.
 */
const TOKEN = 'FAKE-HARVEST-TOKEN-DOCS';
const log = pino({ level: 'silent' });

describe('Harvest documented example through the inline runner', () => {
  let dir: string;
  let fake: HarvestFake;
  let ledger: Ledger;
  let configFile: string;
  const sync = () => runSync({ config: loadConfig(configFile, { HARVEST_TOKEN: TOKEN }), ledger, log });
  const draft = (key: string) =>
    JSON.parse(readFileSync(path.join(dir, 'out', `${key}.json`), 'utf8')) as {
      lines: Array<{ quantity: string; unitPrice: string; net: string; entries: string[] }>;
      hours: string;
      net: string;
    };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-harvest-docs-'));
    fake = await startHarvestFake({ token: TOKEN, accountId: '424242', entries: documentedTimeEntries(), users: [] });
    configFile = path.join(dir, 'hourbridge.yaml');
    writeFileSync(
      configFile,
      `version: 1
sources:
  - id: harvest
    kind: harvest
    baseUrl: ${fake.baseUrl}
    accountId: "424242"
    token: \${HARVEST_TOKEN}
    timeZone: America/New_York
    userTimeZones: false
    currency: USD
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }
clients:
  - id: abc
    name: ABC Corp
    currency: USD
    timeZone: America/New_York
    period: { unit: month }
    destination: files
  - id: industries
    name: 123 Industries
    currency: USD
    timeZone: America/New_York
    period: { unit: month }
    destination: files
rates:
  rulesets:
    standard:
      base:
        - { id: hourly, hourly: 100.00 }
destinations:
  - id: files
    kind: file
    dir: ${path.join(dir, 'out')}
    formats: [json]
`,
    );
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`Given the documented response of ${HARVEST_TIME_ENTRIES_DOCS}, when synced, then the draft bills exactly the documented 2.11 h × 100.00`, async () => {
    const first = await sync();
    expect(first.summary).toMatchObject({ read: 4, accepted: 4, quarantined: 0, invoicesDrafted: 1 });
    expect(first.invoices).toHaveLength(1);
    const inv = first.invoices[0]!;
    expect(inv).toMatchObject({ client: 'abc', currency: 'USD', net: '211.00' });
    expect(Number(inv.workedHours)).toBe(2.11);
    const doc = draft(inv.key);
    expect(doc.lines.map((l) => [l.quantity, l.unitPrice, l.net])).toEqual([['2.11', '100.00', '211.00']]);
    expect(doc.lines[0]!.entries).toEqual(['harvest:636709355']);
    expect(doc.net).toBe('211.00');
  }, 60_000);

  it("Given that draft, when the entry's hours are edited in Harvest and its times are not, then the next sync updates the same draft to the new hours", async () => {
    const before = await sync();
    expect(before.summary).toMatchObject({ accepted: 0, invoicesUpdated: 0 });
    const key = readKey();
    expect(draft(key).net).toBe('211.00');

    // 2.11 → 2.5 h; started_time 3:00pm and ended_time 5:00pm stay as they were.
    fake.edit(636709355, { hours: 2.5 });
    const after = await sync();
    expect(after.summary).toMatchObject({ accepted: 1, invoicesUpdated: 1, invoicesDrafted: 0 });
    expect(after.invoices).toEqual([expect.objectContaining({ key, net: '250.00' })]);
    expect(Number(after.invoices[0]!.workedHours)).toBe(2.5);
    expect(draft(key).lines.map((l) => [dec(l.quantity).toFixed(2), l.unitPrice, l.net])).toEqual([['2.50', '100.00', '250.00']]);
  }, 60_000);

  function readKey(): string {
    const files = readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    return files[0]!.replace(/\.json$/, '');
  }
});
