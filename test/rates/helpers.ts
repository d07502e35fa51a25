import { parse as parseYaml } from 'yaml';
import { ClientSchema, type ClientConfig } from '../../src/config/client.schema';
import { TimeEntry, type TimeEntryInput } from '../../src/domain/time-entry';
import type { RatedLine } from '../../src/domain/rated-line';
import { compileRates, ratesConfigSchema, type CompiledRates, type PricingInput, type PricingOutcome } from '../../src/rates';
import type { RateEngine } from '../../src/rates/rate.engine';

export const ZONE = 'Europe/Amsterdam';

export function client(id: string, extra: Partial<ClientConfig> = {}): ClientConfig {
  return ClientSchema.parse({ id, name: id.toUpperCase(), currency: 'EUR', timeZone: ZONE, destination: 'files', ...extra });
}

/** Parses a `rates:` YAML section the way the config loader does and compiles it. */
export function ratesFromYaml(
  yaml: string,
  clients: ClientConfig[] = [client('acme')],
): { rates: RateEngine; issues: ReturnType<typeof compileRates>['issues'] } {
  const raw = parseYaml(yaml) as { rates: unknown };
  const parsed = ratesConfigSchema.safeParse(raw.rates);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues, null, 2));
  const { rates, issues } = compileRates(parsed.data, clients);
  return { rates: rates as RateEngine, issues };
}

let seq = 0;
/** A shift in the client zone: local 'YYYY-MM-DD HH:MM' start and end (end may be the next day). */
export function shift(startLocal: string, endLocal: string, extra: Partial<TimeEntryInput> = {}): TimeEntry {
  const start = localToIso(startLocal);
  const end = localToIso(endLocal);
  return entry({
    start,
    end,
    date: startLocal.slice(0, 10),
    durationSeconds: (Date.parse(end) - Date.parse(start)) / 1000,
    ...extra,
  });
}

export function entry(extra: Partial<TimeEntryInput> = {}): TimeEntry {
  seq += 1;
  return TimeEntry.parse({
    sourceId: 'sheet',
    externalId: `e${seq}`,
    worker: { name: 'Anna' },
    client: 'ACME',
    clientId: 'acme',
    date: '2026-03-02',
    durationSeconds: 3600,
    timeZone: ZONE,
    billable: true,
    approved: true,
    provenance: { fetchedAt: '2026-03-31T00:00:00Z' },
    ...extra,
  });
}

import { DateTime } from 'luxon';
export function localToIso(local: string, zone = ZONE): string {
  const dt = DateTime.fromFormat(local, 'yyyy-LL-dd HH:mm', { zone });
  if (!dt.isValid) throw new Error(`bad local time ${local}`);
  return dt.toISO()!;
}

export function inputs(entries: TimeEntry[], c: ClientConfig = client('acme')): PricingInput[] {
  return entries.map((e) => ({ entry: e, client: { id: c.id, currency: c.currency, timeZone: c.timeZone } }));
}

export function priceOne(rates: CompiledRates, e: TimeEntry, c?: ClientConfig): PricingOutcome {
  return rates.price(inputs([e], c))[0]!;
}

export function linesOf(o: PricingOutcome): RatedLine[] {
  if (!o.ok) throw new Error(`not priced: ${o.reason}`);
  return o.lines;
}

/** Compact view of lines for table assertions: [quantity, unitPrice, amount rounded to cents, label]. */
export function brief(lines: RatedLine[]): Array<[string, string, string, string]> {
  return lines.map((l) => [l.quantity, l.unitPrice, Number(l.amount).toFixed(2), l.label]);
}
