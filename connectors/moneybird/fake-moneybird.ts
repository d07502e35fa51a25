import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dec, roundHalfUp, sum } from '../../src/domain/money';
import type { MoneybirdContact, MoneybirdDetailInput, MoneybirdSalesInvoice, MoneybirdSalesInvoiceInput, MoneybirdState } from './types';

/**
 * A local Moneybird for tests and the push bench, built from the payloads the API reference
 * documents (https://developer.moneybird.com/api/sales_invoices/, /api/contacts/,
 * /api/administration/): bearer token, ids as digit strings, sales invoices created in state
 * `draft`, details with tax_rate_id and ledger_account_id (unknown ids: 422), the `reference`
 * filter, the synchronization endpoint, contacts by customer_id, and the request limit
 * (150 per 5 minutes: 429 with Retry-After). Tax is computed per detail, rounded half-up to the
 * cent. Faults are injected on write requests.
 */
export interface FakeMoneybird {
  baseUrl: string;
  administrationId: string;
  token: string;
  taxRate: { id: string; percentage: string };
  ledgerAccountId: string;
  invoices: Map<string, MoneybirdSalesInvoice>;
  contacts: Map<string, MoneybirdContact>;
  /** Write requests processed (creates, updates, deletions), faults not counted. */
  writes(): number;
  /** Every request: arrival (ms), method, path, answer status. */
  log: { at: number; method: string; path: string; status: number }[];
  fail(kind: '5xx' | '429' | 'lose', times: number): void;
  refuse(reference: string): void;
  setState(id: string, state: MoneybirdState): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

export async function startFakeMoneybird(
  opts: { token?: string; limit?: { requests: number; windowMs: number }; administrationId?: string } = {},
): Promise<FakeMoneybird> {
  const token = opts.token ?? 'fake-moneybird-token';
  const administrationId = opts.administrationId ?? '123456789';
  const taxRate = { id: '400000000000000021', percentage: '21.0' };
  const ledgerAccountId = '400000000000000800';
  const invoices = new Map<string, MoneybirdSalesInvoice>();
  const contacts = new Map<string, MoneybirdContact>();
  const faults: ('5xx' | '429' | 'lose')[] = [];
  const refused = new Set<string>();
  const log: FakeMoneybird['log'] = [];
  let writes = 0;
  let seq = 0;
  let window = { start: 0, used: 0 };
  const nextId = () => String(426664240553657596n + BigInt(++seq));

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
    return status;
  };

