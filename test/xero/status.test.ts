import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { xeroDestination } from '../../connectors/xero';
import {
  createXeroWebhookHandler,
  processXeroWebhookEvents,
  verifyXeroSignature,
  type XeroWebhookEvent,
} from '../../connectors/xero/webhook';
import { pollXeroStatuses, toRemoteStatus } from '../../connectors/xero/status';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { draft, fakeTenant, line, writeCtx, xeroConfig } from './helpers';

const WEBHOOK_KEY = 'fake-webhook-key-for-tests-only';
const sign = (body: Buffer, key = WEBHOOK_KEY) => createHmac('sha256', key).update(body).digest('base64');

describe('Xero webhook signature', () => {
  const body = Buffer.from(JSON.stringify({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: 'ABCDEF' }));

  it('Given the raw body signed with the webhook key, when verified, then it is accepted; any other key, body or header is refused', () => {
    expect(verifyXeroSignature(body, sign(body), WEBHOOK_KEY)).toBe(true);
    expect(verifyXeroSignature(body, sign(body, 'another-key'), WEBHOOK_KEY)).toBe(false);
    expect(verifyXeroSignature(Buffer.concat([body, Buffer.from(' ')]), sign(body), WEBHOOK_KEY)).toBe(false);
    expect(verifyXeroSignature(body, '', WEBHOOK_KEY)).toBe(false);
    expect(verifyXeroSignature(body, 'short', WEBHOOK_KEY)).toBe(false);
  });

  it('Given a re-serialised body (same JSON, other bytes), when verified, then it is refused: the signature covers the raw bytes', () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
    expect(verifyXeroSignature(pretty, sign(body), WEBHOOK_KEY)).toBe(false);
  });

  it('Given an intent-to-receive check, when the signature is bad, then 401 with an empty body; when good, then 200 with an empty body', async () => {
    const seen: XeroWebhookEvent[][] = [];
    const handler = createXeroWebhookHandler({
      webhookKey: WEBHOOK_KEY,
      ledger: undefined as unknown as Ledger,
      destinations: [],
      onEvents: (e) => void seen.push(e),
    });
    expect(await handler(body, { 'x-xero-signature': sign(body, 'wrong') })).toEqual({ status: 401, body: '' });
    expect(await handler(body, { 'X-Xero-Signature': sign(body) })).toEqual({ status: 200, body: '' });
    expect(seen).toHaveLength(0);
  });

  it('Given Xero statuses, when mapped, then approved/paid bill, voided/deleted release, submitted stays a draft', () => {
    expect(['DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID', 'VOIDED', 'DELETED', 'ODD'].map(toRemoteStatus)).toEqual([
      'draft',
      'draft',
      'approved',
      'paid',
      'voided',
      'deleted',
      undefined,
    ]);
  });
});

