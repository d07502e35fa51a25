import type { Logger } from 'pino';
import type { PreviousWrite, WriteOutcome } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { ApiCallError } from '../../src/destinations/api-client';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { type EffectiveSettings, type QuickBooksConfig, settingsFor } from './config.schema';
import { callMessage, faultCodes, type QboSession } from './qbo-session';
import {
  DraftRejected,
  type QboEntity,
  buildTxn,
  docNumberFor,
  entityFor,
  lockedStatus,
  remoteFigures,
  remoteLineIds,
  requestId,
  sameContent,
} from './to-qbo';
import type { QboTxn } from './types';

/**
 * The QuickBooks push, one document per draft (QuickBooks' batch endpoint allows 30 operations
 * but answers per operation in one response: a lost answer would leave 30 outcomes unknown, and
 * requestid covers a single operation best). Never a duplicate: a create is preceded by a look-up
 * by DocNumber (deterministic per invoice key) and carries a deterministic requestid, so a resend
 * after a lost answer replays the first answer; a "Duplicate Document Number" (6140) is answered
 * by adopting the document that holds the number. Updates are full updates with the SyncToken
 * just read; a stale one (5010) is read again once.
 */

interface Item {
  draft: InvoiceDraft;
  settings: EffectiveSettings;
  prev?: PreviousWrite;
  entity: QboEntity;
  docNumber: string;
}

export interface PushDeps {
  session: QboSession;
  log?: Logger;
}

