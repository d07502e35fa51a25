import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { destinationConnectorMap } from '../../src/runners/registry';
import { receiveWebhook } from '../../src/destinations/webhooks';

/** The one webhook route's dispatch (src/destinations/webhooks.ts), with the registered connectors. */
const KEY = 'fake-xero-webhook-key';
const body = Buffer.from(
  JSON.stringify({ events: [{ resourceId: 'inv-1', eventCategory: 'INVOICE', eventType: 'UPDATE', eventDateUtc: '2026-04-01T10:00:00' }] }),
);
const signed = (key: string) => ({ 'x-xero-signature': createHmac('sha256', key).update(body).digest('base64') });
const destinations = [
  { id: 'books', kind: 'xero' },
  { id: 'files', kind: 'file' },
];
const receive = (destinationId: string, headers: Record<string, string>, extra: { kind?: string; keys?: Record<string, string> } = {}) =>
  receiveWebhook({
    destinationId,
    destinations,
    connectors: destinationConnectorMap(),
    request: { rawBody: body, headers },
    serverKeys: extra.keys ?? { xero: KEY },
    ...(extra.kind ? { kind: extra.kind } : {}),
  });

describe('webhook route /webhooks/:destinationId', () => {
  it('Given a Xero destination When its webhook is signed with the key Then the invoice it names is an event; a wrong or missing signature is 401', () => {
    expect(receive('books', signed(KEY))).toEqual({
      status: 200,
      events: [{ remoteId: 'inv-1', eventId: 'inv-1.2026-04-01T10:00:00.UPDATE' }],
    });
    expect(receive('books', signed('another-key')).status).toBe(401);
    expect(receive('books', {}).status).toBe(401);
  });

  it('Given no signing key is configured When a webhook arrives Then 503 names where the key goes', () => {
    const a = receive('books', signed(KEY), { keys: {} });
    expect(a).toMatchObject({ status: 503, message: expect.stringContaining('server.webhooks.xero') });
  });

  it('Given an unknown destination, or one that takes no webhooks Then 404', () => {
    expect(receive('nope', signed(KEY)).status).toBe(404);
    expect(receive('files', signed(KEY)).status).toBe(404);
  });

  it('Given the old Xero route When the id is not a configured destination Then it still verifies as Xero (existing apps); a non-Xero id is 404', () => {
    expect(receive('old-id', signed(KEY), { kind: 'xero' }).status).toBe(200);
    expect(receive('old-id', signed('x'), { kind: 'xero' }).status).toBe(401);
    expect(receive('files', signed(KEY), { kind: 'xero' }).status).toBe(404);
  });
});
