import { describeDestinationConformance, type RemoteDocument } from '../../test/destinations/conformance';
import { startFakeReceiver, type FakeReceiver } from './fake-receiver';

/**
 * The webhook destination against a real local HTTP receiver (fake-receiver.ts) that does what
 * README.md asks of one: signature check, upsert by invoice key, 409 once approved, GET /status.
 */
let fake: FakeReceiver;

describeDestinationConformance('webhook', {
  kind: 'webhook',
  async start() {
    fake = await startFakeReceiver();
  },
  stop: () => fake.stop(),
  destinationYaml: () =>
    [
      '  - id: dest',
      '    kind: webhook',
      `    url: ${fake.url}`,
      `    statusUrl: ${fake.statusUrl}`,
      '    secret: ${HOURBRIDGE_WEBHOOK_SECRET}',
      '    timeoutMs: 2000',
      '    retry: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 200 }',
    ].join('\n'),
  env: () => ({ HOURBRIDGE_WEBHOOK_SECRET: fake.secret }),
  async documents(key): Promise<RemoteDocument[]> {
    const d = fake.docs.get(key);
    if (!d || d.status === 'deleted' || d.status === 'voided') return [];
    return [{ id: d.id, type: d.type, status: d.status, net: d.net, lines: d.lines }];
  },
  writes: () => fake.writes(),
  async approve(key) {
    fake.approve(key);
  },
  loseNextAnswer: () => fake.fail('lose', 1),
  failNextWrites: (kind, times) => fake.fail(kind, times),
  refuse: (key) => fake.refuse(key),
  clearFaults() {
    fake.clearFaults();
    // Each case starts from an empty receiver, as each starts from an empty ledger.
    fake.docs.clear();
  },
});
