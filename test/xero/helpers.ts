import pino from 'pino';
import type { InvoiceDraft, InvoiceLineDraft } from '../../src/domain/invoice';
import type { PreviousWrite, WriteContext, WriteOutcome } from '../../src/connectors/contract';
import type { Ledger } from '../../src/ledger/db';
import { lineAmount, sum, fixed } from '../../src/domain/money';
import { XeroConfigSchema, type XeroConfig, type XeroConfigInput } from '../../connectors/xero/config.schema';
import type { FakeXero } from '../fakes/xero-server';

export const silentLog = pino({ level: 'silent' });

export function line(lineKey: string, quantity: string, unitPrice: string, extra: Partial<InvoiceLineDraft> = {}): InvoiceLineDraft {
  return {
    lineKey,
    description: `Consulting ${lineKey}`,
    quantity,
    unitPrice,
    amount: fixed(lineAmount(quantity, unitPrice), 2),
    kind: 'time',
    entryIds: [`sheet:${lineKey}`],
    ...extra,
  };
}

export function draft(n: number, over: Partial<InvoiceDraft> & { lines?: InvoiceLineDraft[] } = {}): InvoiceDraft {
  const lines = over.lines ?? [line('ann', '7.5', '95.00'), line('bob', '2.25', '120.00')];
  const clientId = over.clientId ?? 'acme';
  return {
    key: `${clientId}:2026-03:xero-main:${n}`,
    clientId,
    clientName: over.clientName ?? 'Acme Ltd',
    destinationId: 'xero-main',
    currency: 'EUR',
    period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
    sequence: n,
    issueDate: '2026-04-01',
    dueDate: '2026-05-01',
    hours: fixed(sum(lines.map((l) => l.quantity)), 2),
    total: fixed(sum(lines.map((l) => l.amount)), 2),
    contentHash: `hash-${n}-${lines.map((l) => `${l.quantity}x${l.unitPrice}`).join(',')}`,
    ...over,
    lines,
  };
}

let seq = 0;
export function xeroConfig(fake: FakeXero, over: Partial<XeroConfigInput> = {}): XeroConfig {
  return XeroConfigSchema.parse({
    id: `xero-test-${++seq}`,
    kind: 'xero',
    tenantId: fake.tenantId,
    auth: { grant: 'client_credentials', clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret },
    baseUrl: fake.apiBase,
    identity: { tokenUrl: fake.tokenUrl, authorizeUrl: fake.authorizeUrl, connectionsUrl: fake.connectionsUrl },
    requestTimeoutMs: 3000,
    ...over,
  });
}

export function writeCtx(
  previous: Map<string, PreviousWrite> = new Map(),
  services: { ledger?: Ledger; redisUrl?: string } = {},
): WriteContext {
  return { log: silentLog, now: new Date(), configDir: '.', previous, services };
}

/** What the ledger would remember after these outcomes, for the next write. */
export function rememberedFrom(outcomes: WriteOutcome[], drafts: InvoiceDraft[]): Map<string, PreviousWrite> {
  const m = new Map<string, PreviousWrite>();
  for (const o of outcomes) {
    if (o.status !== 'written') continue;
    const d = drafts.find((x) => x.key === o.key)!;
    m.set(o.key, {
      remoteId: o.remoteId,
      remoteStatus: o.remoteStatus,
      remoteLineIds: o.remoteLineIds,
      pushedHash: d.contentHash,
      ...(o.remoteType ? { remoteType: o.remoteType } : {}),
    });
  }
  return m;
}

export const fakeTenant = (n: number) => ({
  tenantId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  tenantName: `Fake Org ${n}`,
});

/**
 * A `kind: xero` destination entry (YAML, list item under `destinations:`) pointed at the fake,
 * with client-credentials auth; the secret comes from XERO_CLIENT_SECRET (pass
 * `fake.opts.clientSecret` in the loader's env). `extra` lines are added as they are (indented
 * by four spaces), e.g. `defaults: { taxType: OUTPUT }`.
 */
export function xeroDestinationYaml(fake: FakeXero, id: string, ...extra: string[]): string {
  return [
    `  - id: ${id}`,
    '    kind: xero',
    `    tenantId: ${fake.tenantId}`,
    '    auth:',
    '      grant: client_credentials',
    `      clientId: ${fake.opts.clientId}`,
    '      clientSecret: ${XERO_CLIENT_SECRET}',
    `    baseUrl: ${fake.apiBase}`,
    `    identity: { tokenUrl: ${fake.tokenUrl}, authorizeUrl: ${fake.authorizeUrl}, connectionsUrl: ${fake.connectionsUrl} }`,
    ...extra.map((l) => `    ${l}`),
  ].join('\n');
}

/**
 * config/example.yaml billed through Xero: every client's destination becomes a `xero` one at
 * the fake (contacts created when missing) and the source reads `csvPath`.
 */
export function exampleOnXeroYaml(exampleYaml: string, csvPath: string, fake: FakeXero): string {
  return exampleYaml
    .replace('path: ../example/hours.csv', `path: ${csvPath}`)
    .replace(/destination: (files|einvoices)/g, 'destination: xero')
    .replace(
      /destinations:[\s\S]*$/,
      `destinations:\n${xeroDestinationYaml(fake, 'xero', 'defaults: { contact: { createMissing: true } }')}\n`,
    );
}
