import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { PreviousWrite, WriteOutcome } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { ApiCallError } from '../../src/destinations/api-client';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';
import { type EffectiveSettings, type ExactOnlineConfig, settingsFor } from './config.schema';
import { type ExactSession, exactMessage } from './exact-session';
import { DRAFT, type ExactInvoiceLine, type ExactSalesInvoice, SALES_CREDIT_NOTE, SALES_INVOICE } from './types';

/**
 * The Exact Online push. Drafts are sales invoices in status 10 (draft), which finance
 * processes in Exact; a negative correction is a sales credit note (type 8021), also a draft.
 * Exact has no idempotency key, so Hourbridge's own reference goes in YourRef (deterministic
 * per invoice key, `HB` + 16 hex by default) and is looked up before every create, and again
 * after a create whose answer did not arrive, before it is sent once more. A draft is updated
 * in place line by line (PUT changed lines, POST missing ones, DELETE extra ones), which
 * converges when repeated, so an update interrupted half-way is finished by the next attempt.
 * https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoices
 */

export class DraftRejected extends Error {
  override readonly name = 'DraftRejected';
  constructor(
    readonly category: 'config' | 'permanent',
    message: string,
  ) {
    super(message);
  }
}

/** Exact's field lengths: YourRef 30, Description 60 (the resource pages' string sizes). */
const YOUR_REF_MAX = 30;
const DESCRIPTION_MAX = 60;

interface Item {
  draft: InvoiceDraft;
  settings: EffectiveSettings;
  prev?: PreviousWrite;
  yourRef: string;
  credit: boolean;
}

const keyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

export function render(template: string, draft: InvoiceDraft): string {
  const vars: Record<string, string> = {
    key: draft.key,
    keyHash: keyHash(draft.key),
    clientId: draft.clientId,
    clientName: draft.clientName,
    period: draft.period.label,
    periodStart: draft.period.start,
    periodEnd: draft.period.end,
    sequence: String(draft.sequence),
  };
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_, n: string) => vars[n] ?? '');
}

export function buildLines(draft: InvoiceDraft, s: EffectiveSettings): ExactInvoiceLine[] {
  return draft.lines.map((l) => {
    const vat = (l.taxType !== undefined ? s.vatCodes?.[l.taxType] : undefined) ?? s.vatCode;
    return {
      Item: s.items?.[l.kind] ?? s.item,
      Description: l.description.slice(0, DESCRIPTION_MAX),
      Quantity: Number(l.quantity),
      UnitPrice: Number(l.unitPrice),
      ...(vat ? { VATCode: vat } : {}),
    };
  });
}

function sameLine(a: ExactInvoiceLine, b: ExactInvoiceLine): boolean {
  return (
    a.Item.toLowerCase() === b.Item.toLowerCase() &&
    (a.Description ?? '') === (b.Description ?? '') &&
    dec(a.Quantity).eq(b.Quantity) &&
    dec(a.UnitPrice).eq(b.UnitPrice) &&
    (a.VATCode ?? '').trim() === (b.VATCode ?? '').trim()
  );
}

