import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { PreviousWrite, WriteContext, WriteOutcome } from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { receiveWebhook } from '../../src/destinations/webhooks';
import { destinationConnectorMap } from '../../src/runners/registry';
import { MoneybirdConfigSchema, type MoneybirdConfig } from './config.schema';
import { startFakeMoneybird, type FakeMoneybird } from './fake-moneybird';
import { moneybirdDestination } from './index';

const log = pino({ level: 'silent' });
const ctx = (previous: Map<string, PreviousWrite> = new Map()): WriteContext => ({ log, now: new Date(), configDir: '.', previous });
let runs = 0;

function draft(
  key: string,
  clientId = 'acme',
  lines: { q: string; p: string; taxType?: string }[] = [{ q: '8', p: '95.00' }],
): InvoiceDraft {
  const amounts = lines.map((l) => (Number(l.q) * Number(l.p)).toFixed(2));
  return {
    key,
    clientId,
    clientName: clientId === 'acme' ? 'Acme Ltd' : 'Globex GmbH',
    destinationId: 'books',
    currency: 'EUR',
    period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
    sequence: 1,
    issueDate: '2026-04-01',
    dueDate: '2026-05-01',
    lines: lines.map((l, i) => ({
      lineKey: `l${i}`,
      description: `Web ${i}`,
      quantity: l.q,
      unitPrice: l.p,
      amount: amounts[i]!,
      kind: 'time' as const,
      ...(l.taxType ? { taxType: l.taxType } : {}),
      entryIds: [`s:${i}`],
    })),
    hours: '8',
    total: amounts.reduce((a, b) => a + Number(b), 0).toFixed(2),
    contentHash: `h-${key}-${lines.map((l) => l.q + l.p).join()}`,
  };
}

const remembered = (outcomes: WriteOutcome[], drafts: InvoiceDraft[]) =>
  new Map(
    outcomes.flatMap((o) =>
      o.status === 'written'
        ? [
            [
              o.key,
              {
                remoteId: o.remoteId,
                remoteStatus: o.remoteStatus,
                remoteLineIds: o.remoteLineIds,
                pushedHash: drafts.find((d) => d.key === o.key)!.contentHash,
              },
            ] as const,
          ]
        : [],
    ),
  );

