import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { quickBooksDestination } from '../../connectors/quickbooks';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeQuickBooks, type FakeQuickBooks } from '../fakes/quickbooks-server';
import { draft, line, rememberedFrom, writeCtx } from '../xero/helpers';
import { connect, qboConfig } from './helpers';

describe('QuickBooks push (fake QuickBooks)', () => {
  let fake: FakeQuickBooks;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeQuickBooks({ latencyMs: 5 });
    fake.addCustomer('Acme Ltd');
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });
  const posts = () => fake.requests.filter((r) => r.method === 'POST' && /\/(estimate|creditmemo|customer)$/.test(r.path));

  it('Given a docNumber template longer than 21 characters When writing Then that draft fails naming the limit and the others are written', async () => {
    const config = qboConfig(fake, { clients: { globex: { docNumber: 'HOURBRIDGE-{{key}}' } } });
    await connect(ledger, fake, config);
    const ok = draft(1);
    const long = draft(2, { clientId: 'globex', clientName: 'Globex GmbH' });
    const [a, b] = await quickBooksDestination.write(config, [ok, long], writeCtx(new Map(), { ledger }));
    expect(a).toMatchObject({ status: 'written', remoteStatus: 'Pending', remoteType: 'invoice' });
    expect(b).toMatchObject({ status: 'failed', category: 'config' });
    expect(b?.status === 'failed' && b.message).toMatch(/over QuickBooks' 21; use \{\{keyHash\}\}/);
  });

  it('Given every write When sent Then it carries a requestid of at most 50 characters, and a resend after a lost answer carries the same one and writes once', async () => {
    const config = qboConfig(fake);
    await connect(ledger, fake, config);
    const before = posts().length;
    fake.inject('drop-after-commit', { method: 'POST', path: /\/estimate$/ });
    const d = draft(3);
    const [o] = await quickBooksDestination.write(config, [d], writeCtx(new Map(), { ledger }));
    expect(o?.status).toBe('written');
    const sent = posts()
      .slice(before)
      .filter((r) => r.path.endsWith('/estimate'));
    expect(sent).toHaveLength(2);
    const ids = sent.map((r) => r.query.get('requestid'));
    expect(ids[0]).toBeTruthy();
    expect(ids[0]!.length).toBeLessThanOrEqual(50);
    expect(ids[1]).toBe(ids[0]);
    expect([...fake.docs.Estimate.values()].filter((t) => t.PrivateNote === `Hourbridge ${d.key}`)).toHaveLength(1);
  });

  it('Given finance edited the estimate between our read and our write When updating Then the stale SyncToken (5010) is read again and the update lands', async () => {
    const config = qboConfig(fake);
    await connect(ledger, fake, config);
    const d = draft(4);
    const first = await quickBooksDestination.write(config, [d], writeCtx(new Map(), { ledger }));
    const remoteId = first[0]?.status === 'written' ? (first[0].remoteId as string) : '';
    const edited = draft(4, { lines: [line('ann', '8', '95.00')] });
    let bumped = false;
    fake.inject('answer', {
      method: 'POST',
      path: /\/estimate$/,
      answer: () => {
        // Just before our update is processed, finance saves the estimate (its SyncToken moves on).
        if (!bumped) fake.setFields('Estimate', remoteId, { PrivateNote: `Hourbridge ${d.key}` });
        bumped = true;
        return undefined;
      },
    });
    const [o] = await quickBooksDestination.write(config, [edited], writeCtx(rememberedFrom(first, [d]), { ledger }));
    fake.clearFaults();
    expect(bumped).toBe(true);
    expect(o).toMatchObject({ status: 'written', remoteId, remoteTotal: '760.00' });
    expect(fake.requests.filter((r) => r.status === 400 && r.method === 'POST').length).toBeGreaterThan(0);
    expect(fake.docs.Estimate.get(remoteId)?.TotalAmt).toBe(760);
  });

  it('Given items per line kind and tax codes per taxType in YAML When writing Then each line carries its ItemRef and TaxCodeRef', async () => {
    const config = qboConfig(fake, {
      defaults: { itemRef: '1', items: { fee: '7' }, taxCodes: { reduced: 'NON' }, taxCode: 'TAX', customer: { createMissing: true } },
    });
    await connect(ledger, fake, config);
    const d = draft(5, { lines: [line('ann', '2', '100.00'), line('fee', '1', '25.00', { kind: 'fee', taxType: 'reduced' })] });
    const [o] = await quickBooksDestination.write(config, [d], writeCtx(new Map(), { ledger }));
    expect(o).toMatchObject({ status: 'written', remoteTotal: '225.00', remoteTax: '40.00', remoteGross: '265.00' });
    const est = fake.docs.Estimate.get(o?.status === 'written' ? (o.remoteId as string) : '');
    const details = est?.Line.filter((l) => l.DetailType === 'SalesItemLineDetail').map((l) => l.SalesItemLineDetail);
    expect(details).toEqual([
      { ItemRef: { value: '1' }, Qty: 2, UnitPrice: 100, TaxCodeRef: { value: 'TAX' } },
      { ItemRef: { value: '7' }, Qty: 1, UnitPrice: 25, TaxCodeRef: { value: 'NON' } },
    ]);
  });

  it('Given 40 drafts and a fake that throttles above 3 requests at once When writing with concurrent: 3 Then no request is throttled and all 40 are written', async () => {
    const slow = await startFakeQuickBooks({ concurrent: 3, latencyMs: 20 });
    slow.addCustomer('Acme Ltd');
    try {
      const config = qboConfig(slow, { rateLimits: { concurrent: 3, requestsPerMinute: 500, windowMs: 60_000 } });
      await connect(ledger, slow, config);
      const drafts = Array.from({ length: 40 }, (_, i) => draft(100 + i));
      const outcomes = await quickBooksDestination.write(config, drafts, writeCtx(new Map(), { ledger }));
      expect(outcomes.filter((o) => o.status === 'written')).toHaveLength(40);
      expect(slow.stats.throttled).toBe(0);
      expect(slow.stats.maxInFlight).toBeLessThanOrEqual(3);
    } finally {
      await slow.stop();
    }
  });

  it('Given a per-minute budget of 20 requests in a 1 s window When writing 25 drafts Then the client waits for the window instead of drawing 429s', async () => {
    const tight = await startFakeQuickBooks({ perMinute: 20, windowMs: 1000 });
    tight.addCustomer('Acme Ltd');
    try {
      const config = qboConfig(tight, { rateLimits: { concurrent: 10, requestsPerMinute: 18, windowMs: 1000 } });
      await connect(ledger, tight, config);
      const started = Date.now();
      const outcomes = await quickBooksDestination.write(
        config,
        Array.from({ length: 25 }, (_, i) => draft(200 + i)),
        writeCtx(new Map(), { ledger }),
      );
      expect(outcomes.every((o) => o.status === 'written')).toBe(true);
      expect(tight.stats.throttled).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    } finally {
      await tight.stop();
    }
  });

  it('Given no customer of that name and createMissing false When writing Then the draft fails with a config error saying how to fix it', async () => {
    const config = qboConfig(fake, { defaults: { itemRef: '1' } });
    await connect(ledger, fake, config);
    const [o] = await quickBooksDestination.write(config, [draft(6, { clientName: 'Nobody BV' })], writeCtx(new Map(), { ledger }));
    expect(o).toMatchObject({ status: 'failed', category: 'config' });
    expect(o?.status === 'failed' && o.message).toMatch(/no customer with DisplayName "Nobody BV".*createMissing/);
  });
});
