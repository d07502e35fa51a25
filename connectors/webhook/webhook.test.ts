import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import pino from 'pino';
import type { WriteContext } from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { receiveWebhook } from '../../src/destinations/webhooks';
import { destinationConnectorMap } from '../../src/runners/registry';
import { WebhookConfigSchema, type WebhookConfig } from './config.schema';
import { startFakeReceiver, type FakeReceiver } from './fake-receiver';
import { webhookDestination } from './index';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, documentOf, sign, verifySignature } from './payload';

const log = pino({ level: 'silent' });
const ctx = (previous: WriteContext['previous'] = new Map()): WriteContext => ({ log, now: new Date(), configDir: '.', previous });

function draft(key: string, amounts: string[] = ['760.00', '400.00']): InvoiceDraft {
  const total = amounts.reduce((a, b) => a + Number(b), 0).toFixed(2);
  return {
    key,
    clientId: 'acme',
    clientName: 'Acme Ltd',
    destinationId: 'erp',
    currency: 'EUR',
    period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
    sequence: 1,
    issueDate: '2026-04-01',
    dueDate: '2026-05-01',
    lines: amounts.map((a, i) => ({
      lineKey: `l${i}`,
      description: `Web — Ann ${i}`,
      quantity: '4',
      unitPrice: (Number(a) / 4).toFixed(2),
      amount: a,
      kind: 'time' as const,
      taxType: 'NL-high',
      entryIds: [`sheet:${i}`],
    })),
    hours: String(4 * amounts.length),
    total,
    contentHash: `hash-${key}-${total}`,
  };
}

describe('webhook destination', () => {
  let fake: FakeReceiver;
  let config: WebhookConfig;
  beforeAll(async () => {
    fake = await startFakeReceiver();
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.clearFaults();
    fake.docs.clear();
    config = WebhookConfigSchema.parse({
      id: 'erp',
      kind: 'webhook',
      url: fake.url,
      statusUrl: fake.statusUrl,
      secret: fake.secret,
      timeoutMs: 2000,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    });
  });

  it('Given a signature When any byte of the body or the timestamp changes, or it is older than 5 minutes, Then it no longer verifies', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.nat(199),
        fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
        (bytes, at, ts) => {
          const body = Buffer.from(bytes);
          const signature = sign('secret-0123456789abcdef', ts, body);
          const check = (b: Buffer, t: number, nowS = ts) =>
            verifySignature({ secret: 'secret-0123456789abcdef', timestamp: String(t), signature, body: b, nowS });
          expect(check(body, ts)).toBe(true);
          const changed = Buffer.from(body);
          changed[at % body.length] = (changed[at % body.length]! + 1) % 256;
          expect(check(changed, ts)).toBe(false);
          expect(check(body, ts + 1, ts + 1)).toBe(false);
          expect(check(body, ts, ts + 301)).toBe(false);
        },
      ),
    );
  });

  it('Given a draft When written Then the receiver gets the documented version-1 body, signed, with the invoice key as idempotency key, and its id is the remote id', async () => {
    const [o] = await webhookDestination.write(config, [draft('acme-2026-03-erp-1')], ctx());
    expect(o).toMatchObject({
      status: 'written',
      remoteId: expect.stringMatching(/^wh-/),
      remoteStatus: 'draft',
      remoteType: 'invoice',
      remoteTotal: '1160.00',
    });
    const stored = fake.docs.get('acme-2026-03-erp-1')!;
    expect(stored.document).toEqual({
      type: 'invoice',
      key: 'acme-2026-03-erp-1',
      client: { id: 'acme', name: 'Acme Ltd' },
      currency: 'EUR',
      period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
      issueDate: '2026-04-01',
      dueDate: '2026-05-01',
      net: '1160.00',
      hours: '8',
      billedHours: '8',
      contentHash: 'hash-acme-2026-03-erp-1-1160.00',
      lines: [
        { key: 'l0', description: 'Web — Ann 0', kind: 'time', quantity: '4', unitPrice: '190.00', net: '760.00', taxType: 'NL-high' },
        { key: 'l1', description: 'Web — Ann 1', kind: 'time', quantity: '4', unitPrice: '100.00', net: '400.00', taxType: 'NL-high' },
      ],
    });
    expect(documentOf(draft('k', ['-50.00'])).type).toBe('credit-note');
  });

  it('Given a receiver that refuses the signature When written Then the invoice fails as auth, the secret in no message', async () => {
    const wrong = { ...config, secret: 'not-the-receivers-secret-42' };
    const [o] = await webhookDestination.write(wrong, [draft('acme-2026-03-erp-2')], ctx());
    expect(o).toMatchObject({ status: 'failed', category: 'auth' });
    expect(JSON.stringify(o)).not.toContain('not-the-receivers-secret-42');
    expect(fake.docs.size).toBe(0);
  });

  it('Given 429 with Retry-After When written Then the next attempt waits at least that long', async () => {
    fake.fail('429', 1);
    const started = Date.now();
    const [o] = await webhookDestination.write(config, [draft('acme-2026-03-erp-3')], ctx());
    expect(o!.status).toBe('written');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('Given a receiver that stays down When written Then the invoice fails transient after the configured attempts and the next one is still tried', async () => {
    fake.fail('5xx', 3);
    const out = await webhookDestination.write(
      { ...config, concurrency: 1 },
      [draft('acme-2026-03-erp-4'), draft('acme-2026-03-erp-5')],
      ctx(),
    );
    expect(out.map((o) => [o.key, o.status])).toEqual([
      ['acme-2026-03-erp-4', 'failed'],
      ['acme-2026-03-erp-5', 'written'],
    ]);
    expect(out[0]).toMatchObject({ category: 'transient', message: expect.stringContaining('503') });
  });

  it('Given a signed status webhook from the receiver When it reaches /webhooks/:id Then the documents it names are events; unsigned or stale it is 401', () => {
    const body = Buffer.from(JSON.stringify({ version: 1, events: [{ id: 'wh-7', status: 'approved' }] }));
    const ts = Math.floor(Date.now() / 1000);
    const receive = (headers: Record<string, string>) =>
      receiveWebhook({
        destinationId: 'erp',
        destinations: [config],
        connectors: destinationConnectorMap(),
        request: { rawBody: body, headers },
        serverKeys: {},
      });
    expect(receive({ [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: sign(fake.secret, ts, body) })).toEqual({
      status: 200,
      events: [{ remoteId: 'wh-7', eventId: `wh-7.${ts}` }],
    });
    expect(receive({}).status).toBe(401);
    expect(receive({ [TIMESTAMP_HEADER]: String(ts - 600), [SIGNATURE_HEADER]: sign(fake.secret, ts - 600, body) }).status).toBe(401);
  });

  it('Given the receiver When checked Then a signed ping is accepted; a closed port is a transient failure', async () => {
    expect(await webhookDestination.check(config, ctx())).toMatchObject({ ok: true });
    const closed = { ...config, url: 'http://127.0.0.1:9/hook', retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } };
    expect(await webhookDestination.check(closed, ctx())).toMatchObject({ ok: false, category: 'transient' });
  });
});
