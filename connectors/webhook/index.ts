import axios, { type AxiosInstance } from 'axios';
import type {
  CheckResult,
  ConnectorContext,
  DestinationConnector,
  DestinationWebhook,
  PreviousWrite,
  WebhookEvent,
  WriteContext,
  WriteOutcome,
} from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { destinationServicesOf } from '../../src/destinations/services';
import type { StatusMap } from '../../src/destinations/statuses';
import { headerOf } from '../../src/destinations/webhooks';
import { withRetries } from '../../src/http/retry-loop';
import { retryPolicy } from '../../src/http/settings';
import { scrubSecrets } from '../../src/http/redact';
import { WebhookConfigSchema, webhookSecretFields, type WebhookConfig } from './config.schema';
import { PAYLOAD_VERSION, SIGNATURE_HEADER, TIMESTAMP_HEADER, documentOf, sign, verifySignature, type WebhookPayload } from './payload';

/**
 * `kind: webhook`: each draft is POSTed to the receiver as the documented JSON (payload.ts,
 * README.md), signed with HMAC-SHA256 over timestamp + body. A 2xx answer is "written" and its
 * body's `id` the remote id; the same key is POSTed again when the draft changes (the receiver
 * upserts by key, which also makes a retry after a lost answer safe); an emptied draft is an
 * `invoice.deleted` event; a negative correction a document of type `credit-note`. 409 means the
 * receiver's finance approved it (locked). Retries (5xx, 429 with Retry-After, no answer) follow
 * the project's retry policy (decideRetry), each attempt signed afresh.
 */

/** The status words of the receiver's answers and status documents (README.md, "Statuses"). */
export const WEBHOOK_STATUS_MAP: StatusMap = {
  draft: 'draft',
  approved: 'approved',
  paid: 'paid',
  voided: 'voided',
  deleted: 'deleted',
};

/** Answers that are the receiver's final word on a request (not retried). */
const FINAL = new Set([400, 404, 409, 410, 422]);

interface Answer {
  status: number;
  data: unknown;
}

class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, unknown>,
  ) {
    super(`HTTP ${status}`);
  }
}

function lowerHeaders(h: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (h && typeof h === 'object') for (const [k, v] of Object.entries(h as Record<string, unknown>)) out[k.toLowerCase()] = v;
  return out;
}

function field(data: unknown, name: string): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const v = (data as Record<string, unknown>)[name];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** The receiver's reason for a refusal, from its body (`error` or `message`), never longer than a line. */
function reasonOf(a: Answer): string {
  const r = field(a.data, 'error') ?? field(a.data, 'message') ?? (typeof a.data === 'string' ? a.data : '');
  return r.replace(/\s+/g, ' ').slice(0, 300) || 'no reason given';
}

interface Sender {
  send(method: 'POST' | 'GET', url: string, what: string, payload?: WebhookPayload, idempotencyKey?: string): Promise<Answer>;
}

