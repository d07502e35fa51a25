import type http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { listen, sendJson } from './fake-http';

/**
 * A local Exact Online site (start.exactonline.<region>) built from Exact's documented REST
 * payloads (OData v3 JSON: `{"d": {...}}`, lists in `{"d": {"results": [...]}}`, errors in
 * `{"error": {"code", "message": {"lang", "value"}}}`):
 * - OAuth 2.0 (/api/oauth2/auth, /api/oauth2/token, client id and secret in the form body): access
 *   tokens for 600 s, a new refresh token on every refresh (the old one dies after `refreshGraceMs`).
 * - /api/v1/current/Me; /api/v1/{division}/salesinvoice/SalesInvoices and SalesInvoiceLines
 *   (GET with $filter on YourRef / InvoiceID, POST with lines, PUT and DELETE of lines, DELETE of a
 *   draft); /crm/Accounts. Only drafts (Status 10) may change. VAT per line by VATCode.
 * - Limits per division: `perMinute` and `perDay` calls; every answer carries X-RateLimit-Limit,
 *   -Remaining, -Reset and X-RateLimit-Minutely-Limit, -Remaining, -Reset (epoch ms); over the
 *   minute budget: 429. Exact has no idempotency key: a POST sent twice creates twice.
 */

export interface FakeExactOptions {
  clientId?: string;
  clientSecret?: string;
  division?: number;
  refreshGraceMs?: number;
  accessTtlS?: number;
  perMinute?: number;
  perDay?: number;
  windowMs?: number;
  latencyMs?: number;
  vatRates?: Record<string, string>;
}

export interface FakeLine {
  ID: string;
  InvoiceID: string;
  LineNumber: number;
  Item: string;
  Description?: string;
  Quantity: number;
  UnitPrice: number;
  VATCode?: string;
  AmountFC: number;
  VATAmountFC: number;
}

export interface FakeInvoice {
  InvoiceID: string;
  Division: number;
  Status: number;
  Type: number;
  Journal?: string;
  OrderedBy?: string;
  YourRef?: string;
  Description?: string;
  Currency?: string;
  InvoiceDate?: string;
  AmountFCExclVat: number;
  VATAmountFC: number;
  AmountFC: number;
  lines: FakeLine[];
}

export interface FakeExactRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  status: number;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
interface Injection {
  kind: 'drop-after-commit' | '503-before' | '429-before' | 'answer';
  method?: string;
  path?: RegExp;
  times: number;
  answer?: (rec: FakeExactRequest) => Answer | undefined;
}

const err = (status: number, value: string): Answer => ({ status, body: { error: { code: '', message: { lang: '', value } } } });

