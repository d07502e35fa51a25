import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';

/**
 * A local fake of the parts of Xero Hourbridge talks to, written from Xero's documented
 * behaviour (developer.xero.com: Invoices, Contacts, rate limits, OAuth 2.0, idempotency):
 *
 * - Accounting API under /api.xro/2.0: PUT/POST /Invoices (batches, summarizeErrors, unitdp,
 *   Idempotency-Key remembered for a short window, same key + different body → 400),
 *   GET /Invoices (IDs, InvoiceNumbers, where on Reference/InvoiceNumber/Status),
 *   GET/POST /Invoices/{id}, GET/PUT /Contacts, GET /Contacts/{id or number}; credit notes:
 *   PUT/POST /CreditNotes, GET /CreditNotes (where), GET/POST /CreditNotes/{id},
 *   PUT /CreditNotes/{id}/Allocations (AUTHORISED only, ≤ RemainingCredit and the invoice's AmountDue).
 *   Invoices carry AmountDue / AmountCredited.
 * - Identity: POST /connect/token (authorization_code with PKCE, refresh_token with rotation and
 *   a grace period for the previous refresh token, client_credentials, invalid_grant),
 *   GET /identity/connect/authorize (redirects straight back with a code), GET /connections.
 * - Limits per organisation: concurrent calls, calls per window, calls per day, with
 *   X-MinLimit-Remaining / X-DayLimit-Remaining / X-AppMinLimit-Remaining on every response and
 *   429 + X-Rate-Limit-Problem (+ Retry-After for minute and day). Windows are scalable in time.
 * - Money like Xero: LineAmount = Q × U rounded to 2 dp; tax per line rounded, then summed; a
 *   supplied LineAmount that differs from that is rejected.
 * - Faults on demand: drop the response (or answer 503) after committing, expire access tokens,
 *   revoke refresh tokens, or a canned answer instead of processing (`answer`).
 */

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
const r2 = (d: Decimal.Value) => new D(d).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

export interface FakeXeroLimits {
  concurrent: number;
  callsPerWindow: number;
  windowMs: number;
  callsPerDay: number;
  dayMs: number;
}

export interface FakeXeroOptions {
  clientId?: string;
  clientSecret?: string;
  tenants?: { tenantId: string; tenantName: string }[];
  idempotencyWindowMs?: number;
  refreshGraceMs?: number;
  accessTokenTtlSeconds?: number;
  limits?: Partial<FakeXeroLimits>;
  /** Tax rates by TaxType (fraction, e.g. 0.15). A line without TaxType uses `defaultTaxType`. */
  taxRates?: Record<string, string>;
  defaultTaxType?: string;
  /** Artificial handling time per API request, ms. */
  latencyMs?: number;
  /** Webhook signing key, for tests that sign payloads like Xero does. */
  webhookKey?: string;
  /** Keep unit prices to at most this many decimals whatever unitdp says (an organisation that rounds). */
  maxUnitdp?: 2 | 4;
}

export type Fault =
  /** Process the request fully (commit), then destroy the socket without answering. */
  | 'drop-after-commit'
  /** Process the request fully, then answer 503. */
  | '503-after-commit'
  /** Answer 503 without processing. */
  | '503-before';

/** A canned answer given instead of processing the request (nothing is committed). */
export type CannedAnswer = (rec: RecordedRequest) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

interface FaultRule {
  fault: Fault | 'answer';
  answer?: CannedAnswer;
  method?: string;
  /** Matches the path below /api.xro/2.0 (e.g. /Invoices) or the identity path. */
  path?: RegExp;
  remaining: number;
}

export interface XeroLineJson {
  LineItemID?: string;
  Description?: string;
  Quantity?: number;
  UnitAmount?: number;
  LineAmount?: number;
  TaxAmount?: number;
  AccountCode?: string;
  ItemCode?: string;
  TaxType?: string;
  Tracking?: { Name?: string; Option?: string }[];
  [k: string]: unknown;
}

export interface XeroInvoiceJson {
  InvoiceID: string;
  Type: string;
  Status: string;
  InvoiceNumber?: string;
  Reference?: string;
  Contact: { ContactID: string; Name: string };
  Date?: string;
  DueDate?: string;
  LineAmountTypes: string;
  CurrencyCode?: string;
  BrandingThemeID?: string;
  LineItems: XeroLineJson[];
  SubTotal: number;
  TotalTax: number;
  Total: number;
  UpdatedDateUTC: string;
  [k: string]: unknown;
}

export interface XeroCreditNoteJson {
  CreditNoteID: string;
  Type: string;
  Status: string;
  CreditNoteNumber?: string;
  Reference?: string;
  Contact: { ContactID: string; Name: string };
  Date?: string;
  LineAmountTypes: string;
  CurrencyCode?: string;
  BrandingThemeID?: string;
  LineItems: XeroLineJson[];
  SubTotal: number;
  TotalTax: number;
  Total: number;
  RemainingCredit: number;
  Allocations: { AllocationID: string; Amount: number; Date: string; Invoice: { InvoiceID: string; InvoiceNumber?: string } }[];
  UpdatedDateUTC: string;
  [k: string]: unknown;
}

interface ContactJson {
  ContactID: string;
  Name: string;
  ContactNumber?: string;
  ContactStatus: string;
}

interface TokenRecord {
  accessToken: string;
  expiresAt: number;
}

interface RefreshRecord {
  state: 'active' | 'rotated' | 'revoked';
  rotatedAt?: number;
  /** The response that rotated it, replayed within the grace period. */
  replacement?: Record<string, unknown>;
  scope: string;
}

