import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { xeroDestination } from '../../connectors/xero';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { draft, fakeTenant, line, rememberedFrom, writeCtx, xeroConfig } from './helpers';

let fake: FakeXero;
beforeAll(async () => {
  fake = await startFakeXero({ tenants: [fakeTenant(1)], idempotencyWindowMs: 300 });
  fake.addContact('Acme Ltd', 'ACME-1');
});
afterAll(() => fake.stop());

describe('Xero push: create in batches', () => {
  it('Given 120 new drafts, when written, then Xero receives 3 PUT batches (50, 50, 20) with summarizeErrors=false and a deterministic Idempotency-Key, and every draft is one DRAFT ACCREC invoice', async () => {
    const config = xeroConfig(fake);
    const drafts = Array.from({ length: 120 }, (_, i) => draft(1000 + i));
    const before = fake.apiRequests('PUT', /\/Invoices$/).length;
    const outcomes = await xeroDestination.write(config, drafts, writeCtx());
    expect(outcomes.map((o) => o.status)).toEqual(drafts.map(() => 'written'));
    const puts = fake.apiRequests('PUT', /\/Invoices$/).slice(before);
    expect(puts.map((r) => (JSON.parse(r.body) as { Invoices: unknown[] }).Invoices.length).sort()).toEqual([20, 50, 50]);
    for (const r of puts) {
      expect(r.query.summarizeErrors).toBe('false');
      expect(r.headers['idempotency-key']).toMatch(/^hb-create-[0-9a-f]{48}$/);
    }
    for (const d of drafts) expect(fake.countByNumber(`HB-${d.key}`)).toBe(1);
    const first = outcomes[0]!;
    if (first.status !== 'written') throw new Error('expected written');
    const inv = fake.invoices.get(first.remoteId!)!;
    expect(inv).toMatchObject({ Type: 'ACCREC', Status: 'DRAFT', Reference: '2026-03', Total: 982.5 });
    expect(first.remoteTotal).toBe('982.50');
    expect(Object.keys(first.remoteLineIds ?? {})).toEqual(['ann', 'bob']);
    expect(first.warnings).toBeUndefined();
  });

  it('Given unchanged drafts already written, when written again, then no call reaches Xero', async () => {
    const config = xeroConfig(fake);
    const drafts = [draft(2000), draft(2001)];
    const first = await xeroDestination.write(config, drafts, writeCtx());
    const calls = fake.stats.apiCalls;
    const again = await xeroDestination.write(config, drafts, writeCtx(rememberedFrom(first, drafts)));
    expect(again.map((o) => o.status)).toEqual(['written', 'written']);
    expect(fake.stats.apiCalls).toBe(calls);
  });
});

describe('Xero push: uncertain outcomes never duplicate', () => {
  it('Given Xero commits the batch but the response is lost, when the write retries, then it finds the invoices by number and there is one invoice each', async () => {
    const config = xeroConfig(fake);
    const drafts = [draft(3000), draft(3001), draft(3002)];
    fake.inject('drop-after-commit', { method: 'PUT', path: /\/Invoices$/ });
    const putsBefore = fake.apiRequests('PUT', /\/Invoices$/).length;
    const outcomes = await xeroDestination.write(config, drafts, writeCtx());
    expect(outcomes.map((o) => o.status)).toEqual(['written', 'written', 'written']);
    for (const d of drafts) expect(fake.countByNumber(`HB-${d.key}`)).toBe(1);
    expect(fake.stats.committedDrops).toBeGreaterThan(0);
    expect(fake.apiRequests('PUT', /\/Invoices$/).length - putsBefore).toBe(1);
    expect(fake.apiRequests('GET', /\/Invoices$/).some((r) => r.query.InvoiceNumbers?.includes(`HB-${drafts[0]!.key}`))).toBe(true);
  });

  it('Given a run that gave up after a lost response, when a new run retries after the idempotency window, then it looks the invoices up first and still one invoice exists', async () => {
    const config = xeroConfig(fake, { maxAttempts: 1 });
    const drafts = [draft(4000), draft(4001)];
    fake.inject('drop-after-commit', { method: 'PUT', path: /\/Invoices$/ });
    const first = await xeroDestination.write(config, drafts, writeCtx());
    expect(first.map((o) => (o.status === 'failed' ? o.category : o.status))).toEqual(['transient', 'transient']);
    const lostPut = fake.apiRequests('PUT', /\/Invoices$/).at(-1)!;
    await new Promise((r) => setTimeout(r, 400)); // past the fake's 300 ms idempotency window

    // The window really is over: the same key and body are processed afresh (not replayed).
    const replay = await fetch(`${fake.apiBase}/Invoices?summarizeErrors=false`, {
      method: 'PUT',
      headers: { ...(lostPut.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(lostPut.body)) },
      body: lostPut.body,
    });
    const replayed = (await replay.json()) as { Invoices: { HasErrors: boolean }[] };
    expect(replayed.Invoices[0]!.HasErrors).toBe(true);

    const putsBefore = fake.apiRequests('PUT', /\/Invoices$/).length;
    const second = await xeroDestination.write(config, drafts, writeCtx());
    expect(second.map((o) => o.status)).toEqual(['written', 'written']);
    expect(fake.apiRequests('PUT', /\/Invoices$/).length).toBe(putsBefore);
    for (const d of drafts) expect(fake.countByNumber(`HB-${d.key}`)).toBe(1);
  });

  it('Given Xero answers 503 after committing, when the write retries, then one invoice exists', async () => {
    const config = xeroConfig(fake);
    const drafts = [draft(5000)];
    fake.inject('503-after-commit', { method: 'PUT', path: /\/Invoices$/ });
    const outcomes = await xeroDestination.write(config, drafts, writeCtx());
    expect(outcomes[0]!.status).toBe('written');
    expect(fake.countByNumber(`HB-${drafts[0]!.key}`)).toBe(1);
  });
});

