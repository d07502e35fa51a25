import type { Logger } from 'pino';
import { ConnectorError } from '../../src/connectors/errors';
import { ApiCallError, ApiClient } from '../../src/destinations/api-client';
import { connectionStoreOf, type LedgerTokensOptions, type OAuthClient, type TokenProvider } from '../../src/destinations/token-store';
import type { Ledger } from '../../src/ledger/db';
import { type ExactOnlineConfig, siteBase } from './config.schema';
import type { ExactAccount, ExactError, ExactInvoiceLine, ExactSalesInvoice } from './types';

/**
 * One Exact Online session per run: the division's token from the runtime's store (access
 * tokens live 10 minutes; every refresh rotates the refresh token, so the single writer
 * matters here most), Exact's limits per app and division (60 calls a minute and 5000 a day;
 * a 429 is waited out until X-RateLimit-Minutely-Reset), and the X-RateLimit-* headers read
 * back on every answer. Exact has no idempotency key: creates are not retried blind (see push.ts).
 * https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-api-limits
 */

export function exactOAuthClient(config: ExactOnlineConfig): OAuthClient {
  return {
    kind: 'exactonline',
    label: 'Exact Online',
    connectionId: config.id,
    // https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-devstep3
    tokenUrl: `${siteBase(config)}/api/oauth2/token`,
    clientId: config.auth.clientId,
    clientSecret: config.auth.clientSecret,
    clientAuth: 'body',
    defaultExpiresInS: 600,
    invalidGrantReasons: 'revoked, unused for 30 days, or replaced by a newer one',
  };
}

export function describeExactError(body: unknown): string | undefined {
  return (body as ExactError | undefined)?.error?.message?.value;
}

export function exactMessage(e: ApiCallError): string {
  const detail = describeExactError(e.body);
  return detail ? `${e.message}: ${detail}` : e.message;
}

/** OData string literal. */
export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface ExactSessionOptions {
  ledger?: Ledger;
  redisUrl?: string;
  log?: Logger;
  signal?: AbortSignal;
  tokens?: TokenProvider;
  tokenOptions?: Omit<LedgerTokensOptions, 'key'>;
  backoffBaseMs?: number;
}

const INVOICE_FIELDS = 'InvoiceID,Status,Type,YourRef,Description,Currency,OrderedBy,AmountFCExclVat,VATAmountFC,AmountFC';
const LINE_FIELDS = 'ID,InvoiceID,LineNumber,Item,Description,Quantity,UnitPrice,VATCode,AmountFC,VATAmountFC';

export class ExactSession {
  readonly client: ApiClient;
  /** The last X-RateLimit-* values Exact sent. */
  readonly budget = { minutelyRemaining: undefined as number | undefined, dailyRemaining: undefined as number | undefined };

