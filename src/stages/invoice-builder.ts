import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { ClientConfig, GroupDimension } from '../config/client.schema';
import type { BillingPeriod, InvoiceDraft, InvoiceLineDraft } from '../domain/invoice';
import type { BilledLine } from '../domain/rated-line';
import { dec, fixed, lineAmount, Money, sum } from '../domain/money';
import { vatForLine } from '../domain/tax';
import { stableJson } from '../ledger/entries.repository';
import type { CompiledRates } from '../rates/contract';
import { addDays, invoiceKey } from './periods';

/** Rated lines of one entry as they go onto an invoice; `correctionOf` marks a credit of earlier billing. */
export interface BillingItem {
  entryKey: string;
  lines: BilledLine[];
  /** Key of the approved invoice these lines were billed on; the lines are credited (negated). */
  correctionOf?: string;
}

interface Group {
  key: string;
  kind: BilledLine['kind'];
  unitPrice: string;
  taxType: string | undefined;
  correctionOf: string | undefined;
  lines: BilledLine[];
  entryIds: Set<string>;
}

/** Rule of the per-invoice minimum line (`invoiceAdjustments`): an amount, not hours. */
const INVOICE_MINIMUM_RULE = 'minimum:invoice';

/**
 * The earliest work date (YYYY-MM-DD) of the lines; '9999-12-31' for none. ISO dates order as
 * strings, so this compares text (Math.min would turn them into NaN).
 */
export function earliestDate(lines: readonly { date: string }[]): string {
  let earliest = '9999-12-31';
  for (const l of lines) if (l.date < earliest) earliest = l.date;
  return earliest;
}

function dimensionValue(line: BilledLine, dim: GroupDimension): string {
  switch (dim) {
    case 'worker':
      return line.worker;
    case 'project':
      return line.project ?? '';
    case 'task':
      return line.task ?? '';
    case 'role':
      return line.role ?? '';
    case 'date':
      return line.date;
    case 'rule':
      return line.rule;
  }
}

/**
 * The variables a description template can use (documented in README, "clients"): each renders
 * the one value all the line's entries share, else empty. Dates and times are the client's
 * local ones: `date` is the local date the line is billed on, or for a line holding both days
 * of a shift over midnight the date the shift starts; `start`/`end` are the local HH:mm at
 * which the line's time starts and ends (its part of the shift).
 */
export const TEMPLATE_VARIABLES = ['worker', 'project', 'task', 'role', 'date', 'start', 'end', 'rule', 'label', 'notes'] as const;

/** Render a description template; values that differ within a line render empty, dangling separators go. */
const templateNames = new Map<string, Set<string>>();
/** Whether a description template refers to a variable. */
function uses(template: string, name: string): boolean {
  let names = templateNames.get(template);
  if (!names) {
    names = new Set([...template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!));
    templateNames.set(template, names);
  }
  return names.has(name);
}

