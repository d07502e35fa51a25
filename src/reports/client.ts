import type { ClientConfig } from '../config/client.schema';
import type { Ledger } from '../ledger/db';
import { destinationLink } from './destination-link';
import {
  excludedReport,
  type InvoiceReportRow,
  invoicesReport,
  quarantineReport,
  type ReportConfig,
  type UnbilledRow,
  unbilledReport,
} from './reports';

/** An entry kept but not invoiced, with the reason in words (the `excluded` and `quarantine` reports' rows of this client). */
export interface NotInvoicedEntry {
  entry: string;
  date: string | null;
  worker: string | null;
  /** excluded: non-billable, not approved, billed at source (the ledger's reason says which); unpriced: cannot be priced. */
  kind: 'excluded' | 'unpriced';
  reason: string;
  file: string | null;
  row: number | null;
}

export interface ClientInvoice extends InvoiceReportRow {
  /** Where the finance team finds it: the accounting system's page, or the file written. */
  link: string | null;
}

export interface ClientPage {
  ok: true;
  report: 'client';
  client: string;
  name: string;
  currency: string;
  /** The unbilled report's row: outstanding per period (absent when the client has nothing outstanding). */
  unbilled: UnbilledRow | null;
  invoices: ClientInvoice[];
  notInvoiced: NotInvoicedEntry[];
}

/** Everything the client page shows, from the reports `report --json` prints (nothing computed twice). */
export async function clientReport(
  ledger: Ledger,
  config: ReportConfig & { clients: ClientConfig[]; raw?: unknown },
  clientId: string,
  destinations: ReadonlyArray<{ id: string; kind: string; dir?: string }> = [],
): Promise<ClientPage | undefined> {
  const client = config.clients.find((c) => c.id === clientId);
  const [unbilled] = await unbilledReport(ledger, config, clientId);
  const invoices = await invoicesReport(ledger, { clientId });
  if (!client && !unbilled && invoices.length === 0) return undefined;
  const excluded = await excludedReport(ledger, { clientId });
  const unpriced = await quarantineReport(ledger, { clientId });
  const kinds = new Map(destinations.map((d) => [d.id, d]));
  return {
    ok: true,
    report: 'client',
    client: clientId,
    name: client?.name ?? clientId,
    currency: client?.currency ?? unbilled?.currency ?? invoices[0]?.currency ?? '',
    unbilled: unbilled ?? null,
    invoices: invoices.map((i) => ({ ...i, link: destinationLink(kinds.get(i.destination), i) })),
    notInvoiced: [
      ...excluded.map((e) => ({
        entry: e.entry,
        date: e.date,
        worker: e.worker,
        kind: 'excluded' as const,
        reason: e.reason,
        file: e.file,
        row: e.row,
      })),
      ...unpriced.map((u) => ({
        entry: `${u.source}:${u.ref}`,
        date: null,
        worker: null,
        kind: 'unpriced' as const,
        reason: u.reason,
        file: u.file,
        row: u.row,
      })),
    ],
  };
}
