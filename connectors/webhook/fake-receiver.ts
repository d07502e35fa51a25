import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature, type WebhookDocument, type WebhookPayload } from './payload';

/**
 * A receiver of the webhook destination for tests and the push bench: a real local HTTP server
 * that does what README.md asks of a receiver — checks the signature and timestamp, upserts by
 * invoice key (so a retried POST never makes a second document), answers 409 for a document its
 * finance approved, and serves GET /status. Faults are injected per request.
 */
export interface StoredDocument {
  id: string;
  key: string;
  type: WebhookDocument['type'];
  status: 'draft' | 'approved' | 'paid' | 'voided' | 'deleted';
  net: string;
  lines: number;
  document: WebhookDocument;
  /** Upserts that created or changed it. */
  versions: number;
}

type Fault = '5xx' | '429' | 'lose';

export interface FakeReceiver {
  url: string;
  statusUrl: string;
  secret: string;
  docs: Map<string, StoredDocument>;
  /** Write requests (upserts and deletions) processed, faults not counted. */
  writes(): number;
  /** Every request that arrived, with its arrival time (ms) and answer status. */
  log: { at: number; event: string; status: number; key?: string }[];
  /** Creates of a key that already had a document: must stay 0 (the bench counts it). */
  duplicates(): number;
  fail(kind: Fault, times: number): void;
  refuse(key: string): void;
  approve(key: string): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

export async function startFakeReceiver(
  opts: { secret?: string; limit?: { requests: number; windowMs: number }; latencyMs?: number } = {},
): Promise<FakeReceiver> {
  const secret = opts.secret ?? 'fake-webhook-secret-0123456789';
  const docs = new Map<string, StoredDocument>();
  const faults: Fault[] = [];
  const refused = new Set<string>();
  const log: FakeReceiver['log'] = [];
  let writes = 0;
  let created = 0;
  /** Every id the receiver ever gave each key: more than one is a duplicate invoice. */
  const idsByKey = new Map<string, Set<string>>();
  let window = { start: 0, used: 0 };

  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
    return status;
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
  ): Promise<{ status: number; event: string; key?: string }> => {
    const ok = verifySignature({
      secret,
      timestamp: String(req.headers[TIMESTAMP_HEADER] ?? ''),
      signature: String(req.headers[SIGNATURE_HEADER] ?? ''),
      body: raw,
      nowS: Math.floor(Date.now() / 1000),
    });
    if (!ok) return { status: answer(res, 401, { error: 'bad signature' }), event: 'unsigned' };
    if (opts.limit) {
      const now = Date.now();
      if (now - window.start >= opts.limit.windowMs) window = { start: now, used: 0 };
      if (++window.used > opts.limit.requests) {
        const wait = Math.ceil((window.start + opts.limit.windowMs - now) / 1000);
        return { status: answer(res, 429, { error: 'slow down' }, { 'Retry-After': String(Math.max(wait, 1)) }), event: 'limited' };
      }
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'GET' && url.pathname === '/status') {
      const ids = new Set((url.searchParams.get('ids') ?? '').split(',').filter(Boolean));
      const documents = [...docs.values()].filter((d) => ids.has(d.id)).map((d) => ({ id: d.id, status: d.status }));
      return { status: answer(res, 200, { documents }), event: 'status' };
    }
    const payload = JSON.parse(raw.toString('utf8')) as WebhookPayload;
    if (payload.event === 'ping') return { status: answer(res, 200, {}), event: 'ping' };
    const key = payload.document.key;
    const fault = faults.shift();
    if (fault === '5xx') return { status: answer(res, 503, { error: 'maintenance' }), event: payload.event, key };
    if (fault === '429') return { status: answer(res, 429, { error: 'slow down' }, { 'Retry-After': '1' }), event: payload.event, key };
    if (refused.has(key))
      return { status: answer(res, 422, { error: `client ${key.split('-')[0]} has no account here` }), event: payload.event, key };
    writes++;
    const existing = docs.get(key);
    if (payload.event === 'invoice.deleted') {
      if (existing && existing.status !== 'draft' && existing.status !== 'deleted') {
        return { status: answer(res, 409, { id: existing.id, status: existing.status }), event: payload.event, key };
      }
      if (existing) existing.status = 'deleted';
      return { status: answer(res, existing ? 200 : 404, {}), event: payload.event, key };
    }
    const doc = payload.document;
    if (existing && existing.status !== 'draft' && existing.status !== 'deleted') {
      return { status: answer(res, 409, { id: existing.id, status: existing.status }), event: payload.event, key };
    }
    if (!existing || existing.status === 'deleted') created++;
    const stored: StoredDocument = {
      id: existing && existing.status === 'draft' ? existing.id : `wh-${created}`,
      key,
      type: doc.type,
      status: 'draft',
      net: doc.net,
      lines: doc.lines.length,
      document: doc,
      versions: (existing?.versions ?? 0) + 1,
    };
    docs.set(key, stored);
    if (stored.status === 'draft')
      idsByKey.set(key, new Set([...(existing?.status === 'deleted' ? [] : (idsByKey.get(key) ?? [])), stored.id]));
    if (fault === 'lose') {
      // Committed, but the answer never arrives.
      req.socket.destroy();
      return { status: 0, event: payload.event, key };
    }
    return { status: answer(res, 200, { id: stored.id, status: stored.status, net: stored.net }), event: payload.event, key };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const go = () =>
        handle(req, res, Buffer.concat(chunks))
          .then((r) => log.push({ at, ...r }))
          .catch((err: unknown) => {
            log.push({ at, event: 'error', status: 500 });
            if (!res.headersSent) answer(res, 500, { error: String(err) });
          });
      if (opts.latencyMs) setTimeout(go, opts.latencyMs);
      else void go();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/hook`,
    statusUrl: `${base}/status`,
    secret,
    docs,
    writes: () => writes,
    log,
    duplicates: () => [...idsByKey.values()].filter((ids) => ids.size > 1).length,
    fail: (kind, times) => {
      for (let i = 0; i < times; i++) faults.push(kind);
    },
    refuse: (key) => refused.add(key),
    approve: (key) => {
      const d = docs.get(key);
      if (!d) throw new Error(`no document for ${key}`);
      d.status = 'approved';
    },
    clearFaults: () => {
      faults.length = 0;
      refused.clear();
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
