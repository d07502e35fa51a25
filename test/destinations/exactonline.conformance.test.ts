import { createHash, randomBytes } from 'node:crypto';
import { startFakeExact, type FakeExact } from '../fakes/exactonline-server';
import { describeDestinationConformance, type RemoteDocument } from './conformance';

/**
 * The Exact Online destination against the fake Exact site (test/fakes/exactonline-server.ts,
 * built from Exact's documented payloads). Drafts are sales invoices in status 10; finance
 * approves by processing them (status 50); a negative correction is a sales credit note
 * (type 8021). Each configuration gets its own division, and its refresh token from the config
 * (auth.refreshToken) rotates into the case's ledger on first use.
 */
process.env.HOURBRIDGE_SECRET_KEY ??= randomBytes(32).toString('base64');

const ITEM = '00000000-0000-4000-8000-000000000001';
let fake: FakeExact;
let division = 0;
let divisions = 0;
let seed = '';
const yourRef = (key: string) => `HB${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

describeDestinationConformance('exactonline', {
  async start() {
    fake = await startFakeExact();
  },
  stop: () => fake.stop(),
  destinationYaml: ({ taxType }) => {
    division = 2000000 + ++divisions;
    fake.addDivision(division);
    fake.addAccount('Acme Ltd', division);
    fake.addAccount('Globex GmbH', division);
    seed = fake.issueTokenSet().refresh_token;
    return [
      '  - id: dest',
      '    kind: exactonline',
      `    division: ${division}`,
      `    baseUrl: ${fake.url}`,
      '    auth:',
      '      clientId: test-client-id',
      '      clientSecret: ${EXACT_CLIENT_SECRET}',
      '      refreshToken: ${EXACT_REFRESH_TOKEN}',
      `    defaults: { item: "${ITEM}"${taxType ? `, vatCode: "${taxType}"` : ''} }`,
      '    requestTimeoutMs: 3000',
    ].join('\n');
  },
  env: () => ({ EXACT_CLIENT_SECRET: fake.opts.clientSecret, EXACT_REFRESH_TOKEN: seed }),
  tax: { taxType: '2', rate: '0.21' },
  async documents(key): Promise<RemoteDocument[]> {
    return [...fake.invoices.values()]
      .filter((i) => i.Division === division && i.YourRef === yourRef(key))
      .map((i) => ({
        id: i.InvoiceID,
        type: i.Type === 8021 ? ('credit-note' as const) : ('invoice' as const),
        status: String(i.Status),
        net: i.AmountFCExclVat.toFixed(2),
        lines: i.lines.length,
      }));
  },
  writes: () => fake.requests.filter((r) => r.method !== 'GET' && r.path.startsWith(`/api/v1/${division}/salesinvoice/`)).length,
  async approve(key) {
    const [doc] = await this.documents(key);
    if (!doc) throw new Error(`no Exact Online invoice for ${key}`);
    fake.setStatus(doc.id, 50);
  },
  loseNextAnswer: () => fake.inject('drop-after-commit', { method: 'POST', path: /\/SalesInvoices$/ }),
  failNextWrites(kind, times) {
    // 5xx: a 503; 429: over the minute budget, with X-RateLimit-Minutely-Reset.
    fake.inject(kind === '5xx' ? '503-before' : '429-before', { method: 'POST', path: /\/SalesInvoices$/, times });
  },
  refuse(key) {
    fake.inject('answer', {
      method: 'POST',
      path: /\/SalesInvoices$/,
      times: 20,
      answer: (rec) =>
        rec.body.includes(`"${yourRef(key)}"`)
          ? { status: 400, body: { error: { code: '', message: { lang: '', value: 'Item: Not found' } } } }
          : undefined,
    });
  },
  clearFaults: () => fake.clearFaults(),
});
