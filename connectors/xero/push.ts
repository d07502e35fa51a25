import { createHash } from 'node:crypto';
import { Invoice } from 'xero-node';
import type { Logger } from 'pino';
import type { InvoiceDraft } from '../../src/domain/invoice';
import type { PreviousWrite, WriteOutcome } from '../../src/connectors/contract';
import { settingsFor, type EffectiveSettings, type XeroConfig } from './config.schema';
import { ContactResolver } from './contacts';
import type { IntentLog } from '../../src/destinations/intent-log';
import { sleep } from './rate-budget';
import {
  DraftRejected,
  buildCreditNote,
  buildInvoice,
  invoiceNumberFor,
  needsCreditNote,
  remoteFigures,
  remoteLineIdsOf,
  sameContent,
} from './to-xero-invoice';
import { pushCreditNotes, retireDocument, type CreditNoteItem } from './credit-notes';
import { XeroCallError, backoffMs, describeFailure, type XeroSession } from './xero-session';

/**
 * The Xero push: DRAFT ACCREC invoices in batches of ≤ 50 with summarizeErrors=false (one bad
 * invoice never sinks its batch), a deterministic Idempotency-Key per request, a deterministic
 * InvoiceNumber per invoice, and a lookup by InvoiceNumber before anything that may already
 * exist in Xero is created again. Drafts already in Xero are updated in place while still
 * DRAFT and reported `locked` once approved. A negative correction is a credit note instead
 * (credit-notes.ts), with the same guarantees.
 * developer.xero.com/documentation/api/accounting/invoices
 */

interface Item {
  draft: InvoiceDraft;
  settings: EffectiveSettings;
  prev?: PreviousWrite;
  invoiceNumber: string;
  invoice?: Invoice;
  /**
   * The Xero document this create replaces (deleted just before). Part of the Idempotency-Key:
   * the same content created again after a deletion must not replay the first create's answer.
   */
  supersedes?: string;
}

export interface PushDeps {
  session: XeroSession;
  intents: IntentLog;
  log?: Logger;
}

const LIVE = (status: unknown) => status !== 'DELETED' && status !== 'VOIDED';