interface OrgWindow {
  start: number;
  count: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
  status?: number;
  /** Epoch ms when the request arrived. */
  at: number;
  /** Response headers sent (rate-limit headers among them). */
  responseHeaders?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export class FakeXero {
  readonly opts: Required<Omit<FakeXeroOptions, 'limits' | 'webhookKey' | 'maxUnitdp'>> & {
    limits: FakeXeroLimits;
    webhookKey?: string;
    maxUnitdp?: 2 | 4;
  };
  private server?: http.Server;
  url = '';

  readonly invoices = new Map<string, XeroInvoiceJson>();
  readonly creditNotes = new Map<string, XeroCreditNoteJson>();
  readonly contacts = new Map<string, ContactJson>();
  readonly requests: RecordedRequest[] = [];
  readonly stats = {
    apiCalls: 0,
    rejected429: { concurrent: 0, minute: 0, day: 0 },
    maxConcurrent: 0,
    tokenCalls: 0,
    invalidGrants: 0,
    committedDrops: 0,
  };

  private faults: FaultRule[] = [];
  private tokens = new Map<string, TokenRecord>();
  private refreshTokens = new Map<string, RefreshRecord>();
  private codes = new Map<string, { challenge?: string; method?: string; redirectUri: string; scope: string }>();
  private idempotency = new Map<string, { bodyHash: string; status: number; body: unknown; expiresAt: number }>();
  private inflight = new Map<string, number>();
  private minute = new Map<string, OrgWindow>();
  private day = new Map<string, OrgWindow>();
  private invoiceSeq = 0;

  constructor(options: FakeXeroOptions = {}) {
    this.opts = {
      clientId: options.clientId ?? 'FAKE-CLIENT-ID',
      clientSecret: options.clientSecret ?? 'fake-client-secret',
      tenants: options.tenants ?? [{ tenantId: '11111111-1111-4111-8111-111111111111', tenantName: 'Demo Company (Fake)' }],
      idempotencyWindowMs: options.idempotencyWindowMs ?? 6 * 60_000,
      refreshGraceMs: options.refreshGraceMs ?? 30 * 60_000,
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
      limits: { concurrent: 5, callsPerWindow: 60, windowMs: 60_000, callsPerDay: 5_000, dayMs: 86_400_000, ...options.limits },
      taxRates: options.taxRates ?? { NONE: '0', OUTPUT: '0.15', OUTPUT2: '0.15', EXEMPTOUTPUT: '0', TAX001: '0.21' },
      defaultTaxType: options.defaultTaxType ?? 'NONE',
      latencyMs: options.latencyMs ?? 0,
      webhookKey: options.webhookKey,
      maxUnitdp: options.maxUnitdp,
    };
  }

  get tenantId(): string {
    return this.opts.tenants[0]!.tenantId;
  }
  get apiBase(): string {
    return `${this.url}/api.xro/2.0`;
  }
  get tokenUrl(): string {
    return `${this.url}/connect/token`;
  }
  get authorizeUrl(): string {
    return `${this.url}/identity/connect/authorize`;
  }
  get connectionsUrl(): string {
    return `${this.url}/connections`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  // ---- test controls -------------------------------------------------------------------

  inject(fault: Fault, match: { method?: string; path?: RegExp; times?: number } = {}): void {
    this.faults.push({ fault, method: match.method, path: match.path, remaining: match.times ?? 1 });
  }
  /**
   * Answer matching requests with `answer(rec)` instead of processing them (nothing is
   * committed); `answer` returning undefined lets that request through without using a time.
   * Used for Xero answers the fake does not produce by itself: a 429 without
   * X-Rate-Limit-Problem, a whole-request 400 ValidationException (developer.xero.com/documentation/api/http-response-codes).
   */
  answer(answer: CannedAnswer, match: { method?: string; path?: RegExp; times?: number } = {}): void {
    this.faults.push({ fault: 'answer', answer, method: match.method, path: match.path, remaining: match.times ?? 1 });
  }
  clearFaults(): void {
    this.faults = [];
  }

  /** Every access token issued so far stops working (as after 30 minutes). */
  expireAccessTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  private expireAfterCalls?: number;
  /** Expire every access token once this many more API calls have been answered (mid-run expiry). */
  expireAccessTokensAfter(apiCalls: number): void {
    this.expireAfterCalls = this.stats.apiCalls + apiCalls;
  }

  /** The organisation disconnected the app: every refresh token is dead. */
  revokeRefreshTokens(): void {
    for (const r of this.refreshTokens.values()) r.state = 'revoked';
  }

  /** Issue a token set directly, as if a consent had just completed. */
  issueTokenSet(scope = 'openid offline_access accounting.invoices accounting.contacts'): Record<string, unknown> {
    return this.newTokenSet(scope, true);
  }

  /** Use up the day budget: the next API call gets a 429 `day`. */
  exhaustDayLimit(tenantId = this.tenantId): void {
    this.day.set(tenantId, { start: Date.now(), count: this.opts.limits.callsPerDay });
  }

  /** Use up the current window: the next API call gets a 429 `minute`. */
  exhaustMinuteLimit(tenantId = this.tenantId): void {
    this.minute.set(tenantId, { start: Date.now(), count: this.opts.limits.callsPerWindow });
  }

  /** Change an invoice's status as a person in Xero would (approve, pay, void, delete). */
  setStatus(invoiceId: string, status: 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED'): void {
    const inv = this.invoices.get(invoiceId);
    if (!inv) throw new Error(`no invoice ${invoiceId}`);
    inv.Status = status;
    inv.UpdatedDateUTC = msDate(Date.now());
  }

  /** Change a credit note's status as a person in Xero would (approve, void, delete). */
  setCreditNoteStatus(creditNoteId: string, status: 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED'): void {
    const cn = this.creditNotes.get(creditNoteId);
    if (!cn) throw new Error(`no credit note ${creditNoteId}`);
    cn.Status = status;
    cn.UpdatedDateUTC = msDate(Date.now());
  }

  addContact(name: string, contactNumber?: string, contactId: string = randomUUID()): ContactJson {
    const c: ContactJson = {
      ContactID: contactId,
      Name: name,
      ContactStatus: 'ACTIVE',
      ...(contactNumber ? { ContactNumber: contactNumber } : {}),
    };
    this.contacts.set(c.ContactID, c);
    return c;
  }

  countByNumber(invoiceNumber: string): number {
    let n = 0;
    for (const inv of this.invoices.values()) if (inv.InvoiceNumber === invoiceNumber && inv.Status !== 'DELETED') n++;
    return n;
  }
  countByReference(reference: string): number {
    let n = 0;
    for (const inv of this.invoices.values()) if (inv.Reference === reference && inv.Status !== 'DELETED') n++;
    return n;
  }
  /** InvoiceNumbers held by more than one live invoice. */
  duplicates(): string[] {
    const seen = new Map<string, number>();
    for (const inv of this.invoices.values()) {
      if (inv.Status === 'DELETED' || !inv.InvoiceNumber) continue;
      seen.set(inv.InvoiceNumber, (seen.get(inv.InvoiceNumber) ?? 0) + 1);
    }
    return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  }
  apiRequests(method?: string, pathRe?: RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.path.startsWith('/api.xro/') && (!method || r.method === method) && (!pathRe || pathRe.test(r.path)),
    );
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers, body, at: Date.now() };
    this.requests.push(rec);

    const canned = this.takeAnswer(rec);
    if (canned) return this.send(res, rec, canned.status, canned.body, canned.headers ?? {});
    const fault = this.takeFault(rec);
    if (fault === '503-before') return this.send(res, rec, 503, { Title: 'Service Unavailable' });

    let status = 200;
    let payload: unknown;
    let headers: Record<string, string> = {};
    let release: (() => void) | undefined;
    try {
      if (url.pathname.startsWith('/api.xro/2.0/')) {
        const tenantId = this.authorise(req);
        release = this.admit(tenantId, headers);
        if (this.opts.latencyMs > 0) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
        const out = this.api(rec, url.pathname.slice('/api.xro/2.0'.length), tenantId);
        status = out.status;
        payload = out.body;
      } else if (url.pathname === '/connect/token' && rec.method === 'POST') {
        this.stats.tokenCalls++;
        payload = this.token(req, body);
      } else if (url.pathname === '/identity/connect/authorize' && rec.method === 'GET') {
        return this.authorize(url, res, rec);
      } else if (url.pathname === '/connections' && rec.method === 'GET') {
        this.bearer(req);
        payload = this.opts.tenants.map((t) => ({
          id: randomUUID(),
          authEventId: randomUUID(),
          tenantId: t.tenantId,
          tenantType: 'ORGANISATION',
          tenantName: t.tenantName,
          createdDateUtc: new Date().toISOString(),
          updatedDateUtc: new Date().toISOString(),
        }));
      } else {
        throw new HttpError(404, { Title: 'Not Found' });
      }
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      status = err.status;
      payload = err.body;
      headers = { ...headers, ...err.headers };
    } finally {
      release?.();
    }
    if (fault === 'drop-after-commit') {
      this.stats.committedDrops++;
      rec.status = -1;
      res.socket?.destroy();
      return;
    }
    if (fault === '503-after-commit') return this.send(res, rec, 503, { Title: 'Service Unavailable' }, headers);
    this.send(res, rec, status, payload, headers);
  }

