import { randomBytes } from 'node:crypto';
import { startFakeQuickBooks, type FakeQuickBooks, type FakeTxn } from '../fakes/quickbooks-server';
import { describeDestinationConformance, type RemoteDocument } from './conformance';

/**
 * The QuickBooks Online destination against the fake QuickBooks (test/fakes/quickbooks-server.ts,
 * built from Intuit's documented payloads). A draft is an Estimate (TxnStatus Pending); finance
 * "approves" by converting it into an invoice, which closes it; a negative correction is a
 * CreditMemo. Each configuration gets its own realm, so cases sharing the fake never see each
 * other's documents; its refresh token comes from the config (auth.refreshToken) and rotates
 * into the case's ledger on first use.
 */
process.env.HOURBRIDGE_SECRET_KEY ??= randomBytes(32).toString('base64');

let fake: FakeQuickBooks;
let realm = '';
let realms = 0;
let seed = '';

const mine = (t: FakeTxn, key: string, entity: 'Estimate' | 'CreditMemo') =>
  fake.realmOf(entity, t.Id) === realm && t.PrivateNote === `Hourbridge ${key}`;
const net = (t: FakeTxn) => (t.TotalAmt - (t.TxnTaxDetail?.TotalTax ?? 0)).toFixed(2);
const salesLines = (t: FakeTxn) => t.Line.filter((l) => l.DetailType === 'SalesItemLineDetail').length;

describeDestinationConformance('quickbooks', {
  async start() {
    fake = await startFakeQuickBooks();
  },
  stop: () => fake.stop(),
  destinationYaml: ({ taxType }) => {
    realm = `91303500${String(++realms).padStart(8, '0')}`;
    fake.addRealm(realm);
    fake.addCustomer('Acme Ltd', realm);
    fake.addCustomer('Globex GmbH', realm);
    seed = fake.issueTokenSet(realm).refresh_token;
    return [
      '  - id: dest',
      '    kind: quickbooks',
      `    realmId: "${realm}"`,
      `    baseUrl: ${fake.apiBase}`,
      '    auth:',
      '      clientId: test-client-id',
      '      clientSecret: ${QBO_CLIENT_SECRET}',
      '      refreshToken: ${QBO_REFRESH_TOKEN}',
      `    oauth: { tokenUrl: ${fake.tokenUrl}, authorizeUrl: ${fake.authorizeUrl} }`,
      `    defaults: { itemRef: "1"${taxType ? `, taxCode: ${taxType}` : ''} }`,
      '    requestTimeoutMs: 3000',
    ].join('\n');
  },
  env: () => ({ QBO_CLIENT_SECRET: fake.opts.clientSecret, QBO_REFRESH_TOKEN: seed }),
  tax: { taxType: 'TAX', rate: '0.2' },
  async documents(key): Promise<RemoteDocument[]> {
    const estimates = [...fake.docs.Estimate.values()].filter((t) => mine(t, key, 'Estimate'));
    const memos = [...fake.docs.CreditMemo.values()].filter((t) => mine(t, key, 'CreditMemo'));
    return [
      ...estimates.map((t) => ({
        id: t.Id,
        type: 'invoice' as const,
        status: t.TxnStatus ?? 'Pending',
        net: net(t),
        lines: salesLines(t),
      })),
      ...memos.map((t) => ({
        id: t.Id,
        type: 'credit-note' as const,
        status: t.EmailStatus ?? 'NotSet',
        net: (-Number(net(t))).toFixed(2),
        lines: salesLines(t),
      })),
    ];
  },
  writes: () =>
    fake.requests.filter((r) => r.method === 'POST' && new RegExp(`/company/${realm}/(estimate|creditmemo)$`).test(r.path)).length,
  async approve(key) {
    const [doc] = await this.documents(key);
    if (!doc) throw new Error(`no QuickBooks estimate for ${key}`);
    // Finance converts the estimate into an invoice: QuickBooks closes the estimate.
    fake.setFields('Estimate', doc.id, { TxnStatus: 'Closed' });
  },
  loseNextAnswer: () => fake.inject('drop-after-commit', { method: 'POST', path: /\/estimate$/ }),
  failNextWrites(kind, times) {
    // 5xx: Intuit's 503 "System Failure Error"; 429: ThrottleExceeded (003001), sent without Retry-After.
    fake.inject(kind === '5xx' ? '503-before' : '429-before', { method: 'POST', path: /\/estimate$/, times });
  },
  refuse(key) {
    fake.inject('answer', {
      method: 'POST',
      path: /\/estimate$/,
      times: 20,
      answer: (rec) =>
        rec.body.includes(`"Hourbridge ${key}"`)
          ? {
              status: 400,
              body: {
                Fault: {
                  Error: [
                    {
                      Message: 'Invalid Reference Id',
                      Detail: 'Invalid Reference Id : Item assigned to this transaction has been deleted',
                      code: '2500',
                      element: 'Line.SalesItemLineDetail.ItemRef',
                    },
                  ],
                  type: 'ValidationFault',
                },
                time: new Date().toISOString(),
              },
            }
          : undefined,
    });
  },
  clearFaults: () => fake.clearFaults(),
});
