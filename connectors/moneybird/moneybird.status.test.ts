import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config/loader';
import type { DestinationConfig } from '../../src/config/schema';
import { withDestinationServices } from '../../src/destinations/services';
import { receiveWebhook } from '../../src/destinations/webhooks';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { destinationConnectorMap } from '../../src/runners/registry';
import { runSync } from '../../src/runners/inline.runner';
import { CSV_HEADER, pipelineYaml } from '../../test/destinations/conformance';
import { startFakeMoneybird, type FakeMoneybird } from './fake-moneybird';
import { moneybirdDestination } from './index';

/**
 * Status back from Moneybird, as the queue runner does it: a signed webhook names a sales
 * invoice, its status refresh polls the synchronization endpoint, and the ledger follows —
 * approved locks the invoice, an invoice gone from Moneybird (404) releases its hours.
 */
const log = pino({ level: 'silent' });
const WEBHOOK_TOKEN = 'fake-moneybird-webhook-token';

describe('moneybird status back (webhook → status refresh → synchronization poll)', () => {
  let fake: FakeMoneybird;
  let dir: string;
  let ledger: Ledger;
  let configFile: string;
  beforeAll(async () => {
    fake = await startFakeMoneybird();
  });
  afterAll(() => fake.stop());
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hb-mb-status-'));
    const csv = path.join(dir, 'hours.csv');
    writeFileSync(csv, `${CSV_HEADER}\n2026-03-02,09:00,17:00,Ann,Acme,Web\n2026-03-03,09:00,17:00,Cy,Globex,Ops\n`);
    configFile = path.join(dir, 'hourbridge.yaml');
    const destination = [
      '  - id: dest',
      '    kind: moneybird',
      `    administrationId: "${fake.administrationId}"`,
      '    token: ${MONEYBIRD_API_TOKEN}',
      '    webhookToken: ${MONEYBIRD_WEBHOOK_TOKEN}',
      `    baseUrl: ${fake.baseUrl}`,
      `    defaults: { taxRateId: "${fake.taxRate.id}", ledgerAccountId: "${fake.ledgerAccountId}" }`,
    ].join('\n');
    writeFileSync(configFile, pipelineYaml(csv, destination, { secondClient: true }));
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
    fake.invoices.clear();
  });

  it('Given pushed drafts When Moneybird reports one sent and the other deleted Then the ledger locks the first and releases the second', async () => {
    const config = loadConfig(configFile, { MONEYBIRD_API_TOKEN: fake.token, MONEYBIRD_WEBHOOK_TOKEN: WEBHOOK_TOKEN });
    await runSync({ config, ledger, log });
    const byRef = (key: string) => [...fake.invoices.values()].find((i) => i.reference === key)!;
    const acme = byRef('acme-2026-03-dest-1');
    const globex = byRef('globex-2026-03-dest-1');
    fake.setState(acme.id, 'open');
    fake.invoices.delete(globex.id);

    const destination: DestinationConfig = config.destinations[0]!;
    // The registry's connector, as the status-refresh job calls it (config type erased).
    const connector = destinationConnectorMap().get('moneybird')!;
    const answer = receiveWebhook({
      destinationId: 'dest',
      destinations: config.destinations,
      connectors: destinationConnectorMap(),
      request: {
        rawBody: Buffer.from(
          JSON.stringify({
            webhook_token: WEBHOOK_TOKEN,
            entity_type: 'SalesInvoice',
            entity_id: acme.id,
            action: 'sales_invoice_state_changed_to_open',
            entity: { id: acme.id, version: acme.version },
          }),
        ),
        headers: {},
      },
      serverKeys: {},
    });
    expect(answer).toMatchObject({ status: 200, events: [{ remoteId: acme.id }] });
    // What the status-refresh job does for each event: the destination is asked what it holds.
    const ctx = withDestinationServices(
      { log, now: new Date(), configDir: dir, services: { ledger } },
      moneybirdDestination,
      destination.id,
    );
    expect(await connector.pollStatuses!(destination, ctx)).toEqual({ checked: 2, changed: 2 });

    const rows = await ledger.rows<{ key: string; status: string; remoteStatus: string }>(
      sql`SELECT key, status, remote_status AS "remoteStatus" FROM invoices ORDER BY key`,
    );
    expect(rows.map((r) => [r.key, r.status, r.remoteStatus])).toEqual([
      ['acme-2026-03-dest-1', 'approved', 'open'],
      ['globex-2026-03-dest-1', 'deleted', 'deleted'],
    ]);
    // Quiet afterwards: nothing changed, nothing applied again.
    expect(await connector.pollStatuses!(destination, ctx)).toEqual({ checked: 1, changed: 0 });
  }, 120_000);
});