const DUPLICATE_DOC_NUMBER = '6140';
const STALE_OBJECT = '5010';

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let fatal: unknown;
  const worker = async () => {
    while (fatal === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (e) {
        fatal ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  if (fatal !== undefined) throw fatal;
}

export async function pushDrafts(
  config: QuickBooksConfig,
  drafts: InvoiceDraft[],
  previous: Map<string, PreviousWrite>,
  deps: PushDeps,
): Promise<WriteOutcome[]> {
  const { session, log } = deps;
  const realm = config.realmId;
  const out = new Map<string, WriteOutcome>();
  const fail = (key: string, category: 'config' | 'permanent' | 'transient' | 'rate_limited', message: string) =>
    out.set(key, { key, status: 'failed', category, message });
  const written = (item: Item, txn: QboTxn) =>
    out.set(item.draft.key, {
      key: item.draft.key,
      status: 'written',
      remoteId: txn.Id,
      remoteStatus: item.entity === 'Estimate' ? (txn.TxnStatus ?? 'Pending') : (txn.EmailStatus ?? 'NotSet'),
      remoteType: item.entity === 'CreditMemo' ? 'credit-note' : 'invoice',
      remoteLineIds: remoteLineIds(item.draft, txn),
      ...remoteFigures(txn, item.entity),
    });
  const locked = (key: string, remoteId: string | undefined, remoteStatus: string) =>
    out.set(key, { key, status: 'locked', ...(remoteId ? { remoteId } : {}), remoteStatus });

  // Customers, once per name in this write.
  const customers = new Map<string, Promise<string>>();
  const customerFor = (item: Item): Promise<string> => {
    const c = item.settings.customer;
    if (c.id) return Promise.resolve(c.id);
    const name = c.displayName ?? item.draft.clientName;
    let found = customers.get(name);
    if (!found) {
      found = (async () => {
        const hit = await session.findCustomer(name);
        if (hit) return hit.Id;
        if (!c.createMissing) {
          throw new DraftRejected(
            'config',
            `QuickBooks has no customer with DisplayName "${name}" (client ${item.draft.clientId}); set customer.id, or customer.createMissing: true`,
          );
        }
        return (await session.createCustomer(name, requestId('cust', realm, [name]))).Id;
      })();
      customers.set(name, found);
    }
    return found;
  };

  /** Per-draft failure handling: a refused or unanswered write fails this draft only; auth and config end the run. */
  const guarded = async (key: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof DraftRejected) fail(key, e.category, e.message);
      else if (e instanceof ApiCallError) {
        fail(
          key,
          e.uncertain ? 'transient' : 'permanent',
          e.uncertain ? `${callMessage(e)}; the next run looks the document up by DocNumber before writing again` : callMessage(e),
        );
      } else if (e instanceof ConnectorError && (e.category === 'rate_limited' || e.category === 'transient'))
        fail(key, e.category, e.message);
      else throw e;
    }
  };

  /** Deletes an earlier document of this draft, unless finance already acted on it. */
  const retire = async (key: string, entity: QboEntity, id: string): Promise<{ gone: true } | { gone: false; status: string }> => {
    const current = (await session.byId(entity, [id])).get(id);
    if (!current) return { gone: true };
    const status = lockedStatus(current, entity);
    if (status) return { gone: false, status };
    await session.remove(entity, id, current.SyncToken ?? '0', requestId('delete', realm, [key, id, current.SyncToken ?? '0']));
    return { gone: true };
  };

  const update = async (item: Item, current: QboTxn): Promise<void> => {
    let now = current;
    for (let attempt = 1; ; attempt++) {
      const status = lockedStatus(now, item.entity);
      if (status) return void locked(item.draft.key, now.Id, status);
      const body = buildTxn(item.draft, item.settings, {
        entity: item.entity,
        customerId: now.CustomerRef?.value ?? (await customerFor(item)),
        docNumber: item.docNumber,
        id: now.Id,
        syncToken: now.SyncToken,
      });
      try {
        const rid = requestId('update', realm, [item.draft.key, now.Id ?? '', now.SyncToken ?? '', item.draft.contentHash]);
        return void written(item, await session.save(item.entity, body, rid));
      } catch (e) {
        // Someone edited it between our read and our write: read again, once.
        if (e instanceof ApiCallError && faultCodes(e.body).includes(STALE_OBJECT) && attempt < 2 && now.Id) {
          const again = (await session.byId(item.entity, [now.Id])).get(now.Id);
          if (!again) throw new DraftRejected('permanent', `QuickBooks ${item.entity} ${now.Id} was deleted while Hourbridge updated it`);
          now = again;
          continue;
        }
        throw e;
      }
    }
  };

  /** Creates, or adopts what an earlier attempt already created (found by DocNumber). */
  const create = async (item: Item, existing: QboTxn | undefined, supersedes?: string): Promise<void> => {
    if (existing) {
      log?.info({ key: item.draft.key, remoteId: existing.Id }, 'quickbooks document already exists; adopting it instead of creating');
      if (sameContent(item.draft, existing, item.entity)) return void written(item, existing);
      return update(item, existing);
    }
    const body = buildTxn(item.draft, item.settings, {
      entity: item.entity,
      customerId: await customerFor(item),
      docNumber: item.docNumber,
    });
    try {
      const rid = requestId('create', realm, [item.draft.key, item.draft.contentHash, supersedes ?? '']);
      written(item, await session.save(item.entity, body, rid));
    } catch (e) {
      if (e instanceof ApiCallError && faultCodes(e.body).includes(DUPLICATE_DOC_NUMBER)) {
        const holder = (await session.byDocNumber(item.entity, [item.docNumber])).get(item.docNumber);
        if (holder) return create(item, holder, supersedes);
        throw new DraftRejected('permanent', `DocNumber ${item.docNumber} is taken by another QuickBooks document (deleted or voided?)`);
      }
      throw e;
    }
  };

  // 1. Sort: unchanged, emptied, switching document type, update, create.
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
    let item: Item;
    try {
      item = { draft, settings, prev, entity: entityFor(draft), docNumber: docNumberFor(draft, settings) };
    } catch (e) {
      if (!(e instanceof DraftRejected)) throw e;
      fail(draft.key, e.category, e.message);
      continue;
    }
    const prevEntity: QboEntity = prev?.remoteType === 'credit-note' ? 'CreditMemo' : 'Estimate';
    if (prev?.remoteId && prev.pushedHash === draft.contentHash) {
      out.set(draft.key, {
        key: draft.key,
        status: 'written',
        remoteId: prev.remoteId,
        remoteStatus: prev.remoteStatus,
        remoteLineIds: prev.remoteLineIds,
      });
    } else if (prev?.remoteId && prevEntity !== item.entity) switches.push(item);
    else if (prev?.remoteId) updates.push(item);
    else creates.push(item);
  }

  const concurrency = Math.min(4, config.rateLimits.concurrent);

  // 2. Emptied drafts: delete the document while finance has not acted on it.
  await pool(emptied, concurrency, ({ draft, prev }) =>
    guarded(draft.key, async () => {
      const entity: QboEntity = prev.remoteType === 'credit-note' ? 'CreditMemo' : 'Estimate';
      const r = await retire(draft.key, entity, prev.remoteId as string);
      if (r.gone) out.set(draft.key, { key: draft.key, status: 'written', remoteId: prev.remoteId, remoteStatus: 'Deleted' });
      else locked(draft.key, prev.remoteId, r.status);
    }),
  );

  // 3. Updates in place (read current SyncToken and status first, in one query per 30).
  for (const entity of ['Estimate', 'CreditMemo'] as const) {
    const mine = updates.filter((i) => i.entity === entity);
    if (mine.length === 0) continue;
    let current: Map<string, QboTxn>;
    try {
      current = await session.byId(
        entity,
        mine.map((i) => i.prev?.remoteId as string),
      );
    } catch (e) {
      for (const i of mine) await guarded(i.draft.key, () => Promise.reject(e));
      continue;
    }
    await pool(mine, concurrency, (item) =>
      guarded(item.draft.key, async () => {
        const now = current.get(item.prev?.remoteId as string);
        if (!now)
          throw new DraftRejected('permanent', `QuickBooks ${entity} ${item.prev?.remoteId} was not found (deleted in QuickBooks?)`);
        await update(item, now);
      }),
    );
  }

  // 4. A draft that changed sign: the earlier document goes, the new type is created.
  await pool(switches, concurrency, (item) =>
    guarded(item.draft.key, async () => {
      const prevEntity: QboEntity = item.entity === 'Estimate' ? 'CreditMemo' : 'Estimate';
      const r = await retire(item.draft.key, prevEntity, item.prev?.remoteId as string);
      if (!r.gone) return void locked(item.draft.key, item.prev?.remoteId, r.status);
      const existing = (await session.byDocNumber(item.entity, [item.docNumber])).get(item.docNumber);
      await create(item, existing, item.prev?.remoteId);
    }),
  );

  // 5. Creates, after one look-up by DocNumber per 30: an earlier run's lost answer is adopted.
  for (const entity of ['Estimate', 'CreditMemo'] as const) {
    const mine = creates.filter((i) => i.entity === entity);
    if (mine.length === 0) continue;
    let existing: Map<string, QboTxn>;
    try {
      existing = await session.byDocNumber(
        entity,
        mine.map((i) => i.docNumber),
      );
    } catch (e) {
      for (const i of mine) await guarded(i.draft.key, () => Promise.reject(e));
      continue;
    }
    await pool(mine, concurrency, (item) => guarded(item.draft.key, () => create(item, existing.get(item.docNumber))));
  }

  return drafts.map(
    (d) => out.get(d.key) ?? ({ key: d.key, status: 'failed', category: 'transient', message: 'not attempted' } satisfies WriteOutcome),
  );
}
