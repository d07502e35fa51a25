import { createHash } from 'node:crypto';
import { CreditNote, Invoice } from 'xero-node';
import type { Logger } from 'pino';
import type { InvoiceDraft } from '../../src/domain/invoice';
import type { PreviousWrite, WriteOutcome } from '../../src/connectors/contract';
import type { EffectiveSettings, XeroConfig } from './config.schema';
import type { ContactResolver } from './contacts';
import type { IntentLog } from '../../src/destinations/intent-log';
import { sleep } from './rate-budget';
import { DraftRejected, buildCreditNote, remoteFigures, remoteLineIdsOf, sameContent } from './to-xero-invoice';
import { XeroCallError, backoffMs, describeFailure, type XeroSession } from './xero-session';

/**
 * Negative corrections as Xero credit notes (developer.xero.com/documentation/api/accounting/creditnotes).
 * A correction that credits more than it bills cannot be a sales invoice (Xero refuses a
 * negative total), so it is written as a DRAFT ACCRECCREDIT credit note with the same
 * guarantees as an invoice:
 *
 * - CreditNoteNumber is the invoice key's number (the invoiceNumber template) and Reference the
 *   same reference; a deterministic Idempotency-Key goes with every write;
 * - the intent log is written before each create; a key sent before is looked up by
 *   CreditNoteNumber (GET /CreditNotes?where=CreditNoteNumber=="…") before it is created again,
 *   and after an unanswered create;
 * - while DRAFT it is updated in place (POST /CreditNotes/{id}, LineItemIDs kept); once
 *   approved it is reported `locked`, like an invoice; emptied, it is deleted while DRAFT.
 *
 * Xero's figures are positive on a credit note; they are read back negated, in the ledger's
 * terms (the ledger's total is negative). Allocation to the corrected invoice happens on the
 * status read-back (status.ts), because Xero allocates only AUTHORISED credit notes.
 */

export interface CreditNoteItem {
  draft: InvoiceDraft;
  settings: EffectiveSettings;
  prev?: PreviousWrite;
  number: string;
}

export interface CreditNoteDeps {
  session: XeroSession;
  intents: IntentLog;
  contacts: ContactResolver;
  log?: Logger;
}

const LIVE = (status: unknown) => status !== 'DELETED' && status !== 'VOIDED';

export function creditNoteIdempotencyKey(op: string, tenantId: string, draft: InvoiceDraft, body: unknown): string {
  const h = createHash('sha256').update(`credit-${op}\n${tenantId}\n${draft.key}\n${draft.contentHash}\n${JSON.stringify(body ?? null)}\n`);
  return `hb-cn-${op}-${h.digest('hex').slice(0, 48)}`;
}

function messagesOf(el: { validationErrors?: { message?: string }[] }): string {
  const msgs = (el.validationErrors ?? []).map((v) => v.message).filter(Boolean);
  return msgs.length > 0 ? msgs.join('; ') : 'Xero reported an error without a message';
}

/** Credit notes by id (GET /CreditNotes/{id}; the listing has no IDs filter). Missing ones are absent. */
export async function fetchCreditNotesById(session: XeroSession, ids: string[]): Promise<Map<string, CreditNote>> {
  const out = new Map<string, CreditNote>();
  for (const id of ids) {
    try {
      const body = await session.call('get credit note', (api) => api.getCreditNote(session.tenantId, id), { idempotent: true });
      const cn = body.creditNotes?.[0];
      if (cn?.creditNoteID) out.set(cn.creditNoteID, cn);
    } catch (e) {
      if (!(e instanceof XeroCallError && e.failure.status === 404)) throw e;
    }
  }
  return out;
}

/** The live credit note holding this number, if any. */
async function findByNumber(session: XeroSession, number: string): Promise<CreditNote | undefined> {
  // A `"` cannot be escaped inside a where filter; such numbers are never looked up this way
  // (the invoiceNumber template is validated to carry the key, which holds no quotes).
  const body = await session.call(
    'find credit note by number',
    (api) => api.getCreditNotes(session.tenantId, undefined, `CreditNoteNumber=="${number}"`, undefined, 1),
    { idempotent: true },
  );
  return (body.creditNotes ?? []).find((c) => c.creditNoteNumber === number && LIVE(String(c.status)));
}