export async function pushDrafts(
  config: ExactOnlineConfig,
  drafts: InvoiceDraft[],
  previous: Map<string, PreviousWrite>,
  deps: { session: ExactSession; log?: Logger; backoffMs?: number },
): Promise<WriteOutcome[]> {
  const { session, log } = deps;
  const out = new Map<string, WriteOutcome>();
  const fail = (key: string, category: 'config' | 'permanent' | 'transient' | 'rate_limited', message: string) =>
    out.set(key, { key, status: 'failed', category, message });
  const locked = (key: string, remoteId: string | undefined, status: number | undefined) =>
    out.set(key, { key, status: 'locked', ...(remoteId ? { remoteId } : {}), remoteStatus: String(status ?? '?') });
  const pause = (attempt: number) => new Promise((r) => setTimeout(r, (deps.backoffMs ?? 300) * attempt));

  const written = async (item: Item, invoiceId: string) => {
    const inv = (await session.invoicesById([invoiceId])).get(invoiceId);
    out.set(item.draft.key, {
      key: item.draft.key,
      status: 'written',
      remoteId: invoiceId,
      remoteStatus: String(inv?.Status ?? DRAFT),
      remoteType: item.credit ? 'credit-note' : 'invoice',
      ...(inv?.AmountFCExclVat !== undefined ? { remoteTotal: dec(inv.AmountFCExclVat).toFixed(2) } : {}),
      ...(inv?.VATAmountFC !== undefined ? { remoteTax: dec(inv.VATAmountFC).toFixed(2) } : {}),
      ...(inv?.AmountFC !== undefined ? { remoteGross: dec(inv.AmountFC).toFixed(2) } : {}),
    });
  };

  const accounts = new Map<string, Promise<string>>();
  const accountFor = (item: Item): Promise<string> => {
    const c = item.settings.customer;
    if (c.id) return Promise.resolve(c.id);
    const name = c.name ?? item.draft.clientName;
    let p = accounts.get(name);
    if (!p) {
      p = (async () => {
        const hit = await session.findAccount(name);
        if (hit) return hit.ID;
        if (!c.createMissing) {
          throw new DraftRejected(
            'config',
            `Exact Online has no account named "${name}" (client ${item.draft.clientId}); set customer.id, or customer.createMissing: true`,
          );
        }
        try {
          return (await session.createAccount(name)).ID;
        } catch (e) {
          // No idempotency key: after a lost answer, look before creating again.
          if (e instanceof ApiCallError && e.uncertain) {
            const again = await session.findAccount(name);
            if (again) return again.ID;
          }
          throw e;
        }
      })();
      accounts.set(name, p);
    }
    return p;
  };

  const guarded = async (key: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof DraftRejected) fail(key, e.category, e.message);
      else if (e instanceof ApiCallError)
        fail(
          key,
          e.uncertain ? 'transient' : 'permanent',
          e.uncertain ? `${exactMessage(e)}; the next run looks the invoice up by YourRef first` : exactMessage(e),
        );
      else if (e instanceof ConnectorError && (e.category === 'rate_limited' || e.category === 'transient'))
        fail(key, e.category, e.message);
      else throw e;
    }
  };

  /** Makes the draft's lines those of the remote draft; repeated after an unanswered call, it converges. */
  const reconcileLines = async (item: Item, invoiceId: string) => {
    const want = buildLines(item.draft, item.settings);
    for (let attempt = 1; ; attempt++) {
      try {
        const have = (await session.lines(invoiceId)).sort((a, b) => (a.LineNumber ?? 0) - (b.LineNumber ?? 0));
        for (const [i, line] of want.entries()) {
          const cur = have[i];
          if (cur?.ID && sameLine(cur, line)) continue;
          if (cur?.ID) await session.putLine(cur.ID, line);
          else await session.postLine({ ...line, InvoiceID: invoiceId, LineNumber: i + 1 });
        }
        for (const extra of have.slice(want.length)) if (extra.ID) await session.deleteLine(extra.ID);
        return;
      } catch (e) {
        if (e instanceof ApiCallError && e.uncertain && attempt < config.maxAttempts) {
          await pause(attempt);
          continue;
        }
        throw e;
      }
    }
  };

  const create = async (item: Item, existing: ExactSalesInvoice | undefined): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (existing?.InvoiceID) {
        log?.info(
          { key: item.draft.key, remoteId: existing.InvoiceID },
          'exact online invoice already exists; adopting it instead of creating',
        );
        if (existing.Status !== DRAFT) return void locked(item.draft.key, existing.InvoiceID, existing.Status);
        await reconcileLines(item, existing.InvoiceID);
        return written(item, existing.InvoiceID);
      }
      const body: ExactSalesInvoice = {
        Type: item.credit ? SALES_CREDIT_NOTE : SALES_INVOICE,
        Journal: item.settings.journal,
        OrderedBy: await accountFor(item),
        YourRef: item.yourRef,
        Description: render(item.settings.description, item.draft).slice(0, DESCRIPTION_MAX),
        Currency: item.draft.currency,
        InvoiceDate: item.draft.issueDate,
        SalesInvoiceLines: buildLines(item.draft, item.settings),
      };
      try {
        const created = await session.createInvoice(body);
        return written(item, created.InvoiceID as string);
      } catch (e) {
        // Unanswered: it may exist now. Look by YourRef before sending it again.
        if (e instanceof ApiCallError && e.uncertain && attempt < config.maxAttempts) {
          await pause(attempt);
          existing = (await session.invoicesByYourRef([item.yourRef])).get(item.yourRef);
          continue;
        }
        throw e;
      }
    }
  };

  const retire = async (id: string): Promise<{ gone: true } | { gone: false; status?: number }> => {
    const cur = (await session.invoicesById([id])).get(id);
    if (!cur) return { gone: true };
    if (cur.Status !== DRAFT) return { gone: false, status: cur.Status };
    await session.deleteInvoice(id);
    return { gone: true };
  };

  const creates: Item[] = [];
  const updates: Item[] = [];
  const switches: Item[] = [];
  const emptied: { draft: InvoiceDraft; prev: PreviousWrite }[] = [];
  for (const draft of drafts) {
    const prev = previous.get(draft.key);
    if (draft.lines.length === 0) {
      if (prev?.remoteId) emptied.push({ draft, prev });
      else out.set(draft.key, { key: draft.key, status: 'written', remoteStatus: 'Deleted' });
      continue;
    }
    const settings = settingsFor(config, draft.clientId);
    const yourRef = render(settings.yourRef, draft);
    if (yourRef.length > YOUR_REF_MAX) {
      fail(
        draft.key,
        'config',
        `YourRef "${yourRef}" of ${draft.key} is ${yourRef.length} characters, over Exact Online's ${YOUR_REF_MAX}; use {{keyHash}} in yourRef`,
      );
      continue;
    }
    const item: Item = { draft, settings, prev, yourRef, credit: dec(draft.total).isNegative() };
    const prevCredit = prev?.remoteType === 'credit-note';
    if (prev?.remoteId && prev.pushedHash === draft.contentHash) {
      out.set(draft.key, {
        key: draft.key,
        status: 'written',
        remoteId: prev.remoteId,
        remoteStatus: prev.remoteStatus,
        remoteLineIds: prev.remoteLineIds,
      });
    } else if (prev?.remoteId && prevCredit !== item.credit) switches.push(item);
    else if (prev?.remoteId) updates.push(item);
    else creates.push(item);
  }

  // Sequential per kind: Exact's minute budget (60) is the bound, not latency.
  for (const { draft, prev } of emptied) {
    await guarded(draft.key, async () => {
      const r = await retire(prev.remoteId as string);
      if (r.gone) out.set(draft.key, { key: draft.key, status: 'written', remoteId: prev.remoteId, remoteStatus: 'Deleted' });
      else locked(draft.key, prev.remoteId, r.status);
    });
  }
  if (updates.length > 0) {
    let current: Map<string, ExactSalesInvoice> | undefined;
    await guarded(updates[0]?.draft.key ?? '', async () => {
      current = await session.invoicesById(updates.map((u) => u.prev?.remoteId as string));
    });
    for (const item of updates) {
      if (!current) {
        out.set(
          item.draft.key,
          out.get(updates[0]?.draft.key ?? '') ?? {
            key: item.draft.key,
            status: 'failed',
            category: 'transient',
            message: 'could not read the invoices',
          },
        );
        continue;
      }
      await guarded(item.draft.key, async () => {
        const id = item.prev?.remoteId as string;
        const now = current?.get(id);
        if (!now) throw new DraftRejected('permanent', `Exact Online sales invoice ${id} was not found (deleted in Exact?)`);
        if (now.Status !== DRAFT) return void locked(item.draft.key, id, now.Status);
        await reconcileLines(item, id);
        await written(item, id);
      });
    }
  }
  for (const item of switches) {
    await guarded(item.draft.key, async () => {
      const r = await retire(item.prev?.remoteId as string);
      if (!r.gone) return void locked(item.draft.key, item.prev?.remoteId, r.status);
      await create(item, (await session.invoicesByYourRef([item.yourRef])).get(item.yourRef));
    });
  }
  if (creates.length > 0) {
    let existing: Map<string, ExactSalesInvoice> | undefined;
    try {
      existing = await session.invoicesByYourRef(creates.map((c) => c.yourRef));
    } catch (e) {
      for (const c of creates) await guarded(c.draft.key, () => Promise.reject(e));
    }
    if (existing) for (const item of creates) await guarded(item.draft.key, () => create(item, existing?.get(item.yourRef)));
  }

  return drafts.map(
    (d) => out.get(d.key) ?? ({ key: d.key, status: 'failed', category: 'transient', message: 'not attempted' } satisfies WriteOutcome),
  );
}
