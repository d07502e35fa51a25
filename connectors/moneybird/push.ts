import type { Logger } from 'pino';
import type { PreviousWrite, WriteOutcome } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import type { IntentLog } from '../../src/destinations/intent-log';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';
import { backoffMs, defaultRetryPolicy } from '../../src/http/retry';
import { sleep } from '../../src/http/client';
import type { MoneybirdApi } from './client';
import type { MoneybirdConfig } from './config.schema';
import {
  DraftRejected,
  bookkeepingFor,
  createBody,
  detailsOf,
  figuresOf,
  lookupPeriod,
  referenceOf,
  remoteLineIdsOf,
  sameContent,
  updateBody,
} from './to-moneybird-invoice';
import type { MoneybirdSalesInvoice } from './types';

/**
 * The Moneybird push, one invoice at a time under the administration's budget. Moneybird has no
 * idempotency key, so the runtime's intent log notes every create before it is sent, and a key
 * that was sent before (or whose create went unanswered) is looked up by its reference before it
 * is created again: a lost answer never makes a second invoice. Drafts are updated in place while
 * their state is `draft` and reported `locked` once finance moved them on; an emptied draft is
 * deleted; a correction that credits more than it bills is a credit invoice (negative details).
 */
export interface PushDeps {
  api: MoneybirdApi;
  intents: IntentLog;
  log?: Logger;
}

type Outcome = WriteOutcome;

function written(draft: InvoiceDraft, config: MoneybirdConfig, inv: MoneybirdSalesInvoice): Outcome {
  return {
    key: draft.key,
    status: 'written',
    remoteId: inv.id,
    remoteStatus: inv.state,
    remoteType: dec(draft.total).isNegative() ? 'credit-note' : 'invoice',
    ...figuresOf(inv),
    remoteLineIds: remoteLineIdsOf(draft, config, inv),
  };
}

const locked = (key: string, inv: MoneybirdSalesInvoice): Outcome => ({ key, status: 'locked', remoteId: inv.id, remoteStatus: inv.state });

class ContactResolver {
  private readonly cache = new Map<string, string>();
  constructor(
    private readonly api: MoneybirdApi,
    private readonly config: MoneybirdConfig,
  ) {}
  async resolve(draft: InvoiceDraft): Promise<string> {
    const configured = bookkeepingFor(this.config, draft.clientId).contactId;
    if (configured) return configured;
    const hit = this.cache.get(draft.clientId);
    if (hit) return hit;
    let contact = await this.api.findContactByCustomerId(draft.clientId);
    if (!contact) {
      if (!this.config.contacts.createMissing) {
        throw new DraftRejected(
          'config',
          `no Moneybird contact has customer_id "${draft.clientId}"; set clients.${draft.clientId}.contactId or contacts.createMissing`,
        );
      }
      contact = await this.api.createContact(draft.clientName, draft.clientId);
    }
    this.cache.set(draft.clientId, contact.id);
    return contact.id;
  }
}

async function updateInPlace(
  config: MoneybirdConfig,
  api: MoneybirdApi,
  draft: InvoiceDraft,
  current: MoneybirdSalesInvoice,
  remoteLineIds?: Record<string, string>,
): Promise<Outcome> {
  if (current.state !== 'draft') return locked(draft.key, current);
  if (sameContent(draft, config, current)) return written(draft, config, current);
  return written(draft, config, await api.updateInvoice(current.id, updateBody(draft, config, current, remoteLineIds)));
}

async function findByReference(api: MoneybirdApi, draft: InvoiceDraft): Promise<MoneybirdSalesInvoice | undefined> {
  const found = await api.findInvoicesByReference([referenceOf(draft)], lookupPeriod(draft.issueDate));
  return found.find((i) => i.reference === referenceOf(draft));
}

