import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import Decimal from 'decimal.js';
import { DateTime } from 'luxon';
import { CLIENTS, ROLES, clientId, rateOf } from './sync-job';

/** One invoice as the bench compares it: what a person sees (key, lines, totals), no dates of issue. */
export interface InvoiceFigures {
  client: string;
  periodStart: string;
  total: string;
  hours: string;
  lines: Array<{ description: string; quantity: string; unitPrice: string; amount: string }>;
}

/** client id + first day of the period: the identity both sides agree on. */
export const invoiceId = (i: { client: string; periodStart: string }) => `${i.client} ${i.periodStart}`;

/**
 * The ceiling: the same invoices computed the plain way, in-process, from the CSV. Parse,
 * round each row's worked minutes up to 15, look up the client × role rate, group per client
 * × ISO week and per line (worker, project, unit price), sum hours per line, amount =
 * hours × price rounded half-up to cents (decimal.js), invoice total = sum of line amounts.
 */
export async function plainInvoices(csv: string): Promise<Map<string, InvoiceFigures>> {
  const clientIndex = new Map<string, number>();
  for (let c = 0; c < CLIENTS; c++) clientIndex.set(`Client ${String(c + 1).padStart(2, '0')} B.V.`, c);
  const roleIndex = new Map<string, number>(ROLES.map((r, k) => [r, k]));
  const prices = new Map<string, Decimal>();
  const mondays = new Map<string, string>();
  // invoice → line key → quarter hours
  const invoices = new Map<
    string,
    { client: string; periodStart: string; lines: Map<string, { worker: string; project: string; price: string; quarters: number }> }
  >();
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const parser = createReadStream(csv).pipe(parse({ columns: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    const c = clientIndex.get(row.Client!);
    const k = roleIndex.get(row.Role!);
    if (c === undefined || k === undefined) throw new Error(`${csv}: unknown client or role in row ${row.Id}`);
    const worked = minutes(row.End!) - minutes(row.Start!);
    const quarters = Math.ceil(worked / 15);
    const price = rateOf(c, k);
    let monday = mondays.get(row.Date!);
    if (!monday) {
      monday = DateTime.fromISO(row.Date!, { zone: 'Europe/Amsterdam' }).startOf('week').toISODate()!;
      mondays.set(row.Date!, monday);
    }
    const inv = `${clientId(c)} ${monday}`;
    let invoice = invoices.get(inv);
    if (!invoice) {
      invoice = { client: clientId(c), periodStart: monday, lines: new Map() };
      invoices.set(inv, invoice);
    }
    const lk = `${row.Person}\u0000${row.Project}\u0000${price}`;
    const line = invoice.lines.get(lk);
    if (line) line.quarters += quarters;
    else invoice.lines.set(lk, { worker: row.Person!, project: row.Project!, price, quarters });
    if (!prices.has(price)) prices.set(price, new Decimal(price));
  }
  const result = new Map<string, InvoiceFigures>();
  for (const [id, inv] of invoices) {
    let total = new Decimal(0);
    let hours = new Decimal(0);
    const lines: InvoiceFigures['lines'] = [];
    for (const l of inv.lines.values()) {
      const qty = new Decimal(l.quarters).div(4);
      const amount = qty.mul(prices.get(l.price)!).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
      total = total.add(amount);
      hours = hours.add(qty);
      lines.push({
        description: `${l.project} — ${l.worker}`,
        quantity: qty.toString(),
        unitPrice: new Decimal(l.price).toFixed(2),
        amount: amount.toFixed(2),
      });
    }
    result.set(id, {
      client: inv.client,
      periodStart: inv.periodStart,
      total: total.toFixed(2),
      hours: hours.toString(),
      lines: sortLines(lines),
    });
  }
  return result;
}

const sortLines = (lines: InvoiceFigures['lines']) =>
  [...lines].sort((a, b) =>
    a.description < b.description
      ? -1
      : a.description > b.description
        ? 1
        : a.unitPrice < b.unitPrice
          ? -1
          : a.unitPrice > b.unitPrice
            ? 1
            : 0,
  );

interface DraftFile {
  key: string;
  client: { id: string };
  period: { start: string };
  /** Net line amounts (the file destination's documented shape). */
  lines: Array<{ description: string; quantity: string; unitPrice: string; net: string }>;
  billedHours: string;
  net: string;
}

/** The drafts a sync left in the file destination's directory (`<key>.json`, connectors/file/README.md). */
export async function writtenInvoices(dir: string): Promise<Map<string, InvoiceFigures & { key: string }>> {
  const out = new Map<string, InvoiceFigures & { key: string }>();
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    const d = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as DraftFile;
    const fig = {
      key: d.key,
      client: d.client.id,
      periodStart: d.period.start,
      total: new Decimal(d.net).toFixed(2),
      hours: new Decimal(d.billedHours).toString(),
      lines: sortLines(
        d.lines.map((l) => ({
          description: l.description,
          quantity: new Decimal(l.quantity).toString(),
          unitPrice: new Decimal(l.unitPrice).toFixed(2),
          amount: new Decimal(l.net).toFixed(2),
        })),
      ),
    };
    const id = invoiceId(fig);
    if (out.has(id)) throw new Error(`${dir}: two drafts for ${id} (${out.get(id)!.key}, ${fig.key})`);
    out.set(id, fig);
  }
  return out;
}

/**
 * Every difference between what Hourbridge wrote and the plain computation, as sentences:
 * a missing or extra invoice, a total or hours off by any amount. Empty = equal to the cent.
 */
export function compareTotals(written: Map<string, InvoiceFigures>, plain: Map<string, InvoiceFigures>): string[] {
  const diffs: string[] = [];
  for (const [id, p] of plain) {
    const w = written.get(id);
    if (!w) diffs.push(`${id}: no draft written (plain total ${p.total})`);
    else {
      if (!new Decimal(w.total).eq(p.total)) diffs.push(`${id}: total ${w.total}, plain ${p.total}`);
      if (!new Decimal(w.hours).eq(p.hours)) diffs.push(`${id}: hours ${w.hours}, plain ${p.hours}`);
    }
  }
  for (const id of written.keys()) if (!plain.has(id)) diffs.push(`${id}: draft written, plain computation has no such invoice`);
  return diffs;
}

export const sumTotals = (m: Map<string, InvoiceFigures>) => [...m.values()].reduce((a, i) => a.add(i.total), new Decimal(0)).toFixed(2);