describe('Xero push: per-invoice errors', () => {
  it("Given a batch of 50 with one invalid invoice, when written, then 49 are created in one request and the one carries Xero's message", async () => {
    const config = xeroConfig(fake);
    const drafts = Array.from({ length: 50 }, (_, i) =>
      i === 17 ? draft(6000 + i, { lines: [line('x', '1', '10.00', { taxType: 'BOGUS' })] }) : draft(6000 + i),
    );
    const putsBefore = fake.apiRequests('PUT', /\/Invoices$/).length;
    const outcomes = await xeroDestination.write(config, drafts, writeCtx());
    expect(fake.apiRequests('PUT', /\/Invoices$/).length - putsBefore).toBe(1);
    expect(outcomes.filter((o) => o.status === 'written')).toHaveLength(49);
    expect(outcomes[17]).toEqual({
      key: drafts[17]!.key,
      status: 'failed',
      category: 'permanent',
      message: "The TaxType code 'BOGUS' does not exist or cannot be used for this type of transaction.",
    });
    expect(fake.countByNumber(`HB-${drafts[17]!.key}`)).toBe(0);
  });

  it('Given a draft whose line amount is not quantity × price rounded, when written, then it fails before any call and the others go through', async () => {
    const config = xeroConfig(fake);
    const bad = draft(7000, { lines: [line('x', '3', '33.33', { amount: '100.00' })] });
    const outcomes = await xeroDestination.write(config, [bad, draft(7001)], writeCtx());
    expect(outcomes[0]).toMatchObject({ status: 'failed', category: 'permanent' });
    expect((outcomes[0] as { message: string }).message).toMatch(/99\.99/);
    expect(outcomes[1]!.status).toBe('written');
    expect(fake.countByNumber(`HB-${bad.key}`)).toBe(0);
  });

  it('Given a unit price with 4 decimals and unitPriceDecimals 2, when written, then it fails as a config problem naming the line', async () => {
    const config = xeroConfig(fake);
    const outcomes = await xeroDestination.write(config, [draft(7100, { lines: [line('x', '1', '10.1234')] })], writeCtx());
    expect(outcomes[0]).toMatchObject({ status: 'failed', category: 'config' });
    expect((outcomes[0] as { message: string }).message).toMatch(/unit price 10\.1234 has more than 2 decimals/);
  });

  it('Given unitPriceDecimals 4, when written, then unitdp=4 is sent and Xero keeps the 4-decimal price', async () => {
    const config = xeroConfig(fake, { defaults: { unitPriceDecimals: 4 } });
    const d = draft(7200, { lines: [line('x', '3', '10.1234')] });
    const [o] = await xeroDestination.write(config, [d], writeCtx());
    expect(o).toMatchObject({ status: 'written', remoteTotal: '30.37' });
    expect(fake.apiRequests('PUT', /\/Invoices$/).at(-1)!.query.unitdp).toBe('4');
  });

  it("Given an organisation that keeps only 2 decimals of a unit price, when its total differs from the ledger, then the outcome reads back Xero's own SubTotal (the push stage alerts on the difference)", async () => {
    const lossy = await startFakeXero({ tenants: [fakeTenant(2)], maxUnitdp: 2 });
    lossy.addContact('Acme Ltd');
    try {
      const config = xeroConfig(lossy, { defaults: { unitPriceDecimals: 4 } });
      const [o] = await xeroDestination.write(config, [draft(7300, { lines: [line('x', '3', '10.1234')] })], writeCtx());
      expect(o!.status).toBe('written');
      expect(o).toMatchObject({ status: 'written', remoteTotal: '30.36', remoteTax: '0.00', remoteGross: '30.36' });
    } finally {
      await lossy.stop();
    }
  });
});