export async function startFakeExact(options: FakeExactOptions = {}) {
  const opts = {
    clientId: options.clientId ?? 'test-client-id',
    clientSecret: options.clientSecret ?? 'fake-secret',
    division: options.division ?? 1234567,
    refreshGraceMs: options.refreshGraceMs ?? 0,
    accessTtlS: options.accessTtlS ?? 600,
    perMinute: options.perMinute ?? 60,
    perDay: options.perDay ?? 5000,
    windowMs: options.windowMs ?? 60_000,
    latencyMs: options.latencyMs ?? 0,
    vatRates: options.vatRates ?? { '0': '0', '2': '0.21', '1': '0.09' },
  };
  const divisions = new Set<number>([opts.division]);
  const invoices = new Map<string, FakeInvoice>();
  const accounts = new Map<string, { ID: string; Name: string; Division: number }>();
  const access = new Map<string, number>();
  const refresh = new Map<string, number>(); // token → valid until
  const codes = new Map<string, { challenge: string; redirect: string }>();
  const requests: FakeExactRequest[] = [];
  const injections: Injection[] = [];
  const stats = { tokenCalls: 0, refreshes: 0, invalidGrants: 0, throttled: 0, creates: 0 };
  const budgets = new Map<number, { windowStart: number; minute: number; day: number }>();
  let expireAfter: number | undefined;

  const issue = () => {
    const at = `fake-at-${randomBytes(12).toString('hex')}`;
    const rt = `fake-rt-${randomBytes(12).toString('hex')}`;
    access.set(at, Date.now() + (expireAfter ?? opts.accessTtlS * 1000));
    refresh.set(rt, Number.POSITIVE_INFINITY);
    return { access_token: at, token_type: 'bearer', expires_in: String(opts.accessTtlS), refresh_token: rt };
  };

  const take = (method: string, path: string, kinds: Injection['kind'][]) =>
    injections.find((x) => kinds.includes(x.kind) && (!x.method || x.method === method) && (!x.path || x.path.test(path)) && x.times > 0);
  const consume = (inj: Injection) => {
    inj.times--;
    if (inj.times <= 0) injections.splice(injections.indexOf(inj), 1);
  };
  const money = (v: Decimal.Value) => new Decimal(v).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

  function lineOf(invoiceId: string, n: number, l: Record<string, unknown>): FakeLine | Answer {
    const vat = l.VATCode === undefined ? undefined : String(l.VATCode).trim();
    if (!l.Item) return err(400, 'Item: Mandatory');
    if (vat !== undefined && opts.vatRates[vat] === undefined) return err(400, `VAT code: Not found: ${vat}`);
    const amount = money(new Decimal(String(l.Quantity ?? 1)).times(String(l.UnitPrice ?? 0)));
    const tax = vat === undefined ? new Decimal(0) : money(amount.times(opts.vatRates[vat] ?? 0));
    return {
      ID: randomUUID(),
      InvoiceID: invoiceId,
      LineNumber: n,
      Item: String(l.Item),
      Description: l.Description as string | undefined,
      Quantity: Number(l.Quantity ?? 1),
      UnitPrice: Number(l.UnitPrice ?? 0),
      ...(vat !== undefined ? { VATCode: vat } : {}),
      AmountFC: amount.toNumber(),
      VATAmountFC: tax.toNumber(),
    };
  }
  function total(inv: FakeInvoice) {
    const net = inv.lines.reduce((s, l) => s.plus(l.AmountFC), new Decimal(0));
    const vat = inv.lines.reduce((s, l) => s.plus(l.VATAmountFC), new Decimal(0));
    inv.AmountFCExclVat = net.toNumber();
    inv.VATAmountFC = vat.toNumber();
    inv.AmountFC = net.plus(vat).toNumber();
  }
  const header = ({ lines: _, ...rest }: FakeInvoice) => rest;

  /** `F eq 'v' or F eq guid'v'`: the filters Hourbridge sends. */
  function filter(text: string): { field: string; values: string[] } | undefined {
    const parts = text.split(/\s+or\s+/i).map((p) => /^(\w+) eq (?:guid)?'((?:''|[^'])*)'$/.exec(p.trim()));
    if (parts.some((p) => !p)) return undefined;
    return { field: parts[0]?.[1] ?? '', values: parts.map((p) => (p?.[2] ?? '').replace(/''/g, "'")) };
  }

  function budgetHeaders(division: number): { headers: Record<string, string>; over: boolean } {
    const now = Date.now();
    let b = budgets.get(division);
    if (!b || now - b.windowStart >= opts.windowMs) {
      b = { windowStart: now, minute: 0, day: b?.day ?? 0 };
      budgets.set(division, b);
    }
    const over = b.minute >= opts.perMinute || b.day >= opts.perDay;
    if (!over) {
      b.minute++;
      b.day++;
    }
    return {
      over,
      headers: {
        'X-RateLimit-Limit': String(opts.perDay),
        'X-RateLimit-Remaining': String(Math.max(0, opts.perDay - b.day)),
        'X-RateLimit-Reset': String(now + 86_400_000),
        'X-RateLimit-Minutely-Limit': String(opts.perMinute),
        'X-RateLimit-Minutely-Remaining': String(Math.max(0, opts.perMinute - b.minute)),
        'X-RateLimit-Minutely-Reset': String(b.windowStart + opts.windowMs),
      },
    };
  }

  async function api(
    req: http.IncomingMessage,
    url: URL,
    body: string,
    rec: FakeExactRequest,
    res: http.ServerResponse,
  ): Promise<Answer | 'dropped'> {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    const exp = access.get(token);
    if (exp === undefined || exp < Date.now())
      return { status: 401, body: { error: { code: '', message: { lang: '', value: 'Access token expired' } } } };
    if (url.pathname === '/api/v1/current/Me')
      return { status: 200, body: { d: { results: [{ CurrentDivision: opts.division, FullName: 'Fake Finance User' }] } } };
    const m = /^\/api\/v1\/(\d+)\/(salesinvoice\/SalesInvoices|salesinvoice\/SalesInvoiceLines|crm\/Accounts)(?:\(guid'([^']+)'\))?$/.exec(
      url.pathname,
    );
    if (!m) return err(404, 'Not found');
    const division = Number(m[1]);
    if (!divisions.has(division)) return err(403, 'Forbidden');
    const budget = budgetHeaders(division);
    const withBudget = (a: Answer): Answer => ({ ...a, headers: { ...budget.headers, ...(a.headers ?? {}) } });
    if (budget.over) {
      stats.throttled++;
      return withBudget(err(429, 'API rate limit exceeded'));
    }
    const method = req.method ?? 'GET';
    const before = take(method, url.pathname, ['503-before', '429-before', 'answer']);
    if (before) {
      if (before.kind === 'answer') {
        const a = before.answer?.(rec);
        if (a) {
          consume(before);
          return withBudget(a);
        }
      } else {
        consume(before);
        if (before.kind === '503-before') return withBudget(err(503, 'Service Unavailable'));
        stats.throttled++;
        return withBudget({
          ...err(429, 'API rate limit exceeded'),
          headers: { 'X-RateLimit-Minutely-Remaining': '0', 'X-RateLimit-Minutely-Reset': String(Date.now() + 300) },
        });
      }
    }
    const [, , resource, id] = m;
    const json = () => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
    let answer: Answer;
    if (resource === 'crm/Accounts') {
      if (method === 'GET') {
        const f = filter(url.searchParams.get('$filter') ?? '');
        const rows = [...accounts.values()].filter((a) => a.Division === division && (!f || f.values.includes(a.Name)));
        answer = { status: 200, body: { d: { results: rows.map(({ ID, Name }) => ({ ID, Name })) } } };
      } else {
        const a = { ID: randomUUID(), Name: String(json().Name), Division: division };
        accounts.set(a.ID, a);
        answer = { status: 201, body: { d: { ID: a.ID, Name: a.Name } } };
      }
    } else if (resource === 'salesinvoice/SalesInvoices') {
      if (method === 'GET') {
        const f = filter(url.searchParams.get('$filter') ?? '');
        const rows = [...invoices.values()].filter(
          (i) => i.Division === division && (!f || f.values.includes(String((i as unknown as Record<string, unknown>)[f.field]))),
        );
        answer = { status: 200, body: { d: { results: rows.map(header) } } };
      } else if (method === 'POST') {
        const b = json();
        if (!b.OrderedBy) answer = err(400, 'Ordered by: Mandatory');
        else {
          const inv: FakeInvoice = {
            InvoiceID: randomUUID(),
            Division: division,
            Status: 10,
            Type: Number(b.Type ?? 8020),
            Journal: b.Journal as string,
            OrderedBy: b.OrderedBy as string,
            YourRef: b.YourRef as string | undefined,
            Description: b.Description as string | undefined,
            Currency: b.Currency as string | undefined,
            InvoiceDate: b.InvoiceDate as string | undefined,
            AmountFCExclVat: 0,
            VATAmountFC: 0,
            AmountFC: 0,
            lines: [],
          };
          let bad: Answer | undefined;
          for (const [i, l] of ((b.SalesInvoiceLines as Record<string, unknown>[] | undefined) ?? []).entries()) {
            const line = lineOf(inv.InvoiceID, i + 1, l);
            if ('status' in line) bad = line;
            else inv.lines.push(line);
          }
          if (bad) answer = bad;
          else {
            total(inv);
            invoices.set(inv.InvoiceID, inv);
            stats.creates++;
            answer = { status: 201, body: { d: { ...header(inv), SalesInvoiceLines: { results: inv.lines } } } };
          }
        }
      } else if (method === 'DELETE' && id) {
        const inv = invoices.get(id);
        if (!inv) answer = err(404, 'Not found');
        else if (inv.Status !== 10) answer = err(400, 'Only draft invoices can be deleted');
        else {
          invoices.delete(id);
          answer = { status: 204 };
        }
      } else answer = err(400, 'Unsupported');
    } else {
      // SalesInvoiceLines
      if (method === 'GET') {
        const f = filter(url.searchParams.get('$filter') ?? '');
        const inv = f ? invoices.get(f.values[0] ?? '') : undefined;
        answer = { status: 200, body: { d: { results: inv && inv.Division === division ? inv.lines : [] } } };
      } else {
        const b = json();
        const owner = id ? [...invoices.values()].find((i) => i.lines.some((l) => l.ID === id)) : invoices.get(String(b.InvoiceID));
        if (!owner) answer = err(404, 'Not found');
        else if (owner.Status !== 10) answer = err(400, 'The invoice is processed: lines cannot change');
        else if (method === 'POST') {
          const line = lineOf(owner.InvoiceID, Number(b.LineNumber ?? owner.lines.length + 1), b);
          if ('status' in line) answer = line;
          else {
            owner.lines.push(line);
            owner.lines.sort((x, y) => x.LineNumber - y.LineNumber);
            total(owner);
            answer = { status: 201, body: { d: line } };
          }
        } else if (method === 'PUT') {
          const i = owner.lines.findIndex((l) => l.ID === id);
          const cur = owner.lines[i] as FakeLine;
          const line = lineOf(owner.InvoiceID, cur.LineNumber, { ...cur, ...b });
          if ('status' in line) answer = line;
          else {
            owner.lines[i] = { ...line, ID: cur.ID };
            total(owner);
            answer = { status: 204 };
          }
        } else if (method === 'DELETE') {
          owner.lines = owner.lines.filter((l) => l.ID !== id);
          total(owner);
          answer = { status: 204 };
        } else answer = err(400, 'Unsupported');
      }
    }
    const drop = take(method, url.pathname, ['drop-after-commit']);
    if (drop) {
      consume(drop);
      res.socket?.destroy();
      return 'dropped';
    }
    return withBudget(answer);
  }

  function tokenEndpoint(body: string): Answer {
    stats.tokenCalls++;
    const form = new URLSearchParams(body);
    if (form.get('client_id') !== opts.clientId || form.get('client_secret') !== opts.clientSecret)
      return { status: 400, body: { error: 'invalid_client' } };
    if (form.get('grant_type') === 'authorization_code') {
      const c = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (
        !c ||
        createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url') !== c.challenge ||
        form.get('redirect_uri') !== c.redirect
      )
        return { status: 400, body: { error: 'invalid_grant' } };
      return { status: 200, body: issue() };
    }
    if (form.get('grant_type') === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      const until = refresh.get(rt);
      if (until === undefined || until < Date.now()) {
        stats.invalidGrants++;
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Old refresh token used.' } };
      }
      stats.refreshes++;
      refresh.set(rt, Date.now() + opts.refreshGraceMs);
      return { status: 200, body: issue() };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const rec: FakeExactRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body, status: 0 };
    requests.push(rec);
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    if (url.pathname === '/api/oauth2/auth') {
      const redirect = url.searchParams.get('redirect_uri') ?? '';
      const code = `fake-code-${randomBytes(8).toString('hex')}`;
      codes.set(code, { challenge: url.searchParams.get('code_challenge') ?? '', redirect });
      const back = new URL(redirect);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      rec.status = 302;
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    const answer = url.pathname === '/api/oauth2/token' ? tokenEndpoint(body) : await api(req, url, body, rec, res);
    if (answer === 'dropped') return;
    rec.status = answer.status;
    if (answer.status === 204) {
      res.writeHead(204, answer.headers ?? {}).end();
      return;
    }
    sendJson(res, answer.status, answer.body ?? {}, answer.headers ?? {});
  });

  return {
    opts,
    url: server.url,
    invoices,
    accounts,
    requests,
    stats,
    stop: server.close,
    issueTokenSet: () => issue(),
    expireAccessTokensAfter(ms: number) {
      expireAfter = ms;
      for (const k of access.keys()) access.set(k, Date.now() + ms);
    },
    addDivision: (d: number) => void divisions.add(d),
    addAccount(name: string, division = opts.division) {
      const a = { ID: randomUUID(), Name: name, Division: division };
      accounts.set(a.ID, a);
      return a.ID;
    },
    /** Finance processes the invoice in Exact (status 50). */
    setStatus(id: string, status: number) {
      const inv = invoices.get(id);
      if (!inv) throw new Error(`no invoice ${id}`);
      inv.Status = status;
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

export type FakeExact = Awaited<ReturnType<typeof startFakeExact>>;
