import { describeDestinationConformance, type RemoteDocument } from '../../test/destinations/conformance';
import { dec } from '../../src/domain/money';
import { startFakeMoneybird, type FakeMoneybird } from './fake-moneybird';

/**
 * The Moneybird destination against the local Moneybird (fake-moneybird.ts, built from the
 * payloads of the API reference). A credit invoice is a sales invoice with a negative total.
 */
let fake: FakeMoneybird;

describeDestinationConformance('moneybird', {
  kind: 'moneybird',
  async start() {
    fake = await startFakeMoneybird();
  },
  stop: () => fake.stop(),
  destinationYaml: ({ taxType }) =>
    [
      '  - id: dest',
      '    kind: moneybird',
      `    administrationId: "${fake.administrationId}"`,
      '    token: ${MONEYBIRD_API_TOKEN}',
      `    baseUrl: ${fake.baseUrl}`,
      `    defaults: { taxRateId: "${fake.taxRate.id}", ledgerAccountId: "${fake.ledgerAccountId}" }`,
      ...(taxType ? [`    taxRates: { ${taxType}: "${fake.taxRate.id}" }`] : []),
      '    timeoutMs: 2000',
      '    retry: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 200 }',
    ].join('\n'),
  env: () => ({ MONEYBIRD_API_TOKEN: fake.token }),
  tax: { taxType: 'NL-high', rate: '0.21' },
  async documents(key): Promise<RemoteDocument[]> {
    return [...fake.invoices.values()]
      .filter((i) => i.reference === key)
      .map((i) => ({
        id: i.id,
        type: dec(i.total_price_excl_tax).isNegative() ? 'credit-note' : 'invoice',
        status: i.state,
        net: dec(i.total_price_excl_tax).toFixed(2),
        lines: i.details.length,
      }));
  },
  writes: () => fake.writes(),
  async approve(key) {
    const inv = [...fake.invoices.values()].find((i) => i.reference === key);
    if (!inv) throw new Error(`no Moneybird invoice for ${key}`);
    fake.setState(inv.id, 'open');
  },
  loseNextAnswer: () => fake.fail('lose', 1),
  failNextWrites: (kind, times) => fake.fail(kind, times),
  refuse: (key) => fake.refuse(key),
  clearFaults() {
    fake.clearFaults();
    fake.invoices.clear();
  },
});