describe('Xero status back into the ledger', () => {
  let fake: FakeXero;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeXero({ tenants: [fakeTenant(61)] });
    fake.addContact('Acme Ltd');
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });

  /** A pushed invoice in the ledger with two drafted entries, as the push stage leaves it. */
  async function pushedInvoice(n: number, config: ReturnType<typeof xeroConfig>, d = draft(n)) {
    const [o] = await xeroDestination.write(config, [d], writeCtx());
    const remoteId = (o as { remoteId: string }).remoteId;
    const remoteType = (o as { remoteType?: string }).remoteType ?? null;
    const [inv] = await ledger.rows<{ id: number }>(sql`
      INSERT INTO invoices (key, client_id, destination_id, currency, period_start, period_end, period_label, sequence, status,
        hours, total, issue_date, due_date, content_hash, pushed_hash, remote_id, remote_status, remote_type, draft)
      VALUES (${d.key}, ${d.clientId}, ${config.id}, 'EUR', '2026-03-01', '2026-03-31', '2026-03', ${n}, 'pushed',
        ${d.hours}, ${d.total}, '2026-04-01', '2026-05-01', ${d.contentHash}, ${d.contentHash}, ${remoteId}, 'DRAFT', ${remoteType}, ${JSON.stringify(d)}::jsonb)
      RETURNING id::int AS id`);
    const entryIds: number[] = [];
    for (const ext of ['a', 'b']) {
      const [e] = await ledger.rows<{ id: number }>(sql`
        INSERT INTO time_entries (source_id, external_id, content_hash, status, client_id, worker, work_date, duration_seconds, billable, data)
        VALUES ('sheet', ${`${n}-${ext}`}, 'h', 'drafted', ${d.clientId}, 'Ann', '2026-03-02', 3600, true, '{}'::jsonb) RETURNING id::int AS id`);
      await ledger.rows(
        sql`INSERT INTO invoice_entries (entry_id, invoice_id, entry_revision, live, lines) VALUES (${e!.id}, ${inv!.id}, 1, true, '[]'::jsonb)`,
      );
      entryIds.push(e!.id);
    }
    return { remoteId, invoiceId: inv!.id, entryIds };
  }

  const state = async (invoiceId: number, entryIds: number[]) => {
    const [inv] = await ledger.rows<{ status: string; live: boolean; remote_status: string }>(
      sql`SELECT status, live, remote_status FROM invoices WHERE id = ${invoiceId}`,
    );
    const entries = await ledger.rows<{ status: string }>(
      sql`SELECT status FROM time_entries WHERE id = ANY(${sql.param(entryIds)}::bigint[]) ORDER BY id`,
    );
    return { ...inv!, entries: entries.map((e) => e.status) };
  };

  it('Given a signed INVOICE event for an approved draft, when handled, then 200 and the invoice is approved and its entries billed', async () => {
    const config = xeroConfig(fake, { webhookKey: WEBHOOK_KEY });
    const { remoteId, invoiceId, entryIds } = await pushedInvoice(1, config);
    fake.setStatus(remoteId, 'AUTHORISED');
    const body = Buffer.from(
      JSON.stringify({
        events: [
          {
            resourceUrl: `${fake.apiBase}/Invoices/${remoteId}`,
            resourceId: remoteId,
            eventDateUtc: new Date().toISOString(),
            eventType: 'UPDATE',
            eventCategory: 'INVOICE',
            tenantId: config.tenantId,
            tenantType: 'ORGANISATION',
          },
        ],
        firstEventSequence: 1,
        lastEventSequence: 1,
        entropy: 'XYZ',
      }),
    );
    let done: Promise<unknown> = Promise.resolve();
    const handler = createXeroWebhookHandler({
      webhookKey: WEBHOOK_KEY,
      ledger,
      destinations: [config],
      onEvents: (events) => {
        done = processXeroWebhookEvents(events, { ledger, destinations: [config] });
      },
    });
    expect(await handler(body, { 'x-xero-signature': sign(body) })).toEqual({ status: 200, body: '' });
    expect(await done).toEqual({ applied: 1, ignored: 0 });
    expect(await state(invoiceId, entryIds)).toEqual({
      status: 'approved',
      live: true,
      remote_status: 'AUTHORISED',
      entries: ['billed', 'billed'],
    });
  });

  it('Given a signed CREDITNOTE event for a credit note finance approved, when handled, then the credit note is fetched and the ledger approves it', async () => {
    const config = xeroConfig(fake, { webhookKey: WEBHOOK_KEY });
    const { remoteId, invoiceId, entryIds } = await pushedInvoice(5, config, draft(5, { lines: [line('credit', '-2', '95.00')] }));
    expect(fake.creditNotes.has(remoteId)).toBe(true);
    fake.setCreditNoteStatus(remoteId, 'AUTHORISED');
    // Payload shape: xero-webhooks.yaml, publishCreditNoteEvent.
    const events: XeroWebhookEvent[] = [
      {
        resourceUrl: `${fake.apiBase}/CreditNotes/${remoteId}`,
        resourceId: remoteId,
        eventDateUtc: new Date().toISOString(),
        eventType: 'UPDATE',
        eventCategory: 'CREDITNOTE',
        tenantId: config.tenantId,
        tenantType: 'ORGANISATION',
      },
    ];
    expect(await processXeroWebhookEvents(events, { ledger, destinations: [config] })).toEqual({ applied: 1, ignored: 0 });
    expect(await state(invoiceId, entryIds)).toEqual({
      status: 'approved',
      live: true,
      remote_status: 'AUTHORISED',
      entries: ['billed', 'billed'],
    });
  });

  it('Given a deleted draft and a paid invoice missed by webhooks, when polling, then the deleted one releases its entries and the paid one bills them', async () => {
    const config = xeroConfig(fake);
    const deleted = await pushedInvoice(2, config);
    const paid = await pushedInvoice(3, config);
    const untouched = await pushedInvoice(4, config);
    fake.setStatus(deleted.remoteId, 'DELETED');
    fake.setStatus(paid.remoteId, 'PAID');
    const result = await pollXeroStatuses({ config, ledger });
    expect(result).toEqual({ checked: 3, changed: 2 });
    expect(await state(deleted.invoiceId, deleted.entryIds)).toEqual({
      status: 'deleted',
      live: false,
      remote_status: 'DELETED',
      entries: ['rated', 'rated'],
    });
    expect(await state(paid.invoiceId, paid.entryIds)).toEqual({
      status: 'paid',
      live: true,
      remote_status: 'PAID',
      entries: ['billed', 'billed'],
    });
    expect(await state(untouched.invoiceId, untouched.entryIds)).toMatchObject({ status: 'pushed', entries: ['drafted', 'drafted'] });
  });
});