describe('Xero push: contacts', () => {
  it('Given a client without a Xero contact, when createMissing is off, then the invoice fails with a config message and nothing is created', async () => {
    const config = xeroConfig(fake);
    const [o] = await xeroDestination.write(config, [draft(8000, { clientId: 'nobody', clientName: 'Nobody BV' })], writeCtx());
    expect(o).toMatchObject({ status: 'failed', category: 'config' });
    expect((o as { message: string }).message).toMatch(/no Xero contact is named "Nobody BV"/);
  });

  it('Given createMissing, when two invoices of a new client are written, then the contact is created once', async () => {
    const config = xeroConfig(fake, { defaults: { contact: { createMissing: true } } });
    const outcomes = await xeroDestination.write(
      config,
      [
        draft(8100, { clientId: 'newco', clientName: 'NewCo "Quoted" Ltd' }),
        draft(8101, { clientId: 'newco', clientName: 'NewCo "Quoted" Ltd' }),
      ],
      writeCtx(),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['written', 'written']);
    expect([...fake.contacts.values()].filter((c) => c.Name === 'NewCo "Quoted" Ltd')).toHaveLength(1);
  });

  it('Given a per-client ContactNumber, when written, then the invoice goes to that contact', async () => {
    const config = xeroConfig(fake, { clients: { other: { contact: { contactNumber: 'ACME-1' } } } });
    const [o] = await xeroDestination.write(config, [draft(8200, { clientId: 'other', clientName: 'Something Else' })], writeCtx());
    expect(o!.status).toBe('written');
    expect(fake.invoices.get((o as { remoteId: string }).remoteId)!.Contact.Name).toBe('Acme Ltd');
  });
});

describe('Xero push: a whole-request 400', () => {
  // Xero's ValidationException for a request (developer.xero.com/documentation/api/http-response-codes,
  // Error/Element schemas in xero_accounting.yaml) echoes each refused element with its ValidationErrors.
  const refuseBatchesHolding = (invoiceNumber: string, naming: boolean) => (rec: { body: string }) => {
    const sent = (JSON.parse(rec.body) as { Invoices: Record<string, unknown>[] }).Invoices;
    const bad = sent.find((i) => i.InvoiceNumber === invoiceNumber);
    if (!bad) return undefined;
    const element = naming
      ? { ...bad, HasErrors: true, ValidationErrors: [{ Message: 'Account code 999 is not a valid code for this document.' }] }
      : { ValidationErrors: [{ Message: 'Account code 999 is not a valid code for this document.' }] };
    return {
      status: 400,
      body: { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred', Elements: [element] },
    };
  };

  it('Given a batch of 50 that Xero refuses with a 400 naming one invoice, when written, then that invoice fails once with its message and the other 49 are written once each', async () => {
    const config = xeroConfig(fake);
    const drafts = Array.from({ length: 50 }, (_, i) => draft(9000 + i));
    const bad = drafts[17]!;
    fake.answer(refuseBatchesHolding(`HB-${bad.key}`, true), { method: 'PUT', path: /\/Invoices$/, times: 5 });
    try {
      const outcomes = await xeroDestination.write(config, drafts, writeCtx());
      const failed = outcomes.filter((o) => o.status === 'failed');
      expect(failed.map((o) => o.key)).toEqual([bad.key]);
      expect((failed[0] as { message: string }).message).toMatch(/Account code 999 is not a valid code/);
      expect(outcomes.filter((o) => o.status === 'written')).toHaveLength(49);
      for (const d of drafts) expect(fake.countByNumber(`HB-${d.key}`)).toBe(d === bad ? 0 : 1);
    } finally {
      fake.clearFaults();
    }
  });

  it('Given a batch Xero refuses with a 400 that names no invoice, when written, then the batch is halved until the refused invoice stands alone: it alone fails, the others are written', async () => {
    const config = xeroConfig(fake);
    const drafts = Array.from({ length: 20 }, (_, i) => draft(9100 + i));
    const bad = drafts[5]!;
    fake.answer(refuseBatchesHolding(`HB-${bad.key}`, false), { method: 'PUT', path: /\/Invoices$/, times: 50 });
    const before = fake.apiRequests('PUT', /\/Invoices$/).length;
    try {
      const outcomes = await xeroDestination.write(config, drafts, writeCtx());
      expect(outcomes.filter((o) => o.status === 'failed').map((o) => o.key)).toEqual([bad.key]);
      expect(outcomes.filter((o) => o.status === 'written')).toHaveLength(19);
      for (const d of drafts) expect(fake.countByNumber(`HB-${d.key}`)).toBe(d === bad ? 0 : 1);
      // 20 → 10 + 10 → 5 + 5 → 3 + 2 → 2 + 1 → 1 + 1: a handful of requests, not one per invoice.
      expect(fake.apiRequests('PUT', /\/Invoices$/).length - before).toBeLessThanOrEqual(11);
    } finally {
      fake.clearFaults();
    }
  });
});