  private send(
    res: http.ServerResponse,
    rec: RecordedRequest,
    status: number,
    payload: unknown,
    headers: Record<string, string> = {},
  ): void {
    rec.status = status;
    rec.responseHeaders = headers;
    const text = payload === undefined ? '' : JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(text);
  }

  private takeFault(rec: RecordedRequest): Fault | undefined {
    const rule = this.faults.find(
      (f) => f.fault !== 'answer' && f.remaining > 0 && (!f.method || f.method === rec.method) && (!f.path || f.path.test(rec.path)),
    );
    if (!rule || rule.fault === 'answer') return undefined;
    rule.remaining--;
    return rule.fault;
  }

  private takeAnswer(rec: RecordedRequest): ReturnType<CannedAnswer> {
    for (const rule of this.faults) {
      if (
        rule.fault !== 'answer' ||
        rule.remaining <= 0 ||
        (rule.method && rule.method !== rec.method) ||
        (rule.path && !rule.path.test(rec.path))
      )
        continue;
      const out = rule.answer!(rec);
      if (!out) continue;
      rule.remaining--;
      return out;
    }
    return undefined;
  }

  // ---- auth ------------------------------------------------------------------------------

  private bearer(req: http.IncomingMessage): TokenRecord {
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const rec = this.tokens.get(token);
    if (!rec)
      throw new HttpError(
        401,
        { Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    if (rec.expiresAt <= Date.now()) {
      throw new HttpError(
        401,
        {
          Type: null,
          Title: 'Unauthorized',
          Status: 401,
          Detail: `TokenExpired: token expired at ${new Date(rec.expiresAt).toUTCString()}`,
        },
        { 'www-authenticate': 'Bearer error="invalid_token", error_description="The access token has expired"' },
      );
    }
    return rec;
  }

  private authorise(req: http.IncomingMessage): string {
    if (this.expireAfterCalls !== undefined && this.stats.apiCalls >= this.expireAfterCalls) {
      this.expireAfterCalls = undefined;
      this.expireAccessTokens();
    }
    this.bearer(req);
    const tenantId = String(req.headers['xero-tenant-id'] ?? '');
    if (!this.opts.tenants.some((t) => t.tenantId === tenantId)) {
      throw new HttpError(403, { Type: null, Title: 'Forbidden', Status: 403, Detail: 'AuthenticationUnsuccessful' });
    }
    return tenantId;
  }

  private newTokenSet(scope: string, withRefresh: boolean): Record<string, unknown> {
    const accessToken = `fake-at-${randomUUID()}`;
    this.tokens.set(accessToken, { accessToken, expiresAt: Date.now() + this.opts.accessTokenTtlSeconds * 1000 });
    const set: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: this.opts.accessTokenTtlSeconds,
      token_type: 'Bearer',
      scope,
    };
    if (withRefresh) {
      const rt = `fake-rt-${randomUUID()}`;
      this.refreshTokens.set(rt, { state: 'active', scope });
      set.refresh_token = rt;
    }
    return set;
  }

  private token(req: http.IncomingMessage, body: string): unknown {
    const basic = Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64');
    if (req.headers.authorization !== `Basic ${basic}`) throw new HttpError(400, { error: 'invalid_client' });
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') return this.newTokenSet(form.get('scope') ?? '', false);
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      if (!code) throw new HttpError(400, { error: 'invalid_grant' });
      this.codes.delete(form.get('code')!);
      if (code.redirectUri !== form.get('redirect_uri'))
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'redirect_uri mismatch' });
      if (code.challenge) {
        const verifier = form.get('code_verifier') ?? '';
        const computed = createHash('sha256').update(verifier).digest('base64url');
        if (computed !== code.challenge) throw new HttpError(400, { error: 'invalid_grant', error_description: 'code_verifier mismatch' });
      }
      return this.newTokenSet(code.scope, code.scope.split(' ').includes('offline_access'));
    }
    if (grant === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      const rec = this.refreshTokens.get(rt);
      if (!rec || rec.state === 'revoked') {
        this.stats.invalidGrants++;
        throw new HttpError(400, { error: 'invalid_grant' });
      }
      if (rec.state === 'rotated') {
        // Grace period: the previous refresh token may be retried if the response was lost.
        if (Date.now() - (rec.rotatedAt ?? 0) <= this.opts.refreshGraceMs && rec.replacement) return rec.replacement;
        this.stats.invalidGrants++;
        throw new HttpError(400, { error: 'invalid_grant' });
      }
      const set = this.newTokenSet(rec.scope, true);
      rec.state = 'rotated';
      rec.rotatedAt = Date.now();
      rec.replacement = set;
      return set;
    }
    throw new HttpError(400, { error: 'unsupported_grant_type' });
  }

  private authorize(url: URL, res: http.ServerResponse, rec: RecordedRequest): void {
    const p = url.searchParams;
    if (p.get('client_id') !== this.opts.clientId || p.get('response_type') !== 'code') {
      this.send(res, rec, 400, { error: 'invalid_request' });
      return;
    }
    const code = `fake-code-${randomUUID()}`;
    this.codes.set(code, {
      challenge: p.get('code_challenge') ?? undefined,
      method: p.get('code_challenge_method') ?? undefined,
      redirectUri: p.get('redirect_uri') ?? '',
      scope: p.get('scope') ?? '',
    });
    const target = new URL(p.get('redirect_uri') ?? '');
    target.searchParams.set('code', code);
    if (p.get('state') !== null) target.searchParams.set('state', p.get('state')!);
    rec.status = 302;
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  // ---- limits ----------------------------------------------------------------------------

  /** Per-organisation limits; windows start at the first call after the previous one ended. */
  private admit(tenantId: string, headers: Record<string, string>): () => void {
    const now = Date.now();
    const { concurrent, callsPerWindow, windowMs, callsPerDay, dayMs } = this.opts.limits;
    const tick = (m: Map<string, OrgWindow>, span: number) => {
      let w = m.get(tenantId);
      if (!w || now - w.start >= span) {
        w = { start: now, count: 0 };
        m.set(tenantId, w);
      }
      return w;
    };
    const min = tick(this.minute, windowMs);
    const day = tick(this.day, dayMs);
    const remainingHeaders = () => ({
      'X-MinLimit-Remaining': String(Math.max(0, callsPerWindow - min.count)),
      'X-DayLimit-Remaining': String(Math.max(0, callsPerDay - day.count)),
      'X-AppMinLimit-Remaining': '9999',
    });
    if (day.count >= callsPerDay) {
      this.stats.rejected429.day++;
      throw new HttpError(429, undefined, {
        ...remainingHeaders(),
        'X-Rate-Limit-Problem': 'day',
        'Retry-After': String(Math.ceil((day.start + dayMs - now) / 1000)),
      });
    }
    if (min.count >= callsPerWindow) {
      this.stats.rejected429.minute++;
      throw new HttpError(429, undefined, {
        ...remainingHeaders(),
        'X-Rate-Limit-Problem': 'minute',
        'Retry-After': String(Math.max(1, Math.ceil((min.start + windowMs - now) / 1000))),
      });
    }
    const busy = this.inflight.get(tenantId) ?? 0;
    if (busy >= concurrent) {
      this.stats.rejected429.concurrent++;
      throw new HttpError(429, undefined, { ...remainingHeaders(), 'X-Rate-Limit-Problem': 'concurrent' });
    }
    min.count++;
    day.count++;
    this.stats.apiCalls++;
    this.inflight.set(tenantId, busy + 1);
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, busy + 1);
    Object.assign(headers, remainingHeaders());
    return () => this.inflight.set(tenantId, (this.inflight.get(tenantId) ?? 1) - 1);
  }

  // ---- accounting API --------------------------------------------------------------------

  private api(rec: RecordedRequest, path: string, tenantId: string): { status: number; body: unknown } {
    const m = rec.method;
    if (path === '/Invoices' && (m === 'PUT' || m === 'POST'))
      return this.idempotent(rec, tenantId, () => this.writeInvoices(rec, m === 'POST'));
    if (path === '/Invoices' && m === 'GET') return { status: 200, body: { Invoices: this.findInvoices(rec.query) } };
    const one = /^\/Invoices\/([^/]+)$/.exec(path);
    if (one && m === 'GET') {
      const inv = this.invoices.get(decodeURIComponent(one[1]!));
      if (!inv) throw new HttpError(404, { Title: 'Not Found' });
      return { status: 200, body: { Invoices: [inv] } };
    }
    if (one && m === 'POST') {
      return this.idempotent(rec, tenantId, () => {
        const payload = parseBody(rec.body) as { Invoices?: Record<string, unknown>[] };
        const el = { ...(payload.Invoices?.[0] ?? {}), InvoiceID: decodeURIComponent(one[1]!) };
        const unitdp = rec.query.unitdp === '4' ? 4 : 2;
        const result = this.upsertInvoice(el, unitdp, true);
        if (result.HasErrors) {
          throw new HttpError(400, {
            ErrorNumber: 10,
            Type: 'ValidationException',
            Message: 'A validation exception occurred',
            Elements: [result],
          });
        }
        return { status: 200, body: { Invoices: [result] } };
      });
    }
    // Credit notes (XeroAPI/Xero-OpenAPI xero_accounting.yaml; developer.xero.com/documentation/api/accounting/creditnotes).
    // operationId createCreditNotes (PUT /CreditNotes) and updateOrCreateCreditNotes (POST /CreditNotes).
    if (path === '/CreditNotes' && (m === 'PUT' || m === 'POST'))
      return this.idempotent(rec, tenantId, () => this.writeCreditNotes(rec, m === 'POST'));
    // operationId getCreditNotes (GET /CreditNotes: where, order, page, unitdp, pageSize — no IDs filter).
    if (path === '/CreditNotes' && m === 'GET') return { status: 200, body: { CreditNotes: this.findCreditNotes(rec.query) } };
    const cnAlloc = /^\/CreditNotes\/([^/]+)\/Allocations$/.exec(path);
    // operationId createCreditNoteAllocation (PUT /CreditNotes/{CreditNoteID}/Allocations).
    if (cnAlloc && m === 'PUT') return this.idempotent(rec, tenantId, () => this.allocateCreditNote(rec, decodeURIComponent(cnAlloc[1]!)));
    const cn = /^\/CreditNotes\/([^/]+)$/.exec(path);
    // operationId getCreditNote (GET /CreditNotes/{CreditNoteID}).
    if (cn && m === 'GET') {
      const note = this.creditNotes.get(decodeURIComponent(cn[1]!));
      if (!note) throw new HttpError(404, { Title: 'Not Found' });
      return { status: 200, body: { CreditNotes: [note] } };
    }
    // operationId updateCreditNote (POST /CreditNotes/{CreditNoteID}).
    if (cn && m === 'POST') {
      return this.idempotent(rec, tenantId, () => {
        const payload = parseBody(rec.body) as { CreditNotes?: Record<string, unknown>[] };
        const el = { ...(payload.CreditNotes?.[0] ?? {}), CreditNoteID: decodeURIComponent(cn[1]!) };
        const result = this.upsertCreditNote(el, rec.query.unitdp === '4' ? 4 : 2, true);
        if (result.HasErrors)
          throw new HttpError(400, {
            ErrorNumber: 10,
            Type: 'ValidationException',
            Message: 'A validation exception occurred',
            Elements: [result],
          });
        return { status: 200, body: { CreditNotes: [result] } };
      });
    }
    if (path === '/Contacts' && m === 'GET') return { status: 200, body: { Contacts: this.findContacts(rec.query) } };
    const contact = /^\/Contacts\/([^/]+)$/.exec(path);
    if (contact && m === 'GET') {
      const key = decodeURIComponent(contact[1]!);
      const c = this.contacts.get(key) ?? [...this.contacts.values()].find((x) => x.ContactNumber === key);
      if (!c) throw new HttpError(404, { Title: 'Not Found' });
      return { status: 200, body: { Contacts: [c] } };
    }
    if (path === '/Contacts' && m === 'PUT') return this.idempotent(rec, tenantId, () => this.createContacts(rec));
    throw new HttpError(404, { Title: 'Not Found' });
  }

  /** Idempotency-Key: replay the stored answer within the window; a different body is a 400. */
  private idempotent(
    rec: RecordedRequest,
    tenantId: string,
    run: () => { status: number; body: unknown },
  ): { status: number; body: unknown } {
    const key = rec.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return run();
    if (key.length > 128)
      throw new HttpError(400, { ErrorNumber: 10, Type: 'ValidationException', Message: 'Idempotency-Key must be at most 128 characters' });
    const now = Date.now();
    const bodyHash = createHash('sha256')
      .update(`${rec.method} ${rec.path} ${JSON.stringify(rec.query)} ${rec.body}`)
      .digest('hex');
    const id = `${tenantId}:${key}`;
    const seen = this.idempotency.get(id);
    if (seen && seen.expiresAt > now) {
      if (seen.bodyHash !== bodyHash) {
        throw new HttpError(400, {
          ErrorNumber: 10,
          Type: 'ValidationException',
          Message: 'The Idempotency-Key has already been used with a different request',
        });
      }
      return { status: seen.status, body: seen.body };
    }
    let out: { status: number; body: unknown };
    try {
      out = run();
    } catch (err) {
      if (err instanceof HttpError && err.status === 400) {
        this.idempotency.set(id, { bodyHash, status: 400, body: err.body, expiresAt: now + this.opts.idempotencyWindowMs });
      }
      throw err;
    }
    this.idempotency.set(id, { bodyHash, status: out.status, body: out.body, expiresAt: now + this.opts.idempotencyWindowMs });
    return out;
  }

  private writeInvoices(rec: RecordedRequest, allowUpdate: boolean): { status: number; body: unknown } {
    const payload = parseBody(rec.body) as { Invoices?: Record<string, unknown>[] };
    if (!payload || !Array.isArray(payload.Invoices)) {
      throw new HttpError(400, { ErrorNumber: 14, Type: 'PostDataInvalidException', Message: 'The request body must contain Invoices' });
    }
    const unitdp = rec.query.unitdp === '4' ? 4 : 2;
    const summarize = rec.query.summarizeErrors !== 'false';
    const results = payload.Invoices.map((el) => this.upsertInvoice(el, unitdp, allowUpdate));
    if (summarize && results.some((r) => r.HasErrors)) {
      // Documented behaviour without summarizeErrors=false: one 400 for the batch, while the
      // valid elements may still have been created.
      throw new HttpError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: results.filter((r) => r.HasErrors),
      });
    }
    return { status: 200, body: { Id: randomUUID(), Status: 'OK', DateTimeUTC: msDate(Date.now()), Invoices: results } };
  }

  private upsertInvoice(el: Record<string, unknown>, unitdp: number, allowUpdate: boolean): Record<string, unknown> {
    const errors: string[] = [];
    const existingId = typeof el.InvoiceID === 'string' ? el.InvoiceID : undefined;
    const existing = existingId ? this.invoices.get(existingId) : undefined;
    if (existingId && !allowUpdate) errors.push('InvoiceID cannot be specified when creating an invoice');
    if (existingId && !existing) errors.push(`Invoice with ID ${existingId} could not be found`);
    if (existing && !['DRAFT', 'SUBMITTED'].includes(existing.Status)) {
      errors.push(`Invoice not of valid status for modification. This document cannot be edited as it is ${existing.Status}.`);
    }
    const type = (el.Type as string | undefined) ?? existing?.Type;
    if (type !== 'ACCREC' && type !== 'ACCPAY') errors.push('Invoice Type must be specified (ACCREC or ACCPAY)');
    const status = (el.Status as string | undefined) ?? existing?.Status ?? 'DRAFT';
    if (!['DRAFT', 'SUBMITTED', 'AUTHORISED', 'DELETED'].includes(status)) errors.push(`Status ${status} is not valid here`);

    const contact = this.resolveContact(
      (el.Contact as Record<string, unknown> | undefined) ?? (existing ? (existing.Contact as Record<string, unknown>) : undefined),
      errors,
    );
    const lineAmountTypes = (el.LineAmountTypes as string | undefined) ?? existing?.LineAmountTypes ?? 'Exclusive';
    if (!['Exclusive', 'Inclusive', 'NoTax'].includes(lineAmountTypes)) errors.push(`LineAmountTypes ${lineAmountTypes} is not valid`);
    const rawLines = (el.LineItems as XeroLineJson[] | undefined) ?? existing?.LineItems;
    if (!Array.isArray(rawLines) || rawLines.length === 0) errors.push('Invoices must have at least one line item');
    for (const k of ['Date', 'DueDate'] as const) {
      const v = el[k];
      if (v !== undefined && (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v))) errors.push(`${k} must be a date as YYYY-MM-DD`);
    }
    const invoiceNumber = (el.InvoiceNumber as string | undefined) ?? existing?.InvoiceNumber;
    if (invoiceNumber && invoiceNumber.length > 255) errors.push('Invoice Number must be 255 characters or less');
    if (invoiceNumber && type === 'ACCREC') {
      const clash = [...this.invoices.values()].find(
        (i) => i.InvoiceNumber === invoiceNumber && i.InvoiceID !== existingId && i.Status !== 'DELETED' && i.Status !== 'VOIDED',
      );
      if (clash) errors.push('Invoice # must be unique.');
    }

    const { lines, subTotal, totalTax } = this.priceLines(rawLines, existing?.LineItems, unitdp, lineAmountTypes, errors);

    if (errors.length > 0) {
      return {
        ...el,
        HasErrors: true,
        StatusAttributeString: 'ERROR',
        ValidationErrors: errors.map((Message) => ({ Message })),
      };
    }

    const id = existing?.InvoiceID ?? randomUUID();
    this.invoiceSeq++;
    const stored: XeroInvoiceJson = {
      ...(existing ?? {}),
      InvoiceID: id,
      Type: type!,
      Status: status,
      InvoiceNumber: invoiceNumber ?? `INV-${String(this.invoiceSeq).padStart(4, '0')}`,
      Reference: (el.Reference as string | undefined) ?? existing?.Reference,
      Contact: { ContactID: contact!.ContactID, Name: contact!.Name },
      Date: (el.Date as string | undefined) ?? existing?.Date ?? new Date().toISOString().slice(0, 10),
      DueDate: (el.DueDate as string | undefined) ?? existing?.DueDate,
      LineAmountTypes: lineAmountTypes,
      CurrencyCode: (el.CurrencyCode as string | undefined) ?? existing?.CurrencyCode,
      BrandingThemeID: (el.BrandingThemeID as string | undefined) ?? existing?.BrandingThemeID,
      LineItems: lines,
      SubTotal: subTotal.toNumber(),
      TotalTax: totalTax.toNumber(),
      Total: subTotal.plus(totalTax).toNumber(),
      // Credit allocated to it (credit note allocations) and what is still owed.
      AmountCredited: existing?.AmountCredited ?? 0,
      AmountDue: subTotal
        .plus(totalTax)
        .minus(Number(existing?.AmountCredited ?? 0))
        .toNumber(),
      UpdatedDateUTC: msDate(Date.now()),
    };
    this.invoices.set(id, stored);
    return { ...stored, HasErrors: false, StatusAttributeString: 'OK' };
  }

  /** Contact by ContactID, ContactNumber, or Name (created when new, as Xero does for a bare Name). */
  private resolveContact(c: Record<string, unknown> | undefined, errors: string[]): ContactJson | undefined {
    let contact: ContactJson | undefined;
    if (!c) errors.push('A Contact must be specified for this type of transaction');
    else if (typeof c.ContactID === 'string') {
      contact = this.contacts.get(c.ContactID);
      if (!contact) errors.push(`Contact with ID ${c.ContactID} could not be found`);
    } else if (typeof c.ContactNumber === 'string') {
      contact = [...this.contacts.values()].find((x) => x.ContactNumber === c.ContactNumber);
      if (!contact) errors.push(`Contact with number ${c.ContactNumber} could not be found`);
    } else if (typeof c.Name === 'string' && c.Name !== '') {
      contact = [...this.contacts.values()].find((x) => x.Name === c.Name) ?? this.addContact(c.Name as string);
    } else errors.push('A Contact must be specified for this type of transaction');

    return contact;
  }

  /** Lines priced like Xero: LineAmount = Q × U (unit price at unitdp) rounded to 2 dp; tax per line rounded, then summed. */
  private priceLines(
    rawLines: XeroLineJson[] | undefined,
    existingLines: XeroLineJson[] | undefined,
    unitdp: number,
    lineAmountTypes: string,
    errors: string[],
  ): { lines: XeroLineJson[]; subTotal: Decimal; totalTax: Decimal } {
    const lines: XeroLineJson[] = [];
    let subTotal = new D(0);
    let totalTax = new D(0);
    const oldLineIds = new Set((existingLines ?? []).map((l) => l.LineItemID));
    for (const [i, l] of (rawLines ?? []).entries()) {
      const where = `Line ${i + 1}`;
      if (typeof l.Description !== 'string' || l.Description.length < 1)
        errors.push(`${where}: Description needs to be at least 1 char long`);
      if (typeof l.Quantity !== 'number' || typeof l.UnitAmount !== 'number') {
        errors.push(`${where}: Quantity and UnitAmount are required`);
        continue;
      }
      const q = new D(l.Quantity);
      const u = new D(l.UnitAmount).toDecimalPlaces(Math.min(unitdp, this.opts.maxUnitdp ?? 4), Decimal.ROUND_HALF_UP);
      if (q.decimalPlaces() > 4) errors.push(`${where}: Quantity cannot have more than 4 decimal places`);
      const amount = r2(q.times(u));
      if (l.LineAmount !== undefined && !new D(l.LineAmount).equals(amount)) {
        errors.push(`The line total ${new D(l.LineAmount).toFixed(2)} does not match the expected line total ${amount.toFixed(2)}`);
      }
      if (Array.isArray(l.Tracking) && l.Tracking.length > 2) errors.push(`${where}: a line item can have at most 2 tracking categories`);
      const taxType = l.TaxType ?? this.opts.defaultTaxType;
      const rateText = this.opts.taxRates[taxType];
      if (rateText === undefined) {
        errors.push(`The TaxType code '${taxType}' does not exist or cannot be used for this type of transaction.`);
        continue;
      }
      const rate = new D(rateText);
      // Tax per line, rounded to 2 dp, then summed (developer.xero.com/documentation/api-guides/rounding-in-xero).
      let tax: Decimal;
      let net: Decimal;
      if (lineAmountTypes === 'NoTax') {
        tax = new D(0);
        net = amount;
      } else if (lineAmountTypes === 'Inclusive') {
        tax = r2(amount.times(rate).dividedBy(rate.plus(1)));
        net = amount.minus(tax);
      } else {
        tax = r2(amount.times(rate));
        net = amount;
      }
      subTotal = subTotal.plus(net);
      totalTax = totalTax.plus(tax);
      const keepId = typeof l.LineItemID === 'string' && oldLineIds.has(l.LineItemID) ? l.LineItemID : randomUUID();
      lines.push({
        ...l,
        LineItemID: keepId,
        UnitAmount: u.toNumber(),
        TaxType: taxType,
        TaxAmount: tax.toNumber(),
        LineAmount: amount.toNumber(),
      });
    }

    return { lines, subTotal, totalTax };
  }

  private writeCreditNotes(rec: RecordedRequest, allowUpdate: boolean): { status: number; body: unknown } {
    const payload = parseBody(rec.body) as { CreditNotes?: Record<string, unknown>[] };
    if (!payload || !Array.isArray(payload.CreditNotes)) {
      throw new HttpError(400, { ErrorNumber: 14, Type: 'PostDataInvalidException', Message: 'The request body must contain CreditNotes' });
    }
    const unitdp = rec.query.unitdp === '4' ? 4 : 2;
    const results = payload.CreditNotes.map((el) => this.upsertCreditNote(el, unitdp, allowUpdate));
    if (rec.query.summarizeErrors !== 'false' && results.some((r) => r.HasErrors)) {
      throw new HttpError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: results.filter((r) => r.HasErrors),
      });
    }
    return { status: 200, body: { Id: randomUUID(), Status: 'OK', DateTimeUTC: msDate(Date.now()), CreditNotes: results } };
  }

  /** Like upsertInvoice, for the CreditNote schema (CreditNoteID, CreditNoteNumber, Type ACCRECCREDIT/ACCPAYCREDIT, RemainingCredit). */
  private upsertCreditNote(el: Record<string, unknown>, unitdp: number, allowUpdate: boolean): Record<string, unknown> {
    const errors: string[] = [];
    const existingId = typeof el.CreditNoteID === 'string' ? el.CreditNoteID : undefined;
    const existing = existingId ? this.creditNotes.get(existingId) : undefined;
    if (existingId && !allowUpdate) errors.push('CreditNoteID cannot be specified when creating a credit note');
    if (existingId && !existing) errors.push(`Credit note with ID ${existingId} could not be found`);
    if (existing && !['DRAFT', 'SUBMITTED'].includes(existing.Status)) {
      errors.push(`Credit note not of valid status for modification. This document cannot be edited as it is ${existing.Status}.`);
    }
    const type = (el.Type as string | undefined) ?? existing?.Type;
    if (type !== 'ACCRECCREDIT' && type !== 'ACCPAYCREDIT')
      errors.push('Credit note Type must be specified (ACCRECCREDIT or ACCPAYCREDIT)');
    const status = (el.Status as string | undefined) ?? existing?.Status ?? 'DRAFT';
    if (!['DRAFT', 'SUBMITTED', 'AUTHORISED', 'DELETED'].includes(status)) errors.push(`Status ${status} is not valid here`);
    const deleting = status === 'DELETED' && existing !== undefined;
    const contact = this.resolveContact(
      (el.Contact as Record<string, unknown> | undefined) ?? (existing ? (existing.Contact as Record<string, unknown>) : undefined),
      errors,
    );
    const lineAmountTypes = (el.LineAmountTypes as string | undefined) ?? existing?.LineAmountTypes ?? 'Exclusive';
    const rawLines = (el.LineItems as XeroLineJson[] | undefined) ?? existing?.LineItems;
    if (!deleting && (!Array.isArray(rawLines) || rawLines.length === 0)) errors.push('Credit notes must have at least one line item');
    const number = (el.CreditNoteNumber as string | undefined) ?? existing?.CreditNoteNumber;
    if (number && type === 'ACCRECCREDIT') {
      const clash = [...this.creditNotes.values()].find(
        (c) => c.CreditNoteNumber === number && c.CreditNoteID !== existingId && c.Status !== 'DELETED' && c.Status !== 'VOIDED',
      );
      if (clash) errors.push('Credit Note # must be unique.');
    }
    const { lines, subTotal, totalTax } = this.priceLines(rawLines, existing?.LineItems, unitdp, lineAmountTypes, errors);
    const total = subTotal.plus(totalTax);
    if (!deleting && total.isNegative()) errors.push('The credit note total cannot be negative');
    if (errors.length > 0)
      return { ...el, HasErrors: true, StatusAttributeString: 'ERROR', ValidationErrors: errors.map((Message) => ({ Message })) };

    const id = existing?.CreditNoteID ?? randomUUID();
    this.invoiceSeq++;
    const stored: XeroCreditNoteJson = {
      ...(existing ?? {}),
      CreditNoteID: id,
      Type: type!,
      Status: status,
      CreditNoteNumber: number ?? `CN-${String(this.invoiceSeq).padStart(4, '0')}`,
      Reference: (el.Reference as string | undefined) ?? existing?.Reference,
      Contact: { ContactID: contact!.ContactID, Name: contact!.Name },
      Date: (el.Date as string | undefined) ?? existing?.Date ?? new Date().toISOString().slice(0, 10),
      LineAmountTypes: lineAmountTypes,
      CurrencyCode: (el.CurrencyCode as string | undefined) ?? existing?.CurrencyCode,
      BrandingThemeID: (el.BrandingThemeID as string | undefined) ?? existing?.BrandingThemeID,
      LineItems: lines,
      SubTotal: subTotal.toNumber(),
      TotalTax: totalTax.toNumber(),
      Total: total.toNumber(),
      RemainingCredit: total.toNumber(),
      Allocations: [],
      UpdatedDateUTC: msDate(Date.now()),
    };
    this.creditNotes.set(id, stored);
    return { ...stored, HasErrors: false, StatusAttributeString: 'OK' };
  }

  private findCreditNotes(q: Record<string, string>): XeroCreditNoteJson[] {
    let list = [...this.creditNotes.values()];
    if (q.where) {
      for (const clause of q.where.split(/\s+(?:AND|&&)\s+/i)) {
        const m = /^\s*(\w+)\s*==\s*"([^"]*)"\s*$/.exec(clause);
        if (!m) throw new HttpError(400, { ErrorNumber: 16, Type: 'QueryParseException', Message: `cannot parse where clause: ${clause}` });
        list = list.filter((c) => String(c[m[1]!] ?? '') === m[2]);
      }
    }
    if (q.page) {
      const page = Number(q.page);
      const size = Number(q.pageSize ?? 100);
      list = list.slice((page - 1) * size, page * size);
    }
    return list;
  }

  /**
   * PUT /CreditNotes/{id}/Allocations: only an AUTHORISED credit note, onto an AUTHORISED invoice
   * of the same contact and currency, for at most its RemainingCredit and the invoice's AmountDue.
   */
  private allocateCreditNote(rec: RecordedRequest, creditNoteId: string): { status: number; body: unknown } {
    const note = this.creditNotes.get(creditNoteId);
    if (!note) throw new HttpError(404, { Title: 'Not Found' });
    const payload = parseBody(rec.body) as { Allocations?: { Invoice?: { InvoiceID?: string }; Amount?: number; Date?: string }[] };
    const out: Record<string, unknown>[] = [];
    for (const a of payload.Allocations ?? []) {
      const errors: string[] = [];
      const inv = this.invoices.get(a.Invoice?.InvoiceID ?? '');
      const amount = new D(a.Amount ?? 0);
      if (note.Status !== 'AUTHORISED') errors.push('Credit note must be AUTHORISED before it can be allocated');
      if (!inv) errors.push(`Invoice ${a.Invoice?.InvoiceID ?? ''} could not be found`);
      else {
        if (inv.Status !== 'AUTHORISED')
          errors.push(`Invoice ${inv.InvoiceNumber ?? inv.InvoiceID} is ${inv.Status}; only AUTHORISED invoices can be allocated to`);
        if (inv.Contact.ContactID !== note.Contact.ContactID)
          errors.push('The credit note and the invoice must belong to the same contact');
        if ((inv.CurrencyCode ?? '') !== (note.CurrencyCode ?? ''))
          errors.push('The credit note and the invoice must be in the same currency');
        if (amount.greaterThan(Number(inv.AmountDue ?? 0)))
          errors.push(`Amount ${amount.toFixed(2)} is more than the invoice's amount due ${new D(Number(inv.AmountDue ?? 0)).toFixed(2)}`);
      }
      if (!amount.isPositive() || amount.isZero()) errors.push('Amount must be greater than zero');
      if (amount.greaterThan(note.RemainingCredit))
        errors.push(`Amount ${amount.toFixed(2)} is more than the remaining credit ${new D(note.RemainingCredit).toFixed(2)}`);
      if (errors.length > 0) {
        out.push({ ...a, StatusAttributeString: 'ERROR', ValidationErrors: errors.map((Message) => ({ Message })) });
        continue;
      }
      const alloc = {
        AllocationID: randomUUID(),
        Amount: amount.toNumber(),
        Date: a.Date ?? new Date().toISOString().slice(0, 10),
        Invoice: { InvoiceID: inv!.InvoiceID, InvoiceNumber: inv!.InvoiceNumber },
      };
      note.Allocations.push(alloc);
      note.RemainingCredit = new D(note.RemainingCredit).minus(amount).toNumber();
      if (note.RemainingCredit === 0) note.Status = 'PAID';
      inv!.AmountCredited = new D(Number(inv!.AmountCredited ?? 0)).plus(amount).toNumber();
      inv!.AmountDue = new D(inv!.Total).minus(Number(inv!.AmountCredited)).toNumber();
      if (inv!.AmountDue === 0) inv!.Status = 'PAID';
      note.UpdatedDateUTC = inv!.UpdatedDateUTC = msDate(Date.now());
      out.push({ ...alloc, CreditNote: { CreditNoteID: note.CreditNoteID }, ValidationErrors: [] });
    }
    const failed = out.filter((o) => Array.isArray(o.ValidationErrors) && (o.ValidationErrors as unknown[]).length > 0);
    if (failed.length > 0 && rec.query.summarizeErrors !== 'false') {
      throw new HttpError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: failed,
      });
    }
    return { status: 200, body: { Id: randomUUID(), Status: 'OK', DateTimeUTC: msDate(Date.now()), Allocations: out } };
  }

  private findInvoices(q: Record<string, string>): XeroInvoiceJson[] {
    let list = [...this.invoices.values()];
    if (q.IDs) {
      const ids = new Set(q.IDs.split(','));
      list = list.filter((i) => ids.has(i.InvoiceID));
    }
    if (q.InvoiceNumbers) {
      const nums = new Set(q.InvoiceNumbers.split(','));
      list = list.filter((i) => i.InvoiceNumber !== undefined && nums.has(i.InvoiceNumber));
    }
    if (q.Statuses) {
      const st = new Set(q.Statuses.split(','));
      list = list.filter((i) => st.has(i.Status));
    }
    if (q.where) {
      const clauses = q.where.split(/\s+(?:AND|&&)\s+/i);
      for (const clause of clauses) {
        const m = /^\s*(\w+)\s*==\s*"([^"]*)"\s*$/.exec(clause);
        if (!m) throw new HttpError(400, { ErrorNumber: 16, Type: 'QueryParseException', Message: `cannot parse where clause: ${clause}` });
        const [, field, value] = m;
        list = list.filter((i) => String(i[field!] ?? '') === value);
      }
    }
    if (q.page) {
      const page = Number(q.page);
      const size = Number(q.pageSize ?? 100);
      list = list.slice((page - 1) * size, page * size);
    }
    return list;
  }

  private findContacts(q: Record<string, string>): ContactJson[] {
    let list = [...this.contacts.values()];
    if (q.where) {
      const m = /^\s*(\w+)\s*==\s*"([^"]*)"\s*$/.exec(q.where);
      if (!m) throw new HttpError(400, { ErrorNumber: 16, Type: 'QueryParseException', Message: `cannot parse where clause: ${q.where}` });
      list = list.filter((c) => String((c as unknown as Record<string, unknown>)[m[1]!] ?? '') === m[2]);
    }
    if (q.searchTerm) {
      const t = q.searchTerm.toLowerCase();
      list = list.filter((c) => c.Name.toLowerCase().includes(t) || (c.ContactNumber ?? '').toLowerCase().includes(t));
    }
    return list;
  }

  private createContacts(rec: RecordedRequest): { status: number; body: unknown } {
    const payload = parseBody(rec.body) as { Contacts?: Record<string, unknown>[] };
    const out = (payload.Contacts ?? []).map((el) => {
      const name = typeof el.Name === 'string' ? el.Name : '';
      if (!name) return { ...el, HasValidationErrors: true, ValidationErrors: [{ Message: 'The contact name must be specified' }] };
      if ([...this.contacts.values()].some((c) => c.Name === name)) {
        return {
          ...el,
          HasValidationErrors: true,
          ValidationErrors: [
            {
              Message: `The contact name ${name} is already assigned to another contact. The contact name must be unique across all active contacts.`,
            },
          ],
        };
      }
      return this.addContact(name, typeof el.ContactNumber === 'string' ? el.ContactNumber : undefined);
    });
    const failed = out.filter((c) => 'ValidationErrors' in c);
    if (failed.length > 0 && rec.query.summarizeErrors !== 'false') {
      throw new HttpError(400, {
        ErrorNumber: 10,
        Type: 'ValidationException',
        Message: 'A validation exception occurred',
        Elements: failed,
      });
    }
    return { status: 200, body: { Contacts: out } };
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, { ErrorNumber: 14, Type: 'PostDataInvalidException', Message: 'Invalid JSON' });
  }
}

function msDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}

export async function startFakeXero(options: FakeXeroOptions = {}): Promise<FakeXero> {
  return new FakeXero(options).start();
}