export function renderDescription(template: string, lines: BilledLine[], notes: string[], timeZone = 'UTC'): string {
  const single = (values: string[]) => {
    const set = new Set(values.filter((v) => v !== ''));
    return set.size === 1 ? [...set][0]! : '';
  };
  // Per entry (its pieces together): where it starts and ends, in the client's zone.
  const shifts = new Map<string, { date: string; start: string; end: string }>();
  for (const l of lines) {
    const id = `${l.sourceId}:${l.externalId}`;
    const s = shifts.get(id);
    if (!s) shifts.set(id, { date: l.date, start: l.start ?? '', end: l.end ?? '' });
    else {
      if (l.date < s.date) s.date = l.date;
      if (l.start && (!s.start || l.start < s.start)) s.start = l.start;
      if (l.end && l.end > s.end) s.end = l.end;
    }
  }
  const local = (iso: string) => (iso ? DateTime.fromISO(iso, { zone: timeZone }) : null);
  const shiftList = [...shifts.values()];
  const vars: Record<(typeof TEMPLATE_VARIABLES)[number], string> = {
    worker: single(lines.map((l) => l.worker)),
    project: single(lines.map((l) => l.project ?? '')),
    task: single(lines.map((l) => l.task ?? '')),
    role: single(lines.map((l) => l.role ?? '')),
    // The local date the line is billed on; a line holding both days of a shift over midnight
    // shows the date the shift starts (its first piece's date).
    date: single(lines.map((l) => l.date)) || single(shiftList.map((s) => s.date)),
    // Times are formatted only for templates that show them: a zone conversion per entry is
    // most of the cost of a description.
    start: uses(template, 'start') ? single(shiftList.map((s) => local(s.start)?.toFormat('HH:mm') ?? '')) : '',
    end: uses(template, 'end') ? single(shiftList.map((s) => local(s.end)?.toFormat('HH:mm') ?? '')) : '',
    rule: single(lines.map((l) => l.rule)),
    label: single(lines.map((l) => l.label)),
    notes: single(notes),
  };
  const text = template
    .replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => (vars as Record<string, string>)[name] ?? '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s—–\-,:|/]+/, '')
    .replace(/[\s—–\-,:|/(]+$/, '')
    .replace(/\(\s*\)/g, '')
    .trim();
  return text || lines[0]?.kind || 'Hours';
}

/**
 * Assemble one invoice draft from rated lines. Pure: the same items give the same draft, in any
 * order. Lines group by the client's dimensions and never merge different unit prices; each line
 * amount is quantity × unit price rounded half-up to cents, and the total is their exact sum.
 */
export function buildInvoiceDraft(args: {
  client: ClientConfig;
  period: BillingPeriod;
  destinationId: string;
  sequence: number;
  items: BillingItem[];
  rates?: CompiledRates;
  notes?: Map<string, string>;
}): InvoiceDraft {
  const { client, period, destinationId, sequence } = args;
  const groupBy = client.lines.groupBy;
  const groups = new Map<string, Group>();
  const regularLines: BilledLine[] = [];

  const add = (line: BilledLine, entryKey: string | null, correctionOf: string | undefined) => {
    const dims =
      groupBy === 'entry' ? [`entry=${entryKey ?? ''}`] : (groupBy as GroupDimension[]).map((d) => `${d}=${dimensionValue(line, d)}`);
    const key = stableJson({
      dims,
      kind: line.kind,
      price: dec(line.unitPrice).toString(),
      tax: line.taxType ?? '',
      label: line.label,
      corr: correctionOf ?? '',
    });
    let g = groups.get(key);
    if (!g) {
      g = { key, kind: line.kind, unitPrice: line.unitPrice, taxType: line.taxType, correctionOf, lines: [], entryIds: new Set() };
      groups.set(key, g);
    }
    g.lines.push(line);
    if (entryKey) g.entryIds.add(entryKey);
  };

  for (const item of args.items) {
    for (const line of item.lines) {
      if (item.correctionOf) {
        add(
          { ...line, quantity: dec(line.quantity).negated().toString(), amount: dec(line.amount).negated().toString() },
          item.entryKey,
          item.correctionOf,
        );
      } else {
        add(line, item.entryKey, undefined);
        regularLines.push(line);
      }
    }
  }
  for (const extra of args.rates?.invoiceAdjustments?.(client.id, period, regularLines) ?? []) add(extra, null, undefined);

  const rounding = args.rates?.quantityRounding?.(client.id);
  const built: Array<{ line: InvoiceLineDraft; firstDate: string }> = [];
  // Worked hours are the time lines; a call-out minimum's shortfall is billed hours, not worked
  // ones; the per-invoice minimum (quantity 1 of an amount) is neither.
  let hours = dec(0);
  let billedHours = dec(0);
  for (const g of groups.values()) {
    let quantity = sum(g.lines.map((l) => l.quantity));
    if (rounding?.scope === 'line' && g.kind === 'time') quantity = roundTime(quantity, rounding.incrementMinutes, rounding.direction);
    if (g.kind === 'time') hours = hours.plus(quantity);
    if (g.kind === 'time' || (g.kind === 'minimum' && g.lines.every((l) => l.rule !== INVOICE_MINIMUM_RULE)))
      billedHours = billedHours.plus(quantity);
    const notes = [...g.entryIds].map((id) => args.notes?.get(id) ?? '');
    // Fees and expenses read "Travel (km): <who/what>"; time lines follow the template as written.
    let description =
      g.kind === 'fee' || g.kind === 'expense'
        ? prefixed(
            g.lines[0]?.label.trim() || g.kind,
            renderDescription(client.lines.description.replace(/\{\{\s*label\s*\}\}/g, ''), g.lines, notes, client.timeZone),
          )
        : renderDescription(client.lines.description, g.lines, notes, client.timeZone);
    if (g.correctionOf) description = `Correction of ${g.correctionOf}: ${description}`;
    const line: InvoiceLineDraft = {
      lineKey: createHash('sha256').update(g.key).digest('base64url').slice(0, 16),
      description,
      quantity: trimZeros(quantity),
      unitPrice: g.unitPrice,
      amount: fixed(lineAmount(quantity, g.unitPrice)),
      kind: g.kind,
      ...(g.taxType ? { taxType: g.taxType } : {}),
      ...(groupBy === 'entry' ? { date: earliestDate(g.lines) } : {}),
      ...(client.vat ? { vat: vatForLine(client.vat, { kind: g.kind, taxType: g.taxType }) } : {}),
      ...(g.correctionOf ? { correctionOf: g.correctionOf } : {}),
      entryIds: [...g.entryIds].sort(),
    };
    built.push({ line, firstDate: earliestDate(g.lines) });
  }
  built.sort(
    (a, b) =>
      a.firstDate.localeCompare(b.firstDate) ||
      a.line.description.localeCompare(b.line.description) ||
      a.line.lineKey.localeCompare(b.line.lineKey),
  );
  const lines = built.map((b) => b.line);

  const total = sum(lines.map((l) => l.amount));
  const issueDate = period.end;
  const base = {
    key: invoiceKey(client.id, period.label, destinationId, sequence),
    clientId: client.id,
    clientName: client.name,
    destinationId,
    currency: client.currency,
    period,
    sequence,
    issueDate,
    dueDate: addDays(issueDate, client.paymentTermsDays),
    lines,
    hours: trimZeros(hours),
    total: fixed(total),
    ...(client.seller || client.buyer
      ? {
          parties: {
            ...(client.seller ? { seller: client.seller } : {}),
            ...(client.buyer ? { buyer: { ...client.buyer, legalName: client.buyer.legalName ?? client.name } } : {}),
          },
        }
      : {}),
  };
  // billedHours follows from the lines (hashed already), so it does not enter the hash.
  return {
    ...base,
    billedHours: trimZeros(billedHours),
    contentHash: createHash('sha256').update(stableJson(base)).digest('base64url').slice(0, 32),
  };
}

function prefixed(label: string, rest: string): string {
  return rest && rest !== 'fee' && rest !== 'expense' ? `${label}: ${rest}` : label;
}

function roundTime(hours: Money, incrementMinutes: number, direction: 'up' | 'down' | 'nearest'): Money {
  const step = dec(incrementMinutes).div(60);
  const units = dec(hours).div(step);
  const mode = direction === 'up' ? Money.ROUND_UP : direction === 'down' ? Money.ROUND_DOWN : Money.ROUND_HALF_UP;
  return units.toDecimalPlaces(0, mode).times(step).toDecimalPlaces(6);
}

function trimZeros(value: Money): string {
  const s = value.toFixed(6);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