/** A document of the other kind under this key (an invoice where a credit note is needed, or the reverse) is deleted while still a draft. */
export async function retireDocument(
  session: XeroSession,
  kind: 'invoice' | 'credit-note',
  remoteId: string,
  key: string,
): Promise<{ gone: true } | { gone: false; status: string }> {
  const tenant = session.tenantId;
  let status: string;
  if (kind === 'credit-note') {
    const current = (await fetchCreditNotesById(session, [remoteId])).get(remoteId);
    status = String(current?.status ?? 'DELETED');
  } else {
    const body = await session.call(
      'get invoices by id',
      (api) => api.getInvoices(tenant, undefined, undefined, undefined, [remoteId], undefined, undefined, undefined, 1),
      { idempotent: true },
    );
    status = String(body.invoices?.[0]?.status ?? 'DELETED');
  }
  if (!LIVE(status)) return { gone: true };
  if (status !== 'DRAFT' && status !== 'SUBMITTED') return { gone: false, status };
  const idem = `hb-retire-${createHash('sha256').update(`${tenant}\n${kind}\n${remoteId}\n${key}`).digest('hex').slice(0, 48)}`;
  if (kind === 'credit-note') {
    const body = await session.call('delete draft credit note', (api) =>
      api.updateCreditNote(
        tenant,
        remoteId,
        { creditNotes: [{ creditNoteID: remoteId, status: CreditNote.StatusEnum.DELETED }] },
        undefined,
        idem,
      ),
    );
    const r = body.creditNotes?.[0];
    if (r?.hasErrors) throw new DraftRejected('permanent', `could not delete the draft credit note ${remoteId}: ${messagesOf(r)}`);
  } else {
    const body = await session.call('delete draft invoice', (api) =>
      api.updateInvoice(tenant, remoteId, { invoices: [{ invoiceID: remoteId, status: Invoice.StatusEnum.DELETED }] }, undefined, idem),
    );
    const r = body.invoices?.[0];
    if (r?.hasErrors) throw new DraftRejected('permanent', `could not delete the draft invoice ${remoteId}: ${messagesOf(r)}`);
  }
  return { gone: true };
}

/** Write negative corrections as credit notes, one at a time (they are rare); one outcome per item. */
export async function pushCreditNotes(config: XeroConfig, items: CreditNoteItem[], deps: CreditNoteDeps): Promise<WriteOutcome[]> {
  const out: WriteOutcome[] = [];
  for (const item of items) out.push(await pushOne(config, item, deps));
  return out;
}

