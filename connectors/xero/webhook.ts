import type { Logger } from 'pino';
import type { Invoice } from 'xero-node';
import type { Ledger } from '../../src/ledger/db';
import type { XeroConfig } from './config.schema';
import { fetchCreditNotesById } from './credit-notes';
import { applyXeroInvoiceStatus, fetchInvoicesById, type ApplyStatusFn } from './status';
import { XeroSession } from './xero-session';
import { verifyXeroSignature } from './webhook-verify';

export { verifyXeroSignature } from './webhook-verify';

/**
 * Xero webhooks (developer.xero.com/documentation/guides/webhooks/overview): `x-xero-signature`
 * is base64(HMAC-SHA256(raw body, webhook key)). Answer within 5 s: 401 for a bad signature,
 * 200 with an empty body for a good one (the "intent to receive" check sends both kinds).
 * INVOICE and CREDITNOTE events carry no status, so the invoice or credit note is fetched and
 * its status applied.
 * Framework-free: the HTTP service passes the raw bytes and the headers.
 */

export interface XeroWebhookEvent {
  resourceUrl: string;
  resourceId: string;
  eventDateUtc: string;
  eventType: string;
  eventCategory: string;
  tenantId: string;
  tenantType?: string;
}

export interface XeroWebhookDeps {
  webhookKey: string;
  ledger: Ledger;
  /** Xero destinations by organisation: events of other tenants are ignored. */
  destinations: XeroConfig[];
  redisUrl?: string;
  log?: Logger;
  apply?: ApplyStatusFn;
  /**
   * What to do with verified events. Default: process them in the background after answering.
   * The queue runner passes a function that enqueues them instead.
   */
  onEvents?: (events: XeroWebhookEvent[]) => void | Promise<void>;
}

export interface WebhookResponse {
  status: 200 | 401;
  body: '';
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  return '';
}

/** Fetch each invoice an INVOICE event names and apply its status. */
export async function processXeroWebhookEvents(
  events: XeroWebhookEvent[],
  deps: Omit<XeroWebhookDeps, 'webhookKey' | 'onEvents'>,
): Promise<{ applied: number; ignored: number }> {
  let applied = 0;
  let ignored = 0;
  const byTenant = new Map<string, { invoices: Set<string>; creditNotes: Set<string> }>();
  for (const e of events) {
    // CREDITNOTE events (xero-webhooks.yaml publishCreditNoteEvent) carry no status either.
    if (e.eventCategory !== 'INVOICE' && e.eventCategory !== 'CREDITNOTE') {
      ignored++;
      continue;
    }
    const ids = byTenant.get(e.tenantId) ?? { invoices: new Set<string>(), creditNotes: new Set<string>() };
    (e.eventCategory === 'INVOICE' ? ids.invoices : ids.creditNotes).add(e.resourceId);
    byTenant.set(e.tenantId, ids);
  }
  for (const [tenantId, ids] of byTenant) {
    const configs = deps.destinations.filter((d) => d.tenantId === tenantId);
    if (configs.length === 0) {
      ignored += ids.invoices.size + ids.creditNotes.size;
      continue;
    }
    const session = await XeroSession.open(configs[0]!, { ledger: deps.ledger, redisUrl: deps.redisUrl, log: deps.log });
    try {
      const invoices: Pick<Invoice, 'invoiceID' | 'status'>[] =
        ids.invoices.size > 0 ? await fetchInvoicesById(session, [...ids.invoices]) : [];
      const notes = ids.creditNotes.size > 0 ? [...(await fetchCreditNotesById(session, [...ids.creditNotes])).values()] : [];
      for (const n of notes) invoices.push({ invoiceID: n.creditNoteID, status: n.status as unknown as Invoice.StatusEnum });
      for (const inv of invoices) {
        let hit = false;
        // Several destinations may point at one organisation: the ledger knows which one pushed it.
        for (const c of configs) if (await applyXeroInvoiceStatus(deps.ledger, c.id, inv, deps.apply)) hit = true;
        if (hit) applied++;
        else ignored++;
      }
    } finally {
      await session.close();
    }
  }
  return { applied, ignored };
}

/** `(rawBody, headers) → {status, body}` for any HTTP framework. */
export function createXeroWebhookHandler(
  deps: XeroWebhookDeps,
): (rawBody: Buffer, headers: Record<string, string | string[] | undefined>) => Promise<WebhookResponse> {
  return async (rawBody, headers) => {
    if (!verifyXeroSignature(rawBody, header(headers, 'x-xero-signature'), deps.webhookKey)) return { status: 401, body: '' };
    let events: XeroWebhookEvent[] = [];
    try {
      const payload = JSON.parse(rawBody.toString('utf8')) as { events?: XeroWebhookEvent[] };
      events = Array.isArray(payload.events) ? payload.events : [];
    } catch {
      deps.log?.warn('xero webhook: signed body is not JSON; ignored');
    }
    if (events.length > 0) {
      const run = deps.onEvents ? Promise.resolve(deps.onEvents(events)) : processXeroWebhookEvents(events, deps);
      // Answer now (Xero wants a reply within 5 s); the work finishes in the background.
      run.catch((err: unknown) =>
        deps.log?.error(
          { err: err instanceof Error ? err.message : String(err) },
          'xero webhook processing failed; the status poll will catch up',
        ),
      );
    }
    return { status: 200, body: '' };
  };
}

/** One-shot form of the handler. */
export function handleXeroWebhook(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  deps: XeroWebhookDeps,
): Promise<WebhookResponse> {
  return createXeroWebhookHandler(deps)(rawBody, headers);
}
