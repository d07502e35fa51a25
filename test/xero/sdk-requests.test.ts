import '../fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { randomBytes } from 'node:crypto';
import { xeroDestination } from '../../connectors/xero';
import { XeroConfigSchema, type XeroConfig } from '../../connectors/xero/config.schema';
import { StoredTokens, readConnection, saveConnection } from '../../connectors/xero/token-store';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { draft, line, writeCtx } from './helpers';

/**
 * The exact HTTP requests Hourbridge sends to Xero's real hosts (through xero-node for the
 * accounting API), replayed with nock and the network disabled.
 */

const TENANT = '3f6ad0a4-6a35-4b9c-9a8e-1d2e3f4a5b6c';
const CONTACT = '8a1f3c2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b';
const INVOICE = 'c0ffee00-1234-4abc-8def-0123456789ab';
const LINE_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const LINE_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const CLIENT_ID = 'FAKECLIENTID0000000000000000000';
const CLIENT_SECRET = 'fake-secret-not-real';
const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

let n = 0;
function config(auth: 'client_credentials' | 'authorization_code' = 'client_credentials'): XeroConfig {
  return XeroConfigSchema.parse({
    id: `xero-nock-${++n}`,
    kind: 'xero',
    tenantId: TENANT,
    auth: { grant: auth, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
  });
}

const api = () =>
  nock('https://api.xero.com', {
    reqheaders: { 'xero-tenant-id': TENANT, authorization: 'Bearer fake-access-token', accept: 'application/json' },
  });
const limits = { 'X-MinLimit-Remaining': '59', 'X-DayLimit-Remaining': '4999', 'X-AppMinLimit-Remaining': '9999' };

function tokenEndpoint() {
  return nock('https://identity.xero.com', { reqheaders: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' } })
    .post('/connect/token', 'grant_type=client_credentials&scope=accounting.invoices+accounting.contacts')
    .reply(200, {
      access_token: 'fake-access-token',
      expires_in: 1800,
      token_type: 'Bearer',
      scope: 'accounting.invoices accounting.contacts',
    });
}

const returned = (lineIds: string[]) => ({
  Invoices: [
    {
      InvoiceID: INVOICE,
      Type: 'ACCREC',
      Status: 'DRAFT',
      InvoiceNumber: 'HB-acme:2026-03:xero-main:1',
      Reference: '2026-03',
      SubTotal: 982.5,
      TotalTax: 0,
      Total: 982.5,
      HasErrors: false,
      StatusAttributeString: 'OK',
      LineItems: lineIds.map((id) => ({ LineItemID: id })),
    },
  ],
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Exact requests to Xero', () => {
  it('Given a new draft, when written, then the SDK sends a client-credentials token request, a contact lookup by exact name and one PUT /Invoices with the documented query, headers and PascalCase body', async () => {
    const cfg = config();
    const token = tokenEndpoint();
    let idempotencyKey = '';
    let body: unknown;
    const scope = api()
      .get('/api.xro/2.0/Contacts')
      .query({ where: 'Name=="Acme Ltd"', page: '1', includeArchived: 'false', summaryOnly: 'true' })
      .reply(200, { Contacts: [{ ContactID: CONTACT, Name: 'Acme Ltd' }] }, limits)
      .put('/api.xro/2.0/Invoices', (b: unknown) => {
        body = b;
        return true;
      })
      .query({ summarizeErrors: 'false', unitdp: '2' })
      .matchHeader('idempotency-key', (v: string | null) => {
        idempotencyKey = v ?? '';
        return /^hb-create-[0-9a-f]{48}$/.test(idempotencyKey);
      })
      .reply(200, returned([LINE_A, LINE_B]), limits);

    const [o] = await xeroDestination.write(cfg, [draft(1)], writeCtx());
    expect(o).toMatchObject({
      status: 'written',
      remoteId: INVOICE,
      remoteStatus: 'DRAFT',
      remoteTotal: '982.50',
      remoteLineIds: { ann: LINE_A, bob: LINE_B },
    });
    expect(token.isDone() && scope.isDone()).toBe(true);
    expect(body).toEqual({
      Invoices: [
        {
          Type: 'ACCREC',
          Contact: { ContactID: CONTACT },
          LineItems: [
            { Description: 'Consulting ann', Quantity: 7.5, UnitAmount: 95 },
            { Description: 'Consulting bob', Quantity: 2.25, UnitAmount: 120 },
          ],
          Date: '2026-04-01',
          DueDate: '2026-05-01',
          LineAmountTypes: 'Exclusive',
          InvoiceNumber: 'HB-acme:2026-03:xero-main:1',
          Reference: '2026-03',
          CurrencyCode: 'EUR',
          Status: 'DRAFT',
        },
      ],
    });

    // Same drafts, same request: the Idempotency-Key is deterministic.
    let again = '';
    api()
      .get('/api.xro/2.0/Contacts')
      .query(true)
      .reply(200, { Contacts: [{ ContactID: CONTACT, Name: 'Acme Ltd' }] })
      .get('/api.xro/2.0/Invoices')
      .query(true)
      .reply(200, { Invoices: [] })
      .put('/api.xro/2.0/Invoices')
      .query(true)
      .matchHeader('idempotency-key', (v: string | null) => {
        again = v ?? '';
        return true;
      })
      .reply(200, returned([LINE_A, LINE_B]));
    await xeroDestination.write(cfg, [draft(1)], writeCtx());
    expect(again).toBe(idempotencyKey);
  });

  it('Given a pushed draft whose entries changed, when written, then the SDK reads it by id and POSTs /Invoices/{id} with unitdp, an Idempotency-Key and every line with its LineItemID', async () => {
    const cfg = config();
    tokenEndpoint();
    let body: { Invoices: { InvoiceID?: string; LineItems: Record<string, unknown>[] }[] } | undefined;
    const scope = api()
      .get('/api.xro/2.0/Contacts')
      .query(true)
      .reply(200, { Contacts: [{ ContactID: CONTACT, Name: 'Acme Ltd' }] })
      .get('/api.xro/2.0/Invoices')
      .query({ IDs: INVOICE, page: '1' })
      .reply(200, { Invoices: [{ InvoiceID: INVOICE, Status: 'DRAFT' }] })
      .post(`/api.xro/2.0/Invoices/${INVOICE}`, (b: typeof body) => {
        body = b;
        return true;
      })
      .query({ unitdp: '2' })
      .matchHeader('idempotency-key', /^hb-update-[0-9a-f]{48}$/)
      .reply(200, {
        Invoices: [
          {
            InvoiceID: INVOICE,
            Status: 'DRAFT',
            SubTotal: 1080,
            Total: 1080,
            LineItems: [{ LineItemID: LINE_A }, { LineItemID: LINE_B }, { LineItemID: 'cccccccc-0000-4000-8000-000000000003' }],
          },
        ],
      });

    const d = draft(1, { lines: [line('ann', '8', '95.00'), line('bob', '2.25', '120.00'), line('cy', '1', '70.00')] });
    const previous = new Map([
      [d.key, { remoteId: INVOICE, remoteStatus: 'DRAFT', remoteLineIds: { ann: LINE_A, bob: LINE_B }, pushedHash: 'older' }],
    ]);
    const [o] = await xeroDestination.write(cfg, [d], writeCtx(previous));
    expect(scope.isDone()).toBe(true);
    expect(o).toMatchObject({
      status: 'written',
      remoteTotal: '1080.00',
      remoteLineIds: { ann: LINE_A, bob: LINE_B, cy: 'cccccccc-0000-4000-8000-000000000003' },
    });
    expect(body!.Invoices[0]!.InvoiceID).toBe(INVOICE);
    expect(body!.Invoices[0]!.LineItems).toEqual([
      { LineItemID: LINE_A, Description: 'Consulting ann', Quantity: 8, UnitAmount: 95 },
      { LineItemID: LINE_B, Description: 'Consulting bob', Quantity: 2.25, UnitAmount: 120 },
      { Description: 'Consulting cy', Quantity: 1, UnitAmount: 70 },
    ]);
  });

  it('Given a contact configured by number, when resolved, then the SDK sends GET /Contacts/{ContactNumber}', async () => {
    const cfg = XeroConfigSchema.parse({ ...config(), defaults: { contact: { contactNumber: 'CUST 042' } } });
    tokenEndpoint();
    const scope = api()
      .get('/api.xro/2.0/Contacts/CUST%20042')
      .reply(200, { Contacts: [{ ContactID: CONTACT, Name: 'Acme Ltd', ContactNumber: 'CUST 042' }] })
      .put(
        '/api.xro/2.0/Invoices',
        (b: { Invoices: { Contact: unknown }[] }) => JSON.stringify(b.Invoices[0]!.Contact) === JSON.stringify({ ContactID: CONTACT }),
      )
      .query(true)
      .reply(200, returned([LINE_A, LINE_B]));
    const [o] = await xeroDestination.write(cfg, [draft(1)], writeCtx());
    expect(o!.status).toBe('written');
    expect(scope.isDone()).toBe(true);
  });
});

describe('Exact token refresh request', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(() => ledger.close());

  it('Given a stored token set, when refreshed, then Xero receives a form-encoded refresh_token grant with HTTP Basic client auth, and the rotated refresh token is stored', async () => {
    const key = parseSecretKey(randomBytes(32).toString('hex'));
    const cfg = config('authorization_code');
    await saveConnection(ledger, key, {
      id: cfg.id,
      tenantId: TENANT,
      tokenSet: { access_token: 'fake-old-at', refresh_token: 'fake-old-rt', expires_at: 0 },
    });
    const scope = nock('https://identity.xero.com', {
      reqheaders: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    })
      .post('/connect/token', 'grant_type=refresh_token&refresh_token=fake-old-rt')
      .reply(200, {
        access_token: 'fake-new-at',
        refresh_token: 'fake-new-rt',
        expires_in: 1800,
        token_type: 'Bearer',
        scope: 'offline_access accounting.invoices',
      });
    expect(await new StoredTokens(cfg, ledger, { key }).accessToken()).toBe('fake-new-at');
    expect(scope.isDone()).toBe(true);
    expect((await readConnection(ledger, key, cfg.id))!.tokenSet).toMatchObject({
      access_token: 'fake-new-at',
      refresh_token: 'fake-new-rt',
    });
  });
});