async function create(config: MoneybirdConfig, deps: PushDeps, contacts: ContactResolver, draft: InvoiceDraft): Promise<Outcome> {
  const { api, intents, log } = deps;
  if ((await intents.sentBefore(config.id, [draft.key])).size > 0) {
    const existing = await findByReference(api, draft);
    if (existing) {
      log?.info({ key: draft.key, remoteId: existing.id }, 'moneybird invoice already exists; adopting it instead of creating');
      return updateInPlace(config, api, draft, existing);
    }
  }
  const body = createBody(draft, config, await contacts.resolve(draft));
  const maxAttempts = config.retry?.maxAttempts ?? defaultRetryPolicy.maxAttempts;
  const policy = { ...defaultRetryPolicy, ...(config.retry ?? {}) };
  await intents.record(config.id, [draft.key], referenceOf(draft));
  for (let attempt = 1; ; attempt++) {
    try {
      return written(draft, config, await api.createInvoice(body));
    } catch (e) {
      if (!(e instanceof ConnectorError) || !e.retryable || attempt >= maxAttempts) {
        if (e instanceof ConnectorError && e.category === 'transient') {
          throw new ConnectorError(
            'transient',
            `${e.message} The next run looks the invoice up by its reference (${referenceOf(draft)}) before creating it again.`,
            e.details,
          );
        }
        throw e;
      }
      if (e.category === 'rate_limited' && (e.details.retryAfterMs ?? 0) > policy.maxRetryAfterMs) throw e;
      if (e.category === 'rate_limited') {
        // A 429 was refused before it was processed: the same create again is safe.
        await sleep((e.details.retryAfterMs ?? backoffMs(attempt, policy, Math.random)) + policy.retryAfterPaddingMs);
        continue;
      }
      // No answer or a 5xx: Moneybird may have created it. Look before creating again.
      log?.warn({ key: draft.key, attempt, error: e.message }, 'moneybird create outcome unknown; looking it up before retrying');
      await sleep(backoffMs(attempt, policy, Math.random));
      const existing = await findByReference(api, draft);
      if (existing) return updateInPlace(config, api, draft, existing);
    }
  }
}

export async function pushDrafts(
  config: MoneybirdConfig,
  drafts: InvoiceDraft[],
  previous: Map<string, PreviousWrite>,
  deps: PushDeps,
): Promise<WriteOutcome[]> {
  const { api } = deps;
  const contacts = new ContactResolver(api, config);
  const out: WriteOutcome[] = [];
  for (const draft of drafts) {
    const key = draft.key;
    const prev = previous.get(key);
    try {
      if (draft.lines.length === 0) {
        // Every entry left this draft: delete it in Moneybird while it is a draft.
        if (!prev?.remoteId) {
          out.push({ key, status: 'written', remoteStatus: 'deleted' });
          continue;
        }
        const current = await api.getInvoice(prev.remoteId);
        if (current && current.state !== 'draft') {
          out.push(locked(key, current));
          continue;
        }
        if (current) await api.deleteInvoice(current.id);
        out.push({ key, status: 'written', remoteId: prev.remoteId, remoteStatus: 'deleted' });
        continue;
      }
      detailsOf(draft, config); // a draft Moneybird cannot take fails here, before any call
      if (prev?.remoteId && prev.pushedHash === draft.contentHash) {
        out.push({ key, status: 'written', remoteId: prev.remoteId, remoteStatus: prev.remoteStatus, remoteLineIds: prev.remoteLineIds });
        continue;
      }
      if (prev?.remoteId) {
        const current = await api.getInvoice(prev.remoteId);
        if (!current) {
          out.push({
            key,
            status: 'failed',
            category: 'permanent',
            message: `Moneybird sales invoice ${prev.remoteId} was not found (deleted in Moneybird?)`,
          });
          continue;
        }
        out.push(await updateInPlace(config, api, draft, current, prev.remoteLineIds));
        continue;
      }
      out.push(await create(config, deps, contacts, draft));
    } catch (e) {
      // One refused invoice never holds back the others.
      if (e instanceof DraftRejected) out.push({ key, status: 'failed', category: e.category, message: e.message });
      else if (e instanceof ConnectorError) out.push({ key, status: 'failed', category: e.category, message: e.message });
      else throw e;
    }
  }
  return out;
}