async function pushOne(config: XeroConfig, item: CreditNoteItem, deps: CreditNoteDeps): Promise<WriteOutcome> {
  const { session, intents, log } = deps;
  const tenant = session.tenantId;
  const key = item.draft.key;
  const unitdp = item.settings.unitPriceDecimals;
  const failed = (category: 'config' | 'permanent' | 'transient', message: string): WriteOutcome => ({
    key,
    status: 'failed',
    category,
    message,
  });
  const written = (cn: CreditNote): WriteOutcome => {
    const { warnings, ...figures } = remoteFigures(item.draft, item.settings, cn, true);
    if (warnings.length > 0) log?.warn({ key, warnings }, 'xero read-back incomplete');
    return {
      key,
      status: 'written',
      remoteId: cn.creditNoteID,
      remoteStatus: cn.status === undefined ? undefined : String(cn.status),
      remoteType: 'credit-note',
      ...figures,
      remoteLineIds: remoteLineIdsOf(item.draft, cn),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  };

  let note: CreditNote;
  try {
    const contactId = await deps.contacts.resolve(item.settings, item.draft.clientName, item.draft.clientId);
    const sameKind = item.prev?.remoteType === 'credit-note';
    note = buildCreditNote(item.draft, item.settings, {
      contactId,
      remoteId: sameKind ? item.prev?.remoteId : undefined,
      remoteLineIds: sameKind ? item.prev?.remoteLineIds : undefined,
    });
  } catch (e) {
    if (e instanceof DraftRejected) return failed(e.category, e.message);
    if (e instanceof XeroCallError) return failed(e.uncertain ? 'transient' : 'permanent', `contact lookup failed: ${e.message}`);
    throw e;
  }

  const update = async (remoteId: string): Promise<WriteOutcome> => {
    const body = { ...note, creditNoteID: remoteId };
    const idem = creditNoteIdempotencyKey('update', tenant, item.draft, body);
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await session.call('update credit note', (api) =>
          api.updateCreditNote(tenant, remoteId, { creditNotes: [body] }, unitdp, idem),
        );
        const r = res.creditNotes?.[0];
        if (!r) return failed('transient', 'Xero returned no credit note after the update');
        if (r.hasErrors) return failed('permanent', messagesOf(r));
        return written(r);
      } catch (e) {
        if (!(e instanceof XeroCallError)) throw e;
        if (e.uncertain && attempt < config.maxAttempts) {
          await sleep(backoffMs(attempt));
          continue;
        }
        if (e.uncertain) return failed('transient', `no answer from Xero after ${attempt} attempts: ${describeFailure(e.failure)}`);
        // It may have been approved between our read and our write.
        const now = (await fetchCreditNotesById(session, [remoteId]).catch(() => new Map<string, CreditNote>())).get(remoteId);
        if (now?.status !== undefined && String(now.status) !== 'DRAFT')
          return { key, status: 'locked', remoteId, remoteStatus: String(now.status) };
        return failed('permanent', describeFailure(e.failure));
      }
    }
  };

  /** What to do with a credit note found in Xero for this key. */
  const adopt = async (cn: CreditNote): Promise<WriteOutcome> => {
    if (sameContent(item.draft, cn, true)) return written(cn);
    if (String(cn.status) === 'DRAFT') return update(cn.creditNoteID!);
    return { key, status: 'locked', remoteId: cn.creditNoteID, remoteStatus: String(cn.status) };
  };

  try {
    // The last write is a credit note: read it, update it while it is a draft.
    if (item.prev?.remoteId && item.prev.remoteType === 'credit-note') {
      const current = (await fetchCreditNotesById(session, [item.prev.remoteId])).get(item.prev.remoteId);
      if (current && LIVE(String(current.status))) {
        if (String(current.status) !== 'DRAFT')
          return { key, status: 'locked', remoteId: item.prev.remoteId, remoteStatus: String(current.status) };
        return await update(item.prev.remoteId);
      }
      // Deleted in Xero (or gone): written afresh below, after the look-up by number.
    } else if (item.prev?.remoteId) {
      // The correction was an invoice and now credits more than it bills: its draft goes first.
      const retired = await retireDocument(session, 'invoice', item.prev.remoteId, key);
      if (!retired.gone) return { key, status: 'locked', remoteId: item.prev.remoteId, remoteStatus: retired.status };
    }

    // A credit note written again after its earlier document went must not replay that create.
    const supersedes = item.prev?.remoteId;
    const sent = await intents.sentBefore(config.id, [key]);
    if (sent.has(key)) {
      const found = await findByNumber(session, item.number);
      if (found) {
        log?.info({ key, remoteId: found.creditNoteID }, 'xero credit note already exists; adopting it instead of creating');
        return await adopt(found);
      }
    }
    const idem = creditNoteIdempotencyKey('create', tenant, item.draft, { note, supersedes: supersedes ?? null });
    for (let attempt = 1; ; attempt++) {
      await intents.record(config.id, [key], idem);
      let result: CreditNote | undefined;
      try {
        const res = await session.call('create credit note', (api) =>
          api.createCreditNotes(tenant, { creditNotes: [note] }, false, unitdp, idem),
        );
        result = res.creditNotes?.[0];
      } catch (e) {
        if (!(e instanceof XeroCallError)) throw e;
        if (!e.uncertain) return failed('permanent', describeFailure(e.failure));
        if (attempt >= config.maxAttempts) {
          return failed(
            'transient',
            `no answer from Xero after ${attempt} attempts (${describeFailure(e.failure)}); the next run checks Xero for it before creating again`,
          );
        }
        log?.warn({ key, attempt, error: e.message }, 'xero credit note create outcome unknown; checking before retrying');
        await sleep(backoffMs(attempt));
        const found = await findByNumber(session, item.number);
        if (found) return await adopt(found);
        continue;
      }
      if (!result) return failed('transient', 'Xero returned no element for this credit note');
      if (result.hasErrors) {
        const msg = messagesOf(result);
        if (/must be unique|already (been )?(used|assigned)/i.test(msg)) {
          const found = await findByNumber(session, item.number);
          if (found) return await adopt(found);
          return failed('permanent', `Credit note # ${item.number} must be unique: another Xero credit note (deleted or voided?) holds it`);
        }
        return failed('permanent', msg);
      }
      return written(result);
    }
  } catch (e) {
    if (e instanceof DraftRejected) return failed(e.category, e.message);
    if (e instanceof XeroCallError) return failed(e.uncertain ? 'transient' : 'permanent', `credit note ${item.number}: ${e.message}`);
    throw e;
  }
}