export function idempotencyKey(
  op: string,
  tenantId: string,
  items: { draft: InvoiceDraft; invoice?: Invoice; supersedes?: string }[],
): string {
  const h = createHash('sha256').update(`${op}\n${tenantId}\n`);
  for (const i of items)
    h.update(`${i.draft.key}\n${i.draft.contentHash}\n${JSON.stringify(i.invoice ?? null)}\n${i.supersedes ? `${i.supersedes}\n` : ''}`);
  // ≤ 128 characters (Xero's limit).
  return `hb-${op}-${h.digest('hex').slice(0, 48)}`;
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let fatal: unknown;
  const worker = async () => {
    while (fatal === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        fatal ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (fatal !== undefined) throw fatal;
}

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * The invoices a whole-request error names: its Elements echo the refused invoices (Error /
 * Element schemas in xero_accounting.yaml: ValidationErrors plus the element's fields), matched
 * here by InvoiceNumber, with their messages.
 */
export function namedInBatchError<T extends { invoiceNumber: string }>(body: unknown, items: T[]): Map<T, string> {
  const out = new Map<T, string>();
  if (!body || typeof body !== 'object') return out;
  const elements = ((body as Record<string, unknown>).Elements ?? (body as Record<string, unknown>).elements) as
    | Record<string, unknown>[]
    | undefined;
  if (!Array.isArray(elements)) return out;
  const byNumber = new Map(items.map((i) => [i.invoiceNumber, i]));
  for (const el of elements) {
    const number = (el.InvoiceNumber ?? el.invoiceNumber) as string | undefined;
    const item = number !== undefined ? byNumber.get(number) : undefined;
    if (!item) continue;
    const msgs = ((el.ValidationErrors ?? el.validationErrors ?? []) as { Message?: string; message?: string }[])
      .map((v) => v.Message ?? v.message ?? '')
      .filter(Boolean);
    out.set(item, msgs.length > 0 ? msgs.join('; ') : 'Xero named this invoice without a message');
  }
  return out;
}

function messagesOf(inv: Invoice): string {
  const msgs = (inv.validationErrors ?? []).map((v) => v.message).filter(Boolean);
  return msgs.length > 0 ? msgs.join('; ') : 'Xero reported an error without a message';
}

export async function pushDrafts(
  config: XeroConfig,
  drafts: InvoiceDraft[],
  previous: Map<string, PreviousWrite>,
  deps: PushDeps,
): Promise<WriteOutcome[]> {
  const { session, intents, log } = deps;
  const tenant = session.tenantId;
  const out = new Map<string, WriteOutcome>();
  const fail = (item: Item, category: 'config' | 'permanent' | 'transient', message: string) =>
    out.set(item.draft.key, { key: item.draft.key, status: 'failed', category, message });

  const written = (item: Item, inv: Invoice, extraWarnings: string[] = []) => {
    const { warnings: figureWarnings, ...figures } = remoteFigures(item.draft, item.settings, inv);
    const warnings = [...extraWarnings, ...figureWarnings];
    out.set(item.draft.key, {
      key: item.draft.key,
      status: 'written',
      remoteId: inv.invoiceID,
      remoteStatus: inv.status === undefined ? undefined : String(inv.status),
      remoteType: 'invoice',
      ...figures,
      remoteLineIds: remoteLineIdsOf(item.draft, inv),
      ...(warnings.length > 0 ? { warnings } : {}),
    });
    if (warnings.length > 0) log?.warn({ key: item.draft.key, warnings }, 'xero read-back incomplete');
  };

  // 1. Sort drafts: unchanged, to update, to create. Reject malformed drafts before any call.
  const creates: Item[] = [];
  const updates: Item[] = [];
  const deletions: Item[] = [];
  const creditNotes: CreditNoteItem[] = [];
  /** Drafts written last time as a credit note that are invoices now: the credit note goes first. */
  const fromCreditNote: Item[] = [];
  for (const draft of drafts) {
    const settings = settingsFor(config, draft.clientId);
    const prev = previous.get(draft.key);
    if (draft.lines.length === 0) {
      // Every entry left this draft: delete it in Xero (DRAFT/SUBMITTED only), or nothing to do.
      if (prev?.remoteId) deletions.push({ draft, settings, prev, invoiceNumber: invoiceNumberFor(draft, settings) });
      else out.set(draft.key, { key: draft.key, status: 'written', remoteStatus: 'DELETED' });
      continue;
    }
    let item: Item;
    const creditNote = needsCreditNote(draft);
    try {
      item = { draft, settings, prev, invoiceNumber: invoiceNumberFor(draft, settings) };
      const probe = { contactId: '00000000-0000-0000-0000-000000000000' };
      if (creditNote) buildCreditNote(draft, settings, probe);
      else buildInvoice(draft, settings, probe);
    } catch (e) {
      if (!(e instanceof DraftRejected)) throw e;
      out.set(draft.key, { key: draft.key, status: 'failed', category: e.category, message: e.message });
      continue;
    }
    if (prev?.remoteId && prev.pushedHash === draft.contentHash) {
      out.set(draft.key, {
        key: draft.key,
        status: 'written',
        remoteId: prev.remoteId,
        remoteStatus: prev.remoteStatus,
        remoteLineIds: prev.remoteLineIds,
      });
    } else if (creditNote) creditNotes.push({ draft, settings, prev, number: item.invoiceNumber });
    else if (prev?.remoteId && prev.remoteType === 'credit-note') fromCreditNote.push(item);
    else if (prev?.remoteId) updates.push(item);
    else creates.push(item);
  }

  // 2. Contacts, once per client.
  const contacts = new ContactResolver(session);
  const ready = async (items: Item[]) => {
    const ok: Item[] = [];
    for (const item of items) {
      try {
        const contactId = await contacts.resolve(item.settings, item.draft.clientName, item.draft.clientId);
        item.invoice = buildInvoice(item.draft, item.settings, {
          contactId,
          remoteId: item.prev?.remoteId,
          remoteLineIds: item.prev?.remoteLineIds,
        });
        ok.push(item);
      } catch (e) {
        if (e instanceof DraftRejected) fail(item, e.category, e.message);
        else if (e instanceof XeroCallError) fail(item, e.uncertain ? 'transient' : 'permanent', `contact lookup failed: ${e.message}`);
        else throw e;
      }
    }
    return ok;
  };
  for (const item of fromCreditNote) {
    try {
      const retired = await retireDocument(session, 'credit-note', item.prev!.remoteId!, item.draft.key);
      if (retired.gone) creates.push({ ...item, prev: undefined, supersedes: item.prev!.remoteId });
      else out.set(item.draft.key, { key: item.draft.key, status: 'locked', remoteId: item.prev!.remoteId, remoteStatus: retired.status });
    } catch (e) {
      if (e instanceof DraftRejected) fail(item, e.category, e.message);
      else if (e instanceof XeroCallError)
        fail(item, e.uncertain ? 'transient' : 'permanent', `could not delete the earlier draft credit note: ${e.message}`);
      else throw e;
    }
  }
  const toCreate = await ready(creates);
  const toUpdate = await ready(updates);

  // ---- lookups and adoption -------------------------------------------------------------

  const lookupByNumber = async (items: Item[]): Promise<Map<string, Invoice>> => {
    const found = new Map<string, Invoice>();
    for (const part of chunk(items, 50)) {
      const body = await session.call(
        'find invoices by number',
        (api) =>
          api.getInvoices(
            tenant,
            undefined,
            undefined,
            undefined,
            undefined,
            part.map((i) => i.invoiceNumber),
            undefined,
            undefined,
            1,
            undefined,
            undefined,
            part[0]!.settings.unitPriceDecimals,
          ),
        { idempotent: true },
      );
      for (const inv of body.invoices ?? []) if (inv.invoiceNumber && LIVE(String(inv.status))) found.set(inv.invoiceNumber, inv);
    }
    return found;
  };

  /** Adopt invoices that already exist in Xero; returns the items still to create. */
  const adoptExisting = async (items: Item[]): Promise<Item[]> => {
    if (items.length === 0) return items;
    const found = await lookupByNumber(items);
    const rest: Item[] = [];
    for (const item of items) {
      const inv = found.get(item.invoiceNumber);
      if (!inv) {
        rest.push(item);
        continue;
      }
      log?.info({ key: item.draft.key, remoteId: inv.invoiceID }, 'xero invoice already exists; adopting it instead of creating');
      if (sameContent(item.draft, inv)) written(item, inv);
      else if (String(inv.status) === 'DRAFT') {
        item.invoice = { ...item.invoice!, invoiceID: inv.invoiceID };
        await updateOne(item, inv.invoiceID!);
      } else out.set(item.draft.key, { key: item.draft.key, status: 'locked', remoteId: inv.invoiceID, remoteStatus: String(inv.status) });
    }
    return rest;
  };

  // ---- create ---------------------------------------------------------------------------

  const createChunk = async (items: Item[]) => {
    let remaining = items;
    const sent = await intents.sentBefore(
      config.id,
      remaining.map((i) => i.draft.key),
    );
    if (sent.size > 0) {
      const suspects = remaining.filter((i) => sent.has(i.draft.key));
      const adoptedRest = await adoptExisting(suspects).catch((e) => {
        if (e instanceof XeroCallError) {
          for (const i of suspects) fail(i, 'transient', `could not check Xero for an earlier copy: ${e.message}`);
          return null;
        }
        throw e;
      });
      if (adoptedRest === null) remaining = remaining.filter((i) => !sent.has(i.draft.key));
      else remaining = [...remaining.filter((i) => !sent.has(i.draft.key)), ...adoptedRest];
    }
    for (let attempt = 1; remaining.length > 0; attempt++) {
      const unitdp = remaining[0]!.settings.unitPriceDecimals;
      const idem = idempotencyKey('create', tenant, remaining);
      await intents.record(
        config.id,
        remaining.map((i) => i.draft.key),
        idem,
      );
      let result: Invoice[];
      try {
        const body = await session.call('create invoices', (api) =>
          api.createInvoices(tenant, { invoices: remaining.map((i) => i.invoice!) }, false, unitdp, idem),
        );
        result = body.invoices ?? [];
      } catch (e) {
        if (!(e instanceof XeroCallError)) throw e;
        if (!e.uncertain) {
          // A 400 for the whole request (Xero's ValidationException, developer.xero.com/documentation/api/http-response-codes):
          // the invoices its Elements name fail with their own messages, once; the others are
          // written without them (after a look-up by number — Xero may have created valid ones).
          // When it names none, the batch is halved until the refused invoice stands alone.
          const named = namedInBatchError(e.failure.body, remaining);
          if (named.size > 0) {
            for (const [item, msg] of named) fail(item, 'permanent', `Xero refused the batch because of this invoice: ${msg}`);
            const others = remaining.filter((i) => !named.has(i));
            if (others.length === 0) return;
            log?.warn(
              { refused: [...named.keys()].map((i) => i.draft.key), others: others.length, error: describeFailure(e.failure) },
              'xero refused a batch for some of its invoices; writing the others',
            );
            // Recorded as sent: createChunk looks them up by number before creating them.
            await createChunk(others);
            return;
          }
          if (remaining.length > 1 && e.failure.status === 400) {
            log?.warn(
              { invoices: remaining.length, error: describeFailure(e.failure) },
              'xero refused a batch without naming an invoice; halving it to find the one',
            );
            const half = Math.ceil(remaining.length / 2);
            await createChunk(remaining.slice(0, half));
            await createChunk(remaining.slice(half));
            return;
          }
          for (const i of remaining) fail(i, 'permanent', describeFailure(e.failure));
          return;
        }
        if (attempt >= config.maxAttempts) {
          for (const i of remaining)
            fail(
              i,
              'transient',
              `no answer from Xero after ${attempt} attempts (${describeFailure(e.failure)}); the next run checks Xero for it before creating again`,
            );
          return;
        }
        log?.warn({ attempt, invoices: remaining.length, error: e.message }, 'xero create outcome unknown; checking before retrying');
        await sleep(backoffMs(attempt));
        try {
          remaining = await adoptExisting(remaining);
        } catch (e2) {
          if (!(e2 instanceof XeroCallError)) throw e2;
          for (const i of remaining) fail(i, 'transient', `could not check Xero after an unanswered create: ${e2.message}`);
          return;
        }
        continue;
      }
      const byNumber = new Map(result.filter((r) => r.invoiceNumber).map((r) => [r.invoiceNumber!, r]));
      const clashes: Item[] = [];
      for (const [idx, item] of remaining.entries()) {
        const r = byNumber.get(item.invoiceNumber) ?? result[idx];
        if (!r) {
          fail(item, 'transient', 'Xero returned no element for this invoice');
          continue;
        }
        if (r.hasErrors) {
          const msg = messagesOf(r);
          // An earlier unrecorded attempt may already hold this number: look before reporting.
          if (/must be unique/i.test(msg)) clashes.push(item);
          else fail(item, 'permanent', msg);
        } else written(item, r);
      }
      if (clashes.length > 0) {
        const rest = await adoptExisting(clashes);
        for (const i of rest)
          fail(i, 'permanent', `Invoice # ${i.invoiceNumber} must be unique: another Xero invoice (deleted or voided?) holds it`);
      }
      return;
    }
  };

  // ---- update ---------------------------------------------------------------------------

  const updateOne = async (item: Item, remoteId: string): Promise<void> => {
    const idem = idempotencyKey('update', tenant, [item]);
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await session.call('update invoice', (api) =>
          api.updateInvoice(tenant, remoteId, { invoices: [item.invoice!] }, item.settings.unitPriceDecimals, idem),
        );
        const r = body.invoices?.[0];
        if (!r) return void fail(item, 'transient', 'Xero returned no invoice after the update');
        if (r.hasErrors) return void fail(item, 'permanent', messagesOf(r));
        return written(item, r);
      } catch (e) {
        if (!(e instanceof XeroCallError)) throw e;
        if (e.uncertain && attempt < config.maxAttempts) {
          // Resending the full line list is idempotent in effect: the result is the same draft.
          await sleep(backoffMs(attempt));
          continue;
        }
        if (e.uncertain)
          return void fail(item, 'transient', `no answer from Xero after ${attempt} attempts: ${describeFailure(e.failure)}`);
        // It may have been approved between our read and our write.
        const now = await fetchInvoices([remoteId]).catch(() => new Map<string, Invoice>());
        const st = now.get(remoteId)?.status;
        if (st !== undefined && String(st) !== 'DRAFT') {
          return void out.set(item.draft.key, { key: item.draft.key, status: 'locked', remoteId, remoteStatus: String(st) });
        }
        return void fail(item, 'permanent', describeFailure(e.failure));
      }
    }
  };

  const fetchInvoices = async (ids: string[]): Promise<Map<string, Invoice>> => {
    const body = await session.call(
      'get invoices by id',
      (api) => api.getInvoices(tenant, undefined, undefined, undefined, ids, undefined, undefined, undefined, 1),
      { idempotent: true },
    );
    return new Map((body.invoices ?? []).filter((i) => i.invoiceID).map((i) => [i.invoiceID!, i]));
  };

  /** What Xero holds now for items it already has; on failure every item is failed and null returned. */
  const readCurrent = async (items: Item[]): Promise<Map<string, Invoice> | null> => {
    try {
      return await fetchInvoices(items.map((i) => i.prev!.remoteId!));
    } catch (e) {
      if (!(e instanceof XeroCallError)) throw e;
      for (const i of items) fail(i, e.uncertain ? 'transient' : 'permanent', `could not read the invoice from Xero: ${e.message}`);
      return null;
    }
  };

  const updateChunk = async (items: Item[]) => {
    const current = await readCurrent(items);
    if (!current) return;
    for (const item of items) {
      const remoteId = item.prev!.remoteId!;
      const inv = current.get(remoteId);
      if (!inv) {
        fail(item, 'permanent', `Xero invoice ${remoteId} was not found (deleted from Xero?)`);
        continue;
      }
      const status = String(inv.status);
      if (status !== 'DRAFT') {
        out.set(item.draft.key, { key: item.draft.key, status: 'locked', remoteId, remoteStatus: status });
        continue;
      }
      await updateOne(item, remoteId);
    }
  };

  // ---- delete (a draft that lost all its entries) ----------------------------------------

  const deleteChunk = async (all: Item[]) => {
    const items: Item[] = [];
    for (const item of all) {
      if (item.prev?.remoteType !== 'credit-note') {
        items.push(item);
        continue;
      }
      try {
        const retired = await retireDocument(session, 'credit-note', item.prev.remoteId!, item.draft.key);
        if (retired.gone)
          out.set(item.draft.key, { key: item.draft.key, status: 'written', remoteId: item.prev.remoteId, remoteStatus: 'DELETED' });
        else out.set(item.draft.key, { key: item.draft.key, status: 'locked', remoteId: item.prev.remoteId, remoteStatus: retired.status });
      } catch (e) {
        if (e instanceof DraftRejected) fail(item, e.category, e.message);
        else if (e instanceof XeroCallError)
          fail(item, e.uncertain ? 'transient' : 'permanent', `could not delete the emptied draft credit note: ${e.message}`);
        else throw e;
      }
    }
    if (items.length === 0) return;
    const current = await readCurrent(items);
    if (!current) return;
    for (const item of items) {
      const remoteId = item.prev!.remoteId!;
      const status = String(current.get(remoteId)?.status ?? 'DELETED');
      if (status === 'DELETED' || status === 'VOIDED') {
        out.set(item.draft.key, { key: item.draft.key, status: 'written', remoteId, remoteStatus: status });
      } else if (status !== 'DRAFT' && status !== 'SUBMITTED') {
        out.set(item.draft.key, { key: item.draft.key, status: 'locked', remoteId, remoteStatus: status });
      } else {
        try {
          const body = await session.call('delete draft invoice', (api) =>
            api.updateInvoice(
              tenant,
              remoteId,
              { invoices: [{ invoiceID: remoteId, status: Invoice.StatusEnum.DELETED }] },
              undefined,
              idempotencyKey('delete', tenant, [item]),
            ),
          );
          const r = body.invoices?.[0];
          if (r?.hasErrors) fail(item, 'permanent', messagesOf(r));
          else out.set(item.draft.key, { key: item.draft.key, status: 'written', remoteId, remoteStatus: 'DELETED' });
        } catch (e) {
          if (!(e instanceof XeroCallError)) throw e;
          fail(item, e.uncertain ? 'transient' : 'permanent', `could not delete the emptied draft: ${describeFailure(e.failure)}`);
        }
      }
    }
  };

  // 3. Work: batches of creates (one unitdp per request) and groups of updates, under the budget.
  const work: (() => Promise<void>)[] = [];
  for (const dp of [2, 4] as const) {
    for (const part of chunk(
      toCreate.filter((i) => i.settings.unitPriceDecimals === dp),
      config.batchSize,
    ))
      work.push(() => createChunk(part));
  }
  for (const part of chunk(toUpdate, 50)) work.push(() => updateChunk(part));
  for (const part of chunk(deletions, 50)) work.push(() => deleteChunk(part));
  if (creditNotes.length > 0) {
    work.push(async () => {
      for (const o of await pushCreditNotes(config, creditNotes, { session, intents, contacts, log })) out.set(o.key, o);
    });
  }
  await runPool(work, config.rateLimits.concurrent, (w) => w());

  return drafts.map(
    (d) => out.get(d.key) ?? ({ key: d.key, status: 'failed', category: 'transient', message: 'not attempted' } satisfies WriteOutcome),
  );
}
