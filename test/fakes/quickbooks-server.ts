import type http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import Decimal from 'decimal.js';
import { listen, sendJson } from './fake-http';

/**
 * A local QuickBooks Online (Accounting API v3, JSON) built from Intuit's documented payloads:
 * - OAuth 2.0 (developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0):
 *   authorize redirect with code, state and realmId; token endpoint with HTTP Basic client auth;
 *   rotating refresh tokens (the previous one honoured for `refreshGraceMs`, 0 = never), PKCE S256.
 * - Estimate / CreditMemo / Customer / CompanyInfo entities, `query`, full update with SyncToken
 *   (a stale one: ValidationFault 5010), `?operation=delete`, DocNumber ≤ 21 characters and
 *   unique per type (6140), Amount = UnitPrice × Qty checked, tax per line by TaxCodeRef.
 * - `requestid`: a request seen before gets the first answer again, nothing is done twice.
 * - Limits (developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles):
 *   more than `concurrent` requests in flight or `perMinute` in a window → 429 ThrottleExceeded (003001).
 * - 401 AuthenticationFailed (3200) for an unknown or expired access token.
 */

export interface FakeQboOptions {
  clientId?: string;
  clientSecret?: string;
  realmId?: string;
  refreshGraceMs?: number;
  accessTtlS?: number;
  perMinute?: number;
  windowMs?: number;
  concurrent?: number;
  latencyMs?: number;
  /** Tax rate by TaxCode Id (decimal fraction). */
  taxRates?: Record<string, string>;
}

export interface FakeTxn {
  Id: string;
  SyncToken: string;
  DocNumber?: string;
  TxnDate?: string;
  CustomerRef?: { value: string };
  CurrencyRef?: { value: string };
  PrivateNote?: string;
  TxnStatus?: string;
  EmailStatus?: string;
  GlobalTaxCalculation?: string;
  Line: Record<string, unknown>[];
  TotalAmt: number;
  TxnTaxDetail?: { TotalTax: number };
  Balance?: number;
  [k: string]: unknown;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  status: number;
}

type Entity = 'Estimate' | 'CreditMemo';
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
interface Injection {
  kind: 'drop-after-commit' | '503-before' | '429-before' | 'answer';
  method?: string;
  path?: RegExp;
  times: number;
  answer?: (rec: FakeRequest) => Answer | undefined;
}

const ENTITY_PATH: Record<string, Entity> = { estimate: 'Estimate', creditmemo: 'CreditMemo' };
const fault = (type: string, code: string, message: string, detail?: string, element?: string) => ({
  Fault: { Error: [{ Message: message, Detail: detail ?? message, code, ...(element ? { element } : {}) }], type },
  time: new Date().toISOString(),
});

