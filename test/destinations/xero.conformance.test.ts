import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { fakeTenant, xeroDestinationYaml } from '../xero/helpers';
import { describeDestinationConformance, type RemoteDocument } from './conformance';

/**
 * The Xero destination against the fake Xero server (test/fakes/xero-server.ts, built from
 * Xero's documented behaviour and its OpenAPI description).
 */
let fake: FakeXero;
/** Each configuration numbers its invoices apart, so cases sharing the fake never see each other's. */
let run = '';
let runs = 0;
const LIVE = (s: string) => s !== 'DELETED' && s !== 'VOIDED';
const writeRequests = () => fake.apiRequests().filter((r) => r.method !== 'GET' && /\/(Invoices|CreditNotes)/.test(r.path)).length;

describeDestinationConformance('xero', {
  kind: 'xero',
  async start() {
    fake = await startFakeXero({ tenants: [fakeTenant(71)] });
    fake.addContact('Acme Ltd');
    fake.addContact('Globex GmbH');
  },
  stop: () => fake.stop(),
  destinationYaml: ({ taxType }) => {
    run = `r${++runs}`;
    return xeroDestinationYaml(
      fake,
      'dest',
      `requestTimeoutMs: 3000`,
      `defaults:`,
      `  invoiceNumber: "HB-{{key}}-${run}"${taxType ? `\n      taxType: ${taxType}` : ''}`,
    );
  },
  env: () => ({ XERO_CLIENT_SECRET: fake.opts.clientSecret }),
  tax: { taxType: 'OUTPUT', rate: '0.15' },
  async documents(key): Promise<RemoteDocument[]> {
    const ours = (n: string | undefined) => n === `HB-${key}-${run}`;
    const invoices = [...fake.invoices.values()].filter((i) => ours(i.InvoiceNumber) && LIVE(i.Status));
    const notes = [...fake.creditNotes.values()].filter((c) => ours(c.CreditNoteNumber) && LIVE(c.Status));
    return [
      ...invoices.map((i) => ({
        id: i.InvoiceID,
        type: 'invoice' as const,
        status: i.Status,
        net: i.SubTotal.toFixed(2),
        lines: i.LineItems.length,
      })),
      ...notes.map((c) => ({
        id: c.CreditNoteID,
        type: 'credit-note' as const,
        status: c.Status,
        net: (-c.SubTotal).toFixed(2),
        lines: c.LineItems.length,
      })),
    ];
  },
  writes: () => writeRequests(),
  async approve(key) {
    const [doc] = await this.documents(key);
    if (!doc) throw new Error(`no Xero document for ${key}`);
    fake.setStatus(doc.id, 'AUTHORISED');
  },
  loseNextAnswer: () => fake.inject('drop-after-commit', { method: 'PUT', path: /\/Invoices$/ }),
  failNextWrites(kind, times) {
    // 5xx: Xero's 503 (developer.xero.com/documentation/api/http-response-codes); 429: the minute
    // limit with X-Rate-Limit-Problem and Retry-After (developer.xero.com/documentation/guides/oauth2/limits).
    if (kind === '5xx') fake.inject('503-before', { method: 'PUT', path: /\/Invoices$/, times });
    else
      fake.answer(() => ({ status: 429, headers: { 'X-Rate-Limit-Problem': 'minute', 'Retry-After': '1' } }), {
        method: 'PUT',
        path: /\/Invoices$/,
        times,
      });
  },
  refuse(key) {
    // A whole-request ValidationException naming the refused invoice (Error/Element schemas).
    fake.answer(
      (rec) => {
        const sent = (JSON.parse(rec.body) as { Invoices?: Record<string, unknown>[] }).Invoices ?? [];
        const bad = sent.find((i) => i.InvoiceNumber === `HB-${key}-${run}`);
        if (!bad) return undefined;
        return {
          status: 400,
          body: {
            ErrorNumber: 10,
            Type: 'ValidationException',
            Message: 'A validation exception occurred',
            Elements: [
              { ...bad, HasErrors: true, ValidationErrors: [{ Message: 'Account code 999 is not a valid code for this document.' }] },
            ],
          },
        };
      },
      { method: 'PUT', path: /\/Invoices$/, times: 20 },
    );
  },
  clearFaults: () => fake.clearFaults(),
});
