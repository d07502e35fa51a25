import type { TimeEntry } from '../../src/domain/time-entry';
import type { ClientConfig } from '../../src/config/client.schema';
import { ClientSchema } from '../../src/config/client.schema';
import { compileRates, ratesConfigSchema } from '../../src/rates/index';

/** A valid entry with sensible defaults; override what the test is about. */
export function entry(overrides: Partial<TimeEntry> & { externalId: string }): TimeEntry {
  return {
    sourceId: 'sheet',
    worker: { name: 'Anna de Vries' },
    client: 'Acme B.V.',
    clientId: 'acme',
    project: 'Website',
    tags: [],
    date: '2026-03-02',
    start: '2026-03-02T08:00:00.000Z',
    end: '2026-03-02T16:00:00.000Z',
    durationSeconds: 8 * 3600,
    breakSeconds: 0,
    timeZone: 'Europe/Amsterdam',
    billable: true,
    approved: true,
    billedAtSource: false,
    extras: [],
    provenance: { file: 'hours.csv', row: 2, fetchedAt: '2026-03-31T12:00:00.000Z' },
    ...overrides,
  };
}

export function client(overrides: Partial<ClientConfig> = {}): ClientConfig {
  return ClientSchema.parse({
    id: 'acme',
    name: 'Acme B.V.',
    currency: 'EUR',
    timeZone: 'Europe/Amsterdam',
    destination: 'files',
    period: { unit: 'month' },
    paymentTermsDays: 14,
    ...overrides,
  });
}

/** A one-rate card (65.00/h for acme, 15-minute nearest rounding). */
export function simpleRates(clients: ClientConfig[], hourly = '65.00') {
  const config = ratesConfigSchema.parse({
    rulesets: {
      standard: {
        base: [{ id: 'default', hourly }],
        rounding: { time: { incrementMinutes: 15, direction: 'nearest' } },
      },
    },
  });
  const { rates, issues } = compileRates(config, clients);
  if (issues.length > 0) throw new Error(issues.map((i) => i.message).join('; '));
  return rates;
}