  const details = (input: MoneybirdDetailInput[], current: MoneybirdSalesInvoice['details'] = []) => {
    const out = current.map((d) => ({ ...d }));
    for (const d of input) {
      if (d.id) {
        const i = out.findIndex((x) => x.id === d.id);
        if (i < 0) throw new Error(`detail ${d.id} does not exist`);
        if (d._destroy) out.splice(i, 1);
        else out[i] = { ...out[i]!, ...stripped(d) };
      } else
        out.push({
          id: nextId(),
          description: '',
          price: '0',
          amount: '1',
          tax_rate_id: taxRate.id,
          ledger_account_id: ledgerAccountId,
          ...stripped(d),
        });
    }
    for (const d of out) {
      if (d.tax_rate_id !== taxRate.id) throw new Error(`tax_rate_id ${d.tax_rate_id} does not exist`);
      if (d.ledger_account_id !== ledgerAccountId) throw new Error(`ledger_account_id ${d.ledger_account_id} does not exist`);
      d.total_price_excl_tax_with_discount = roundHalfUp(dec(d.price).times(dec(d.amount)), 2).toFixed(2);
    }
    return out;
  };
  const stripped = (d: MoneybirdDetailInput) => {
    const { _destroy, id, ...rest } = d;
    void _destroy;
    void id;
    return rest as Omit<MoneybirdDetailInput, 'id' | '_destroy'>;
  };
  const totals = (inv: MoneybirdSalesInvoice) => {
    const net = sum(inv.details.map((d) => d.total_price_excl_tax_with_discount ?? '0'));
    const tax = sum(
      inv.details.map((d) => roundHalfUp(dec(d.total_price_excl_tax_with_discount ?? '0').times(dec(taxRate.percentage).div(100)), 2)),
    );
    inv.total_price_excl_tax = net.toFixed(2);
    inv.total_price_incl_tax = net.plus(tax).toFixed(2);
    inv.version = (inv.version ?? 0) + 1;
    return inv;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): number => {
    if (req.headers.authorization !== `Bearer ${token}`)
      return send(res, 401, { error: 'Token is invalid', symbolic: { token: 'invalid' } });
    if (opts.limit) {
      const now = Date.now();
      if (now - window.start >= opts.limit.windowMs) window = { start: now, used: 0 };
      const left = opts.limit.requests - ++window.used;
      const reset = Math.max(1, Math.ceil((window.start + opts.limit.windowMs - now) / 1000));
      if (left < 0) {
        return send(
          res,
          429,
          { error: 'Too many requests' },
          {
            'Retry-After': String(reset),
            'RateLimit-Limit': String(opts.limit.requests),
            'RateLimit-Remaining': '0',
            'RateLimit-Reset': String(reset),
          },
        );
      }
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/api\/v2\//, '');
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    if (req.method === 'GET' && path === 'administrations.json') {
      return send(res, 200, [
        { id: administrationId, name: 'Fake BV', language: 'nl', currency: 'EUR', country: 'NL', time_zone: 'Europe/Amsterdam' },
      ]);
    }
    const [adm, ...rest] = path.split('/');
    if (adm !== administrationId) return send(res, 404, { error: 'Administration not found' });
    const route = rest.join('/');
    if (req.method === 'GET' && route === 'tax_rates.json') {
      return send(res, 200, [
        { id: taxRate.id, name: '21% btw', percentage: taxRate.percentage, tax_rate_type: 'sales_invoice', active: true },
      ]);
    }
    if (req.method === 'GET' && route === 'ledger_accounts.json') {
      return send(res, 200, [{ id: ledgerAccountId, name: 'Omzet', account_type: 'revenue' }]);
    }
    const byCustomer = route.match(/^contacts\/customer_id\/([^/]+)\.json$/);
    if (req.method === 'GET' && byCustomer) {
      const c = [...contacts.values()].find((x) => x.customer_id === decodeURIComponent(byCustomer[1]!));
      return c ? send(res, 200, c) : send(res, 404, { error: 'record not found' });
    }
    if (req.method === 'POST' && route === 'contacts.json') {
      const input = (body.contact ?? {}) as Partial<MoneybirdContact>;
      const c: MoneybirdContact = { id: nextId(), company_name: input.company_name ?? null, customer_id: input.customer_id ?? null };
      contacts.set(c.id, c);
      return send(res, 201, c);
    }
    if (req.method === 'GET' && route === 'sales_invoices.json') {
      const filter = Object.fromEntries(
        (url.searchParams.get('filter') ?? '').split(',').map((p) => [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)]),
      );
      const refs = filter.reference ? new Set(filter.reference.split('|')) : undefined;
      const [from, to] = (filter.period ?? '').split('..');
      const inPeriod = (d: string | null) => !from || !to || (d !== null && d.replace(/-/g, '') >= from && d.replace(/-/g, '') <= to);
      return send(
        res,
        200,
        [...invoices.values()].filter((i) => (!refs || refs.has(i.reference ?? '')) && inPeriod(i.invoice_date)),
      );
    }
    if (req.method === 'POST' && route === 'sales_invoices/synchronization.json') {
      const ids = new Set(((body.ids ?? []) as (string | number)[]).map(String).slice(0, 100));
      return send(
        res,
        200,
        [...invoices.values()].filter((i) => ids.has(i.id)),
      );
    }
    const one = route.match(/^sales_invoices\/(\d+)\.json$/);
    if (req.method === 'GET' && one) {
      const inv = invoices.get(one[1]!);
      return inv ? send(res, 200, inv) : send(res, 404, { error: 'record not found' });
    }
    // ---- writes -------------------------------------------------------------------------
    const isWrite =
      (req.method === 'POST' && route === 'sales_invoices.json') || (one && (req.method === 'PATCH' || req.method === 'DELETE'));
    if (!isWrite) return send(res, 404, { error: 'route not found' });
    const fault = faults.shift();
    if (fault === '5xx') return send(res, 500, { error: 'Internal server error' });
    if (fault === '429')
      return send(res, 429, { error: 'Too many requests' }, { 'Retry-After': '1', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '1' });
    const input = (body.sales_invoice ?? { details_attributes: [] }) as MoneybirdSalesInvoiceInput;
    try {
      if (req.method === 'POST') {
        if (input.reference && refused.has(input.reference))
          return send(res, 422, { error: { contact_id: ['is not valid for this administration'] } });
        if (!input.contact_id || !contacts.has(input.contact_id)) return send(res, 422, { error: { contact_id: ['does not exist'] } });
        writes++;
        const inv = totals({
          id: nextId(),
          administration_id: administrationId,
          contact_id: input.contact_id,
          invoice_id: null,
          reference: input.reference ?? null,
          state: 'draft',
          invoice_date: input.invoice_date ?? null,
          currency: input.currency ?? 'EUR',
          prices_are_incl_tax: input.prices_are_incl_tax ?? false,
          details: details(input.details_attributes ?? []),
          total_price_excl_tax: '0',
          total_price_incl_tax: '0',
        });
        invoices.set(inv.id, inv);
        if (fault === 'lose') {
          req.socket.destroy();
          return 0;
        }
        return send(res, 201, inv);
      }
      const inv = invoices.get(one![1]!);
      if (!inv) return send(res, 404, { error: 'record not found' });
      if (inv.state !== 'draft') return send(res, 422, { error: `a sales invoice in state ${inv.state} cannot be changed` });
      writes++;
      if (req.method === 'DELETE') {
        invoices.delete(inv.id);
        return send(res, 204);
      }
      inv.details = details(input.details_attributes ?? [], inv.details);
      if (input.invoice_date) inv.invoice_date = input.invoice_date;
      totals(inv);
      if (fault === 'lose') {
        req.socket.destroy();
        return 0;
      }
      return send(res, 200, inv);
    } catch (e) {
      return send(res, 422, { error: (e as Error).message });
    }
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString('utf8');
    });
    req.on('end', () => {
      const at = Date.now();
      let status = 500;
      try {
        status = handle(req, res, raw);
      } catch (e) {
        status = send(res, 500, { error: String(e) });
      }
      log.push({ at, method: req.method ?? '', path: req.url ?? '', status });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`,
    administrationId,
    token,
    taxRate,
    ledgerAccountId,
    invoices,
    contacts,
    writes: () => writes,
    log,
    fail: (kind, times) => {
      for (let i = 0; i < times; i++) faults.push(kind);
    },
    refuse: (reference) => refused.add(reference),
    setState: (id, state) => {
      const inv = invoices.get(id);
      if (!inv) throw new Error(`no invoice ${id}`);
      inv.state = state;
      inv.version = (inv.version ?? 0) + 1;
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