  constructor(
    readonly config: ExactOnlineConfig,
    options: ExactSessionOptions,
  ) {
    const tokens =
      options.tokens ??
      connectionStoreOf({ ledger: options.ledger }, { kind: 'exactonline', label: 'Exact Online', connectionId: config.id }).tokens(
        exactOAuthClient(config),
        {
          ...options.tokenOptions,
          ...(config.auth.refreshToken ? { seed: { refreshToken: config.auth.refreshToken, tenantId: String(config.division) } } : {}),
        },
      );
    this.client = new ApiClient({
      connector: 'exactonline',
      label: 'Exact Online',
      baseUrl: `${siteBase(config)}/api/v1/${config.division}`,
      tokens,
      budgetKey: `${siteBase(config)}:${config.division}`,
      requestsPerWindow: config.rateLimits.perMinute,
      windowMs: config.rateLimits.windowMs,
      daily: { requests: config.rateLimits.perDay },
      concurrent: config.rateLimits.concurrent,
      maxAttempts: config.maxAttempts,
      timeoutMs: config.requestTimeoutMs,
      redisUrl: options.redisUrl,
      log: options.log,
      signal: options.signal,
      backoffBaseMs: options.backoffBaseMs,
      // X-RateLimit-Minutely-Reset is the epoch time (ms) the minute budget starts again.
      waitHint: (headers, now) => {
        const reset = Number(headers['x-ratelimit-minutely-reset']);
        return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset - now.getTime()) : undefined;
      },
      onHeaders: (h) => {
        const m = Number(h['x-ratelimit-minutely-remaining']);
        const d = Number(h['x-ratelimit-remaining']);
        if (Number.isFinite(m)) this.budget.minutelyRemaining = m;
        if (Number.isFinite(d)) this.budget.dailyRemaining = d;
      },
    });
  }

  private async list<T>(url: string, filter: string, select: string, label: string): Promise<T[]> {
    const res = await this.client.request<{ d?: { results?: T[] } | T[] }>({
      url,
      params: { $filter: filter, $select: select },
      retrySafe: true,
      label,
    });
    const d = res.data.d;
    return Array.isArray(d) ? d : (d?.results ?? []);
  }

  // https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoices (GET with $filter)
  async invoicesByYourRef(refs: string[]): Promise<Map<string, ExactSalesInvoice>> {
    const out = new Map<string, ExactSalesInvoice>();
    for (let i = 0; i < refs.length; i += 20) {
      const part = refs.slice(i, i + 20);
      const rows = await this.list<ExactSalesInvoice>(
        '/salesinvoice/SalesInvoices',
        part.map((r) => `YourRef eq ${lit(r)}`).join(' or '),
        INVOICE_FIELDS,
        'find sales invoices by YourRef',
      );
      for (const r of rows) if (r.YourRef) out.set(r.YourRef, r);
    }
    return out;
  }

  async invoicesById(ids: string[]): Promise<Map<string, ExactSalesInvoice>> {
    const out = new Map<string, ExactSalesInvoice>();
    for (let i = 0; i < ids.length; i += 20) {
      const part = ids.slice(i, i + 20);
      const rows = await this.list<ExactSalesInvoice>(
        '/salesinvoice/SalesInvoices',
        part.map((id) => `InvoiceID eq guid${lit(id)}`).join(' or '),
        INVOICE_FIELDS,
        'read sales invoices',
      );
      for (const r of rows) if (r.InvoiceID) out.set(r.InvoiceID, r);
    }
    return out;
  }

  // https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoiceLines
  lines(invoiceId: string): Promise<ExactInvoiceLine[]> {
    return this.list<ExactInvoiceLine>(
      '/salesinvoice/SalesInvoiceLines',
      `InvoiceID eq guid${lit(invoiceId)}`,
      LINE_FIELDS,
      'read invoice lines',
    );
  }

  /** POST a sales invoice with its lines. Not retry-safe: Exact has no idempotency key. */
  async createInvoice(body: ExactSalesInvoice): Promise<ExactSalesInvoice> {
    const res = await this.client.request<{ d?: ExactSalesInvoice }>({
      method: 'POST',
      url: '/salesinvoice/SalesInvoices',
      data: body,
      retrySafe: false,
      label: 'create sales invoice',
    });
    if (!res.data.d?.InvoiceID)
      throw new ConnectorError('transient', 'Exact Online answered the create without an InvoiceID', { connector: 'exactonline' });
    return res.data.d;
  }

  /** PUT is a replace of the fields sent: retry-safe. */
  async putLine(id: string, body: Partial<ExactInvoiceLine>): Promise<void> {
    await this.client.request({
      method: 'PUT',
      url: `/salesinvoice/SalesInvoiceLines(guid${lit(id)})`,
      data: body,
      retrySafe: true,
      label: 'update invoice line',
    });
  }

  async postLine(body: ExactInvoiceLine): Promise<void> {
    await this.client.request({
      method: 'POST',
      url: '/salesinvoice/SalesInvoiceLines',
      data: body,
      retrySafe: false,
      label: 'add invoice line',
    });
  }

  async deleteLine(id: string): Promise<void> {
    await this.gone(() =>
      this.client.request({
        method: 'DELETE',
        url: `/salesinvoice/SalesInvoiceLines(guid${lit(id)})`,
        retrySafe: true,
        label: 'delete invoice line',
      }),
    );
  }

  async deleteInvoice(id: string): Promise<void> {
    await this.gone(() =>
      this.client.request({
        method: 'DELETE',
        url: `/salesinvoice/SalesInvoices(guid${lit(id)})`,
        retrySafe: true,
        label: 'delete sales invoice',
      }),
    );
  }

  /** A DELETE resent after a lost answer finds nothing: that is success. */
  private async gone(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (e) {
      if (e instanceof ApiCallError && e.status === 404) return;
      throw e;
    }
  }

  // https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=CRMAccounts
  async findAccount(name: string): Promise<ExactAccount | undefined> {
    return (await this.list<ExactAccount>('/crm/Accounts', `Name eq ${lit(name)}`, 'ID,Name', 'find account'))[0];
  }

  async createAccount(name: string): Promise<ExactAccount> {
    const res = await this.client.request<{ d?: ExactAccount }>({
      method: 'POST',
      url: '/crm/Accounts',
      data: { Name: name, Status: 'C' },
      retrySafe: false,
      label: 'create account',
    });
    if (!res.data.d?.ID)
      throw new ConnectorError('transient', 'Exact Online answered the account create without an ID', { connector: 'exactonline' });
    return res.data.d;
  }

  // https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SystemSystemMe
  async me(): Promise<{ CurrentDivision: number; FullName?: string }> {
    const res = await this.client.request<{ d?: { results?: { CurrentDivision: number; FullName?: string }[] } }>({
      url: `${siteBase(this.config)}/api/v1/current/Me`,
      params: { $select: 'CurrentDivision,FullName' },
      retrySafe: true,
      label: 'read current user',
    });
    const me = res.data.d?.results?.[0];
    if (!me) throw new ConnectorError('transient', 'Exact Online answered /current/Me without a user', { connector: 'exactonline' });
    return me;
  }
}