describe('moneybird destination', () => {
  let fake: FakeMoneybird;
  let config: MoneybirdConfig;
  beforeAll(async () => {
    fake = await startFakeMoneybird({ limit: { requests: 6, windowMs: 1000 } });
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.clearFaults();
    fake.invoices.clear();
    config = MoneybirdConfigSchema.parse({
      id: `books-${++runs}`,
      kind: 'moneybird',
      administrationId: fake.administrationId,
      token: fake.token,
      baseUrl: fake.baseUrl,
      webhookToken: 'fake-webhook-token-from-moneybird',
      defaults: { taxRateId: fake.taxRate.id, ledgerAccountId: fake.ledgerAccountId },
      taxRates: { 'NL-high': fake.taxRate.id },
      // Each case its own budget key would be ideal; the fake's limit is 6/s, ours 5/s.
      rateLimit: { requests: 5, perSeconds: 1 },
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      timeoutMs: 2000,
    });
  });

  it('Given new clients When written Then each gets one contact by customer_id (created once) and a draft sales invoice with the reference, tax rate and ledger account', async () => {
    const drafts = [draft('acme-1'), draft('acme-2'), draft('globex-1', 'globex')];
    const out = await moneybirdDestination.write(config, drafts, ctx());
    expect(out.map((o) => o.status)).toEqual(['written', 'written', 'written']);
    expect([...fake.contacts.values()].map((c) => [c.customer_id, c.company_name]).sort()).toEqual([
      ['acme', 'Acme Ltd'],
      ['globex', 'Globex GmbH'],
    ]);
    const inv = [...fake.invoices.values()].find((i) => i.reference === 'acme-1')!;
    expect(inv).toMatchObject({ state: 'draft', invoice_date: '2026-04-01', currency: 'EUR', prices_are_incl_tax: false });
    expect(inv.details).toEqual([
      expect.objectContaining({
        description: 'Web 0',
        price: '95.00',
        amount: '8',
        tax_rate_id: fake.taxRate.id,
        ledger_account_id: fake.ledgerAccountId,
      }),
    ]);
    expect(out[0]).toMatchObject({ remoteTotal: '760.00', remoteTax: '159.60', remoteGross: '919.60', remoteStatus: 'draft' });
  });

  it('Given a line whose tax type has no tax rate id When written Then that invoice fails as config before any call, the others are written', async () => {
    const before = fake.log.length;
    const out = await moneybirdDestination.write(
      config,
      [draft('acme-3', 'acme', [{ q: '1', p: '10.00', taxType: 'BE-low' }]), draft('acme-4')],
      ctx(),
    );
    expect(out[0]).toMatchObject({ status: 'failed', category: 'config', message: expect.stringContaining('"BE-low"') });
    expect(out[1]!.status).toBe('written');
    expect(fake.log.slice(before).some((r) => r.method === 'POST' && r.path.includes('sales_invoices') && r.status === 422)).toBe(false);
  });

  it('Given a written draft When a line changes Then the same invoice is patched and the kept detail keeps its id', async () => {
    const first = [
      draft('acme-5', 'acme', [
        { q: '8', p: '95.00' },
        { q: '2', p: '50.00' },
      ]),
    ];
    const out1 = await moneybirdDestination.write(config, first, ctx());
    const id = out1[0]!.status === 'written' ? out1[0]!.remoteId : '';
    const kept = [...fake.invoices.get(id!)!.details][0]!.id;
    const second = [
      draft('acme-5', 'acme', [
        { q: '8', p: '95.00' },
        { q: '3', p: '50.00' },
      ]),
    ];
    const out2 = await moneybirdDestination.write(config, second, ctx(remembered(out1, first)));
    expect(out2[0]).toMatchObject({ status: 'written', remoteId: id, remoteTotal: '910.00' });
    expect(fake.invoices.size).toBe(1);
    expect(fake.invoices.get(id!)!.details.map((d) => d.id)).toContain(kept);
    expect(fake.invoices.get(id!)!.details).toHaveLength(2);
  });

  it('Given more invoices than the request budget per window When written Then Moneybird never answers 429 and every invoice is written once', async () => {
    const drafts = Array.from({ length: 8 }, (_, i) => draft(`acme-b${i}`));
    const before = fake.log.length;
    const out = await moneybirdDestination.write(config, drafts, ctx());
    expect(out.every((o) => o.status === 'written')).toBe(true);
    expect(fake.log.slice(before).filter((r) => r.status === 429)).toEqual([]);
    expect(new Set([...fake.invoices.values()].map((i) => i.reference)).size).toBe(fake.invoices.size);
  });

  it('Given a Moneybird webhook When its webhook_token is the configured one Then the sales invoice it names is an event; another token is 401, other entities are ignored', () => {
    const receive = (body: unknown, destinations = [config]) =>
      receiveWebhook({
        destinationId: config.id,
        destinations,
        connectors: destinationConnectorMap(),
        request: { rawBody: Buffer.from(JSON.stringify(body)), headers: {} },
        serverKeys: {},
      });
    const delivery = {
      administration_id: fake.administrationId,
      webhook_id: '4266',
      webhook_token: 'fake-webhook-token-from-moneybird',
      entity_type: 'SalesInvoice',
      entity_id: '426664240553657597',
      state: 'open',
      action: 'sales_invoice_state_changed_to_open',
      entity: { id: '426664240553657597', version: 17 },
    };
    expect(receive(delivery)).toEqual({
      status: 200,
      events: [{ remoteId: '426664240553657597', eventId: '426664240553657597.sales_invoice_state_changed_to_open.17' }],
    });
    expect(receive({ ...delivery, webhook_token: 'not-it' }).status).toBe(401);
    expect(receive({ ...delivery, entity_type: 'Contact' })).toEqual({ status: 200, events: [] });
    const { webhookToken: _, ...noToken } = config;
    expect(receive(delivery, [noToken as MoneybirdConfig]).status).toBe(503);
  });

  it('Given the administration When checked Then it names it; a refused token is auth without the token in the message; an administration the token cannot see is config', async () => {
    expect(await moneybirdDestination.check(config, ctx())).toMatchObject({ ok: true, message: expect.stringContaining('Fake BV') });
    const bad = await moneybirdDestination.check({ ...config, token: 'wrong-token-123' }, ctx());
    expect(bad).toMatchObject({ ok: false, category: 'auth' });
    expect(bad.message).not.toContain('wrong-token-123');
    expect(await moneybirdDestination.check({ ...config, administrationId: '999' }, ctx())).toMatchObject({
      ok: false,
      category: 'config',
    });
  });
});