function sender(config: WebhookConfig, ctx: ConnectorContext): Sender {
  const http: AxiosInstance = axios.create({ timeout: config.timeoutMs, validateStatus: () => true, maxRedirects: 0 });
  const services = destinationServicesOf(ctx, webhookDestination, config.id);
  const limiter = config.rateLimit
    ? services.budget(new URL(config.url).origin, config.rateLimit.requests, config.rateLimit.perSeconds * 1000)
    : undefined;
  return {
    send(method, url, what, payload, idempotencyKey) {
      const body = payload ? JSON.stringify(payload) : '';
      return withRetries(
        async () => {
          // Signed per attempt: a retry after a long Retry-After still carries a fresh timestamp.
          const timestamp = Math.floor(Date.now() / 1000);
          const res = await http.request({
            method,
            url,
            data: payload ? body : undefined,
            headers: {
              Accept: 'application/json',
              ...(payload ? { 'Content-Type': 'application/json' } : {}),
              'User-Agent': 'Hourbridge',
              [TIMESTAMP_HEADER]: String(timestamp),
              [SIGNATURE_HEADER]: sign(config.secret, timestamp, body),
              ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
            },
            transformRequest: [(d: unknown) => d],
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          if ((res.status >= 200 && res.status < 300) || FINAL.has(res.status)) return { status: res.status, data: res.data };
          throw new HttpStatus(res.status, lowerHeaders(res.headers));
        },
        {
          connector: 'webhook',
          authHint: `the secret of destination "${config.id}" (the receiver refused its signature)`,
          what,
          policy: retryPolicy(config.retry),
          secrets: [config.secret],
          ...(limiter ? { limiter } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          describe: (err) => (err instanceof HttpStatus ? { status: err.status, headers: err.headers } : {}),
        },
      );
    },
  };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function failedOf(key: string, err: unknown, secret: string): Extract<WriteOutcome, { status: 'failed' }> {
  if (err instanceof ConnectorError) return { key, status: 'failed', category: err.category, message: err.message };
  const message = scrubSecrets(`webhook: ${err instanceof Error ? err.message : String(err)}`, [secret]);
  return { key, status: 'failed', category: 'permanent', message };
}

async function writeOne(config: WebhookConfig, s: Sender, draft: InvoiceDraft, prev: PreviousWrite | undefined): Promise<WriteOutcome> {
  const key = draft.key;
  if (draft.lines.length === 0) {
    // Every entry left this draft: tell the receiver, or nothing to do when it never had it.
    if (!prev?.remoteId) return { key, status: 'written', remoteStatus: 'deleted' };
    const a = await s.send('POST', config.url, `POST invoice.deleted ${key}`, {
      version: PAYLOAD_VERSION,
      event: 'invoice.deleted',
      document: { key, id: prev.remoteId },
    });
    if (a.status === 409) return { key, status: 'locked', remoteId: prev.remoteId, remoteStatus: field(a.data, 'status') ?? 'approved' };
    if (a.status < 300 || a.status === 404 || a.status === 410)
      return { key, status: 'written', remoteId: prev.remoteId, remoteStatus: 'deleted' };
    return {
      key,
      status: 'failed',
      category: 'permanent',
      message: `the receiver refused the deletion (HTTP ${a.status}): ${reasonOf(a)}`,
    };
  }
  if (prev?.remoteId && prev.pushedHash === draft.contentHash) {
    return { key, status: 'written', remoteId: prev.remoteId, remoteStatus: prev.remoteStatus };
  }
  const document = documentOf(draft, prev?.remoteId);
  const a = await s.send(
    'POST',
    config.url,
    `POST invoice.upsert ${key}`,
    { version: PAYLOAD_VERSION, event: 'invoice.upsert', document },
    `${key}.${draft.contentHash}`,
  );
  const id = field(a.data, 'id');
  if (a.status === 409) {
    return { key, status: 'locked', remoteId: id ?? prev?.remoteId, remoteStatus: field(a.data, 'status') ?? 'approved' };
  }
  if (a.status >= 300) {
    return { key, status: 'failed', category: 'permanent', message: `the receiver refused the invoice (HTTP ${a.status}): ${reasonOf(a)}` };
  }
  if (!id) {
    return {
      key,
      status: 'failed',
      category: 'permanent',
      message: `the receiver answered HTTP ${a.status} without an "id" in its JSON body; the next run sends the invoice again`,
    };
  }
  const net = field(a.data, 'net');
  return {
    key,
    status: 'written',
    remoteId: id,
    remoteStatus: field(a.data, 'status') ?? 'draft',
    remoteType: document.type,
    ...(net !== undefined ? { remoteTotal: net } : {}),
  };
}

/** Inbound: the receiver tells Hourbridge a document changed (README.md, "Statuses"); the status is then read from statusUrl. */
const webhook: DestinationWebhook<WebhookConfig> = {
  keyHint: 'the destination\'s "secret"',
  verify(request, config) {
    if (!config.secret) return 'no-key';
    return verifySignature({
      secret: config.secret,
      timestamp: headerOf(request.headers, TIMESTAMP_HEADER),
      signature: headerOf(request.headers, SIGNATURE_HEADER),
      body: request.rawBody,
      nowS: Math.floor(Date.now() / 1000),
    })
      ? 'ok'
      : 'invalid';
  },
  parse(request) {
    let body: { events?: { id?: unknown }[] };
    try {
      body = JSON.parse(request.rawBody.toString('utf8')) as typeof body;
    } catch {
      return [];
    }
    const at = headerOf(request.headers, TIMESTAMP_HEADER);
    return (Array.isArray(body.events) ? body.events : [])
      .filter((e): e is { id: string } => typeof e?.id === 'string' && e.id !== '')
      .map((e): WebhookEvent => ({ remoteId: e.id, eventId: `${e.id}.${at}` }));
  },
};

export const webhookDestination: DestinationConnector<WebhookConfig> = {
  kind: 'webhook',
  role: 'destination',
  configSchema: WebhookConfigSchema,
  secretFields: webhookSecretFields,
  capabilities: {
    realDrafts: false,
    updateInPlace: true,
    deleteEmptied: true,
    creditNotes: true,
    statusReadBack: ['poll', 'webhook'],
    // Net amounts and each line's taxType are sent; a receiver that adds tax does so itself, nothing is read back.
    tax: 'none',
    unitPriceDecimals: [2, 4],
    batchSize: 1,
    idempotency: 'receiver-dedupe',
  },
  statusMap: WEBHOOK_STATUS_MAP,
  webhook,

  async check(config: WebhookConfig, ctx: ConnectorContext): Promise<CheckResult> {
    try {
      const a = await sender(config, ctx).send('POST', config.url, 'POST ping', { version: PAYLOAD_VERSION, event: 'ping' });
      if (a.status >= 300) {
        return { ok: false, category: 'config', message: `webhook: the receiver answered a ping with HTTP ${a.status}: ${reasonOf(a)}` };
      }
      return { ok: true, message: `webhook: ${new URL(config.url).origin} accepted a signed ping (HTTP ${a.status}).` };
    } catch (err) {
      const f = failedOf(config.id, err, config.secret);
      return { ok: false, category: f.category, message: f.message };
    }
  },

  async write(config: WebhookConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
    const s = sender(config, ctx);
    const out = new Map<string, WriteOutcome>();
    await pool(drafts, config.concurrency, async (draft) => {
      try {
        out.set(draft.key, await writeOne(config, s, draft, ctx.previous.get(draft.key)));
      } catch (err) {
        // One receiver failure never sinks the rest of the batch.
        out.set(draft.key, failedOf(draft.key, err, config.secret));
      }
    });
    return drafts.map((d) => out.get(d.key)!);
  },

  async pollStatuses(config: WebhookConfig, ctx: ConnectorContext) {
    if (!config.statusUrl) return { checked: 0, changed: 0 };
    const statuses = destinationServicesOf(ctx, webhookDestination, config.id).statuses;
    if (!statuses) throw new ConnectorError('config', 'webhook: reading statuses back needs the ledger', { connector: 'webhook' });
    const open = await statuses.open();
    const known = new Map(open.map((r) => [r.remoteId, r.remoteStatus]));
    const s = sender(config, ctx);
    let checked = 0;
    let changed = 0;
    for (let i = 0; i < open.length; i += 100) {
      const ids = open.slice(i, i + 100).map((r) => r.remoteId);
      const url = new URL(config.statusUrl);
      url.searchParams.set('ids', ids.join(','));
      const a = await s.send('GET', url.toString(), 'GET status');
      if (a.status >= 300)
        throw new ConnectorError('permanent', `webhook: the status URL answered HTTP ${a.status}: ${reasonOf(a)}`, {
          connector: 'webhook',
        });
      const docs = (a.data as { documents?: { id?: unknown; status?: unknown }[] } | null)?.documents ?? [];
      for (const d of docs) {
        if (typeof d.id !== 'string' || typeof d.status !== 'string' || !known.has(d.id)) continue;
        checked++;
        if (known.get(d.id) === d.status) continue;
        if (await statuses.apply(d.id, d.status)) changed++;
      }
    }
    return { checked, changed };
  },
};

export default webhookDestination;
export { WebhookConfigSchema, type WebhookConfig } from './config.schema';