export async function startFakeQuickBooks(options: FakeQboOptions = {}) {
  const opts = {
    clientId: options.clientId ?? 'test-client-id',
    clientSecret: options.clientSecret ?? 'fake-secret',
    realmId: options.realmId ?? '9130350000000001',
    refreshGraceMs: options.refreshGraceMs ?? 0,
    accessTtlS: options.accessTtlS ?? 3600,
    perMinute: options.perMinute ?? 500,
    windowMs: options.windowMs ?? 60_000,
    concurrent: options.concurrent ?? 10,
    latencyMs: options.latencyMs ?? 0,
    taxRates: options.taxRates ?? { TAX: '0.2', NON: '0' },
  };
  const realms = new Set<string>([opts.realmId]);
  const docs = { Estimate: new Map<string, FakeTxn>(), CreditMemo: new Map<string, FakeTxn>() };
  const customers = new Map<string, { Id: string; DisplayName: string; realm: string }>();
  const txnRealm = new Map<string, string>();
  const access = new Map<string, number>(); // token → expires at (ms)
  const refresh = new Map<string, { validUntil: number; realm: string }>();
  const codes = new Map<string, { challenge: string; redirect: string; realm: string }>();
  const replies = new Map<string, Answer>();
  const requests: FakeRequest[] = [];
  const injections: Injection[] = [];
  const stats = { tokenCalls: 0, refreshes: 0, invalidGrants: 0, throttled: 0, maxInFlight: 0, writes: 0 };
  let nextId = 100;
  let inFlight = 0;
  let windowStart = Date.now();
  let windowCount = 0;
  let expireAfter: number | undefined;

  const issue = (realm: string) => {
    const at = `fake-at-${randomBytes(12).toString('hex')}`;
    const rt = `fake-rt-${randomBytes(12).toString('hex')}`;
    access.set(at, Date.now() + opts.accessTtlS * 1000);
    refresh.set(rt, { validUntil: Number.POSITIVE_INFINITY, realm });
    return {
      token_type: 'bearer',
      access_token: at,
      refresh_token: rt,
      expires_in: opts.accessTtlS,
      x_refresh_token_expires_in: 8_726_400,
    };
  };

  const take = (method: string, path: string, kinds: Injection['kind'][]) => {
    const i = injections.findIndex(
      (x) => kinds.includes(x.kind) && (!x.method || x.method === method) && (!x.path || x.path.test(path)) && x.times > 0,
    );
    if (i < 0) return undefined;
    const inj = injections[i] as Injection;
    return inj;
  };
  const consume = (inj: Injection) => {
    inj.times--;
    if (inj.times <= 0) injections.splice(injections.indexOf(inj), 1);
  };

  function money(v: Decimal.Value) {
    return new Decimal(v).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  }

  function compute(entity: Entity, body: Record<string, unknown>): { txn?: Omit<FakeTxn, 'Id' | 'SyncToken'>; error?: unknown } {
    const lines = (body.Line as Record<string, unknown>[] | undefined) ?? [];
    if (lines.length === 0)
      return {
        error: fault('ValidationFault', '6000', 'A business validation error has occurred', 'At least one line is required', 'Line'),
      };
    if (!(body.CustomerRef as { value?: string } | undefined)?.value)
      return {
        error: fault(
          'ValidationFault',
          '2020',
          'Required param missing, need to supply the required value for the API',
          'CustomerRef',
          'CustomerRef',
        ),
      };
    const doc = body.DocNumber as string | undefined;
    if (doc !== undefined && doc.length > 21)
      return {
        error: fault(
          'ValidationFault',
          '6000',
          'A business validation error has occurred',
          `String length is either shorter or longer than supported by specification. Min:0 Max:21 supported. Supplied length:${doc.length}`,
          'DocNumber',
        ),
      };
    let net = new Decimal(0);
    let tax = new Decimal(0);
    const stored: Record<string, unknown>[] = [];
    for (const [i, l] of lines.entries()) {
      const d = l.SalesItemLineDetail as
        | { Qty?: number; UnitPrice?: number; TaxCodeRef?: { value: string }; ItemRef?: { value: string } }
        | undefined;
      if (l.DetailType !== 'SalesItemLineDetail' || !d?.ItemRef?.value)
        return {
          error: fault(
            'ValidationFault',
            '2020',
            'Required param missing, need to supply the required value for the API',
            'ItemRef',
            'Line.SalesItemLineDetail.ItemRef',
          ),
        };
      const amount = new Decimal(String(l.Amount));
      if (d.Qty !== undefined && d.UnitPrice !== undefined && !money(new Decimal(String(d.Qty)).times(String(d.UnitPrice))).eq(amount))
        return {
          error: fault(
            'ValidationFault',
            '6070',
            'A business validation error has occurred',
            `Amount is not equal to UnitPrice * Qty. Supplied value:${l.Amount}`,
            'Line.Amount',
          ),
        };
      if (d.TaxCodeRef) {
        const rate = opts.taxRates[d.TaxCodeRef.value];
        if (rate === undefined)
          return {
            error: fault(
              'ValidationFault',
              '2500',
              'Invalid Reference Id',
              `Invalid Reference Id : TaxCode ${d.TaxCodeRef.value}`,
              'TaxCodeRef',
            ),
          };
        tax = tax.plus(money(amount.times(rate)));
      }
      net = net.plus(amount);
      stored.push({ ...l, Id: String(i + 1), LineNum: i + 1 });
    }
    stored.push({ Amount: net.toNumber(), DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} });
    if (entity === 'CreditMemo' && net.isNegative())
      return {
        error: fault('ValidationFault', '6000', 'A business validation error has occurred', 'Transaction amount must be 0 or greater'),
      };
    const total = net.plus(tax);
    return {
      txn: {
        ...(body as object),
        Line: stored,
        TxnTaxDetail: { TotalTax: tax.toNumber() },
        TotalAmt: total.toNumber(),
        ...(entity === 'CreditMemo'
          ? { Balance: total.toNumber(), EmailStatus: (body.EmailStatus as string) ?? 'NotSet' }
          : { TxnStatus: (body.TxnStatus as string) ?? 'Pending' }),
      } as Omit<FakeTxn, 'Id' | 'SyncToken'>,
    };
  }

  function saveTxn(realm: string, entity: Entity, body: Record<string, unknown>): Answer {
    const store = docs[entity];
    const id = body.Id as string | undefined;
    const doc = body.DocNumber as string | undefined;
    const { txn, error } = compute(entity, body);
    if (error || !txn) return { status: 400, body: error };
    if (doc !== undefined) {
      const holder = [...store.values()].find((t) => t.DocNumber === doc && t.Id !== id && txnRealm.get(`${entity}:${t.Id}`) === realm);
      if (holder)
        return {
          status: 400,
          body: fault(
            'ValidationFault',
            '6140',
            'Duplicate Document Number Error',
            `Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=${doc}`,
          ),
        };
    }
    if (id) {
      const cur = store.get(id);
      if (!cur || txnRealm.get(`${entity}:${id}`) !== realm)
        return {
          status: 400,
          body: fault(
            'ValidationFault',
            '610',
            'Object Not Found',
            `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.`,
          ),
        };
      if (String(body.SyncToken) !== cur.SyncToken)
        return {
          status: 400,
          body: fault(
            'ValidationFault',
            '5010',
            'Stale Object Error',
            `Stale Object Error : You and ${'another user'} were working on the same thing.`,
          ),
        };
      const next = { ...cur, ...txn, Id: id, SyncToken: String(Number(cur.SyncToken) + 1) } as FakeTxn;
      store.set(id, next);
      return { status: 200, body: { [entity]: next, time: new Date().toISOString() } };
    }
    const newId = String(nextId++);
    const created = {
      ...txn,
      Id: newId,
      SyncToken: '0',
      DocNumber: doc ?? newId,
      MetaData: { CreateTime: new Date().toISOString() },
    } as unknown as FakeTxn;
    store.set(newId, created);
    txnRealm.set(`${entity}:${newId}`, realm);
    return { status: 200, body: { [entity]: created, time: new Date().toISOString() } };
  }

  /** The subset of the query language Hourbridge sends: `select * from E [where F = 'v' | F IN ('a', …)] [MAXRESULTS n]`. */
  function runQuery(realm: string, q: string): Answer {
    const m = /^select \* from (\w+)(?: where (\w+) (=|IN) (.+?))?(?: MAXRESULTS \d+)?$/i.exec(q.trim());
    if (!m) return { status: 400, body: fault('ValidationFault', '4000', 'Error parsing query', `QueryParserError: ${q}`) };
    const [, entity = '', field, op, raw = ''] = m;
    const values = [...raw.matchAll(/'((?:\\.|[^'\\])*)'/g)].map((v) => (v[1] ?? '').replace(/\\(.)/g, '$1'));
    const match = (v: unknown) => !field || (op?.toUpperCase() === 'IN' ? values.includes(String(v)) : String(v) === values[0]);
    let rows: unknown[];
    if (entity === 'Customer')
      rows = [...customers.values()].filter((c) => c.realm === realm && match((c as Record<string, unknown>)[field ?? '']));
    else if (entity === 'Estimate' || entity === 'CreditMemo')
      rows = [...docs[entity].values()].filter((t) => txnRealm.get(`${entity}:${t.Id}`) === realm && match(t[field ?? '']));
    else return { status: 400, body: fault('ValidationFault', '4001', 'Invalid query', `unsupported entity ${entity}`) };
    return {
      status: 200,
      body: {
        QueryResponse: rows.length ? { [entity]: rows, startPosition: 1, maxResults: rows.length } : {},
        time: new Date().toISOString(),
      },
    };
  }

  async function api(
    req: http.IncomingMessage,
    url: URL,
    body: string,
    rec: FakeRequest,
    res: http.ServerResponse,
  ): Promise<Answer | 'dropped'> {
    const m = /^\/v3\/company\/([^/]+)\/(\w+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return { status: 404, body: fault('ValidationFault', '404', 'Not found') };
    const [, realm = '', resource = '', id] = m;
    const auth = req.headers.authorization ?? '';
    const token = auth.replace(/^Bearer /i, '');
    const exp = access.get(token);
    if (exp === undefined || exp < Date.now()) {
      return {
        status: 401,
        body: {
          fault: {
            error: [{ message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401', detail: 'Token expired', code: '3200' }],
            type: 'AUTHENTICATION',
          },
          time: new Date().toISOString(),
        },
      };
    }
    if (!realms.has(realm)) return { status: 403, body: fault('AuthorizationFault', '003100', 'ApplicationAuthorizationFailed') };
    // Per-realm throttles.
    if (Date.now() - windowStart >= opts.windowMs) {
      windowStart = Date.now();
      windowCount = 0;
    }
    windowCount++;
    if (inFlight > opts.concurrent || windowCount > opts.perMinute) {
      stats.throttled++;
      return {
        status: 429,
        body: fault('SERVICE', '003001', 'message=ThrottleExceeded; errorCode=003001; statusCode=429', 'ThrottleExceeded'),
      };
    }
    const requestid = url.searchParams.get('requestid');
    if (req.method === 'POST' && requestid && replies.has(`${realm}:${requestid}`)) return replies.get(`${realm}:${requestid}`) as Answer;
    const before = take(req.method ?? 'GET', url.pathname, ['503-before', '429-before', 'answer']);
    if (before) {
      if (before.kind === 'answer') {
        const a = before.answer?.(rec);
        if (a) {
          consume(before);
          return a;
        }
      } else {
        consume(before);
        if (before.kind === '503-before')
          return {
            status: 503,
            body: fault('SERVICE', '10000', 'An application error has occurred while processing your request', 'System Failure Error'),
          };
        stats.throttled++;
        return {
          status: 429,
          body: fault('SERVICE', '003001', 'message=ThrottleExceeded; errorCode=003001; statusCode=429', 'ThrottleExceeded'),
        };
      }
    }
    let answer: Answer;
    if (resource === 'query' && req.method === 'GET') answer = runQuery(realm, url.searchParams.get('query') ?? '');
    else if (resource === 'companyinfo')
      answer = { status: 200, body: { CompanyInfo: { CompanyName: `Fake Company ${realm}`, Id: realm }, time: new Date().toISOString() } };
    else if (resource === 'customer' && req.method === 'POST') {
      const b = JSON.parse(body) as { DisplayName: string };
      const c = { Id: String(nextId++), DisplayName: b.DisplayName, realm, SyncToken: '0' };
      customers.set(c.Id, c);
      answer = { status: 200, body: { Customer: c, time: new Date().toISOString() } };
    } else if (ENTITY_PATH[resource] && req.method === 'GET' && id) {
      const entity = ENTITY_PATH[resource] as Entity;
      const t = docs[entity].get(id);
      answer =
        t && txnRealm.get(`${entity}:${id}`) === realm
          ? { status: 200, body: { [entity]: t, time: new Date().toISOString() } }
          : { status: 400, body: fault('ValidationFault', '610', 'Object Not Found') };
    } else if (ENTITY_PATH[resource] && req.method === 'POST') {
      const entity = ENTITY_PATH[resource] as Entity;
      const b = JSON.parse(body) as Record<string, unknown>;
      stats.writes++;
      if (url.searchParams.get('operation') === 'delete') {
        const cur = docs[entity].get(String(b.Id));
        if (!cur) answer = { status: 400, body: fault('ValidationFault', '610', 'Object Not Found') };
        else if (String(b.SyncToken) !== cur.SyncToken)
          answer = { status: 400, body: fault('ValidationFault', '5010', 'Stale Object Error') };
        else {
          docs[entity].delete(cur.Id);
          answer = { status: 200, body: { [entity]: { Id: cur.Id, status: 'Deleted', domain: 'QBO' }, time: new Date().toISOString() } };
        }
      } else answer = saveTxn(realm, entity, b);
    } else answer = { status: 400, body: fault('ValidationFault', '4001', 'Unsupported Operation') };
    if (req.method === 'POST' && requestid) replies.set(`${realm}:${requestid}`, answer);
    const drop = take(req.method ?? 'GET', url.pathname, ['drop-after-commit']);
    if (drop) {
      consume(drop);
      res.socket?.destroy();
      return 'dropped';
    }
    return answer;
  }

  function tokenEndpoint(req: http.IncomingMessage, body: string): Answer {
    stats.tokenCalls++;
    const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64');
    if (req.headers.authorization !== `Basic ${basic}`) return { status: 401, body: { error: 'invalid_client' } };
    const form = new URLSearchParams(body);
    if (form.get('grant_type') === 'authorization_code') {
      const c = codes.get(form.get('code') ?? '');
      if (!c) return { status: 400, body: { error: 'invalid_grant' } };
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== c.challenge)
        return { status: 400, body: { error: 'invalid_grant' } };
      if (form.get('redirect_uri') !== c.redirect) return { status: 400, body: { error: 'invalid_grant' } };
      return { status: 200, body: issue(c.realm) };
    }
    if (form.get('grant_type') === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      const known = refresh.get(rt);
      if (!known || known.validUntil < Date.now()) {
        stats.invalidGrants++;
        return { status: 400, body: { error: 'invalid_grant' } };
      }
      stats.refreshes++;
      // Rotation: the old refresh token stops working after the grace period.
      known.validUntil = Date.now() + opts.refreshGraceMs;
      const set = issue(known.realm);
      if (expireAfter !== undefined) access.set(set.access_token, Date.now() + expireAfter);
      return { status: 200, body: set };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const rec: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, status: 0 };
    requests.push(rec);
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      if (url.pathname === '/connect/oauth2') {
        // The consent page: the user picks the realm and is sent back at once.
        const redirect = url.searchParams.get('redirect_uri') ?? '';
        const code = `fake-code-${randomBytes(8).toString('hex')}`;
        const realm = url.searchParams.get('fake_realm') ?? opts.realmId;
        codes.set(code, { challenge: url.searchParams.get('code_challenge') ?? '', redirect, realm });
        const back = new URL(redirect);
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        back.searchParams.set('realmId', realm);
        rec.status = 302;
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      const answer = url.pathname === '/oauth2/v1/tokens/bearer' ? tokenEndpoint(req, body) : await api(req, url, body, rec, res);
      if (answer === 'dropped') return;
      rec.status = answer.status;
      sendJson(res, answer.status, answer.body ?? {}, { intuit_tid: randomBytes(8).toString('hex'), ...(answer.headers ?? {}) });
    } finally {
      inFlight--;
    }
  });

  return {
    opts,
    url: server.url,
    apiBase: `${server.url}/v3`,
    tokenUrl: `${server.url}/oauth2/v1/tokens/bearer`,
    authorizeUrl: `${server.url}/connect/oauth2`,
    docs,
    customers,
    requests,
    stats,
    stop: server.close,
    /** A token set as `hourbridge connect` would store it. */
    issueTokenSet: (realm = opts.realmId) => issue(realm),
    /** Access tokens issued from now on expire after `ms`. */
    expireAccessTokensAfter(ms: number) {
      expireAfter = ms;
      for (const k of access.keys()) access.set(k, Date.now() + ms);
    },
    addRealm: (realm: string) => void realms.add(realm),
    addCustomer(displayName: string, realm = opts.realmId) {
      const c = { Id: String(nextId++), DisplayName: displayName, realm };
      customers.set(c.Id, c);
      return c.Id;
    },
    realmOf: (entity: Entity, id: string) => txnRealm.get(`${entity}:${id}`),
    /** Finance acts in QuickBooks: e.g. converts an estimate (TxnStatus Closed) or sends a credit memo. */
    setFields(entity: Entity, id: string, fields: Partial<FakeTxn>) {
      const t = docs[entity].get(id);
      if (!t) throw new Error(`no ${entity} ${id}`);
      docs[entity].set(id, { ...t, ...fields, SyncToken: String(Number(t.SyncToken) + 1) });
    },
    inject(kind: Injection['kind'], o: { method?: string; path?: RegExp; times?: number; answer?: Injection['answer'] } = {}) {
      injections.push({
        kind,
        times: o.times ?? 1,
        ...(o.method ? { method: o.method } : {}),
        ...(o.path ? { path: o.path } : {}),
        ...(o.answer ? { answer: o.answer } : {}),
      });
    },
    clearFaults: () => void injections.splice(0),
  };
}

export type FakeQuickBooks = Awaited<ReturnType<typeof startFakeQuickBooks>>;
