import type { Logger } from 'pino';
import { ConnectorError } from '../../src/connectors/errors';
import { type ApiCallError, ApiClient } from '../../src/destinations/api-client';
import { connectionStoreOf, type LedgerTokensOptions, type OAuthClient, type TokenProvider } from '../../src/destinations/token-store';
import type { Ledger } from '../../src/ledger/db';
import { apiBase, type QuickBooksConfig } from './config.schema';
import type { QboEntity } from './to-qbo';
import type { QboCustomer, QboFault, QboTxn } from './types';

/**
 * One QuickBooks Online session per run: the realm's token (the runtime's store), Intuit's
 * per-realm budgets (500 requests a minute, 10 at once; a 429 "ThrottleExceeded", code 003001,
 * is waited out with backoff, since Intuit sends no Retry-After), and `requestid` on every
 * write so that a write sent again after a lost answer replays the first answer instead of
 * writing twice.
 * https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
 */

export function intuitOAuthClient(config: QuickBooksConfig): OAuthClient {
  return {
    kind: 'quickbooks',
    label: 'QuickBooks',
    connectionId: config.id,
    // https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
    tokenUrl: config.oauth.tokenUrl,
    clientId: config.auth.clientId,
    clientSecret: config.auth.clientSecret,
    clientAuth: 'basic',
    defaultExpiresInS: 3600,
    invalidGrantReasons: 'revoked, unused for 100 days, or replaced by a newer one',
  };
}

export function describeFault(body: unknown): string | undefined {
  const f = body as QboFault | undefined;
  const errors = f?.Fault?.Error ?? [];
  if (errors.length > 0) {
    return errors.map((e) => [e.Message, e.Detail, e.code ? `code ${e.code}` : undefined].filter(Boolean).join(': ')).join('; ');
  }
  const lower = f?.fault?.error ?? [];
  if (lower.length > 0) return lower.map((e) => [e.message, e.detail].filter(Boolean).join(': ')).join('; ');
  return undefined;
}

export function faultCodes(body: unknown): string[] {
  return ((body as QboFault | undefined)?.Fault?.Error ?? []).map((e) => e.code ?? '');
}

export function callMessage(e: ApiCallError): string {
  const detail = describeFault(e.body);
  return detail ? `${e.message}: ${detail}` : e.message;
}

export interface SessionOptions {
  ledger?: Ledger;
  redisUrl?: string;
  log?: Logger;
  signal?: AbortSignal;
  tokens?: TokenProvider;
  tokenOptions?: Omit<LedgerTokensOptions, 'key'>;
  /** Backoff base between retries (tests shorten it). */
  backoffBaseMs?: number;
}

const PATH: Record<QboEntity | 'Customer', string> = { Estimate: 'estimate', CreditMemo: 'creditmemo', Customer: 'customer' };

/** Single-quoted QuickBooks query literal (backslash-escaped quote, as the query language wants). */
export const qLiteral = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class QboSession {
  readonly client: ApiClient;
  readonly realm: string;

  constructor(
    readonly config: QuickBooksConfig,
    options: SessionOptions,
  ) {
    this.realm = config.realmId;
    const tokens =
      options.tokens ??
      connectionStoreOf({ ledger: options.ledger }, { kind: 'quickbooks', label: 'QuickBooks', connectionId: config.id }).tokens(
        intuitOAuthClient(config),
        {
          ...options.tokenOptions,
          ...(config.auth.refreshToken ? { seed: { refreshToken: config.auth.refreshToken, tenantId: config.realmId } } : {}),
        },
      );
    this.client = new ApiClient({
      connector: 'quickbooks',
      label: 'QuickBooks',
      baseUrl: `${apiBase(config)}/company/${config.realmId}`,
      tokens,
      budgetKey: `${apiBase(config)}:${config.realmId}`,
      requestsPerWindow: config.rateLimits.requestsPerMinute,
      windowMs: config.rateLimits.windowMs,
      concurrent: config.rateLimits.concurrent,
      maxAttempts: config.maxAttempts,
      timeoutMs: config.requestTimeoutMs,
      redisUrl: options.redisUrl,
      log: options.log,
      signal: options.signal,
      backoffBaseMs: options.backoffBaseMs,
    });
  }

  private params(extra: Record<string, string> = {}) {
    return { minorversion: String(this.config.minorVersion), ...extra };
  }

  // https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
  async query<T>(entity: QboEntity | 'Customer' | 'CompanyInfo', where: string, label: string): Promise<T[]> {
    const res = await this.client.request<{ QueryResponse?: Record<string, unknown> }>({
      url: '/query',
      params: this.params({ query: `select * from ${entity}${where ? ` where ${where}` : ''} MAXRESULTS 1000` }),
      retrySafe: true,
      label,
    });
    const rows = res.data.QueryResponse?.[entity];
    return Array.isArray(rows) ? (rows as T[]) : [];
  }

  async byDocNumber(entity: QboEntity, numbers: string[]): Promise<Map<string, QboTxn>> {
    const out = new Map<string, QboTxn>();
    for (let i = 0; i < numbers.length; i += 30) {
      const part = numbers.slice(i, i + 30);
      const rows = await this.query<QboTxn>(entity, `DocNumber IN (${part.map(qLiteral).join(', ')})`, `find ${entity} by DocNumber`);
      for (const r of rows) if (r.DocNumber) out.set(r.DocNumber, r);
    }
    return out;
  }

  async byId(entity: QboEntity, ids: string[]): Promise<Map<string, QboTxn>> {
    const out = new Map<string, QboTxn>();
    for (let i = 0; i < ids.length; i += 30) {
      const part = ids.slice(i, i + 30);
      const rows = await this.query<QboTxn>(entity, `Id IN (${part.map(qLiteral).join(', ')})`, `read ${entity} by Id`);
      for (const r of rows) if (r.Id) out.set(r.Id, r);
    }
    return out;
  }

  /** Create (no Id) or full update (Id + SyncToken) of an estimate or credit memo, deduplicated by requestid. */
  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate#create-an-estimate
  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate#full-update-an-estimate
  async save(entity: QboEntity, body: QboTxn, requestid: string): Promise<QboTxn> {
    const res = await this.client.request<Record<string, QboTxn>>({
      method: 'POST',
      url: `/${PATH[entity]}`,
      params: this.params({ requestid }),
      data: body,
      retrySafe: true,
      label: `${body.Id ? 'update' : 'create'} ${entity}`,
    });
    const txn = res.data[entity];
    if (!txn?.Id)
      throw new ConnectorError('transient', `QuickBooks answered the ${entity} write without an ${entity}`, { connector: 'quickbooks' });
    return txn;
  }

  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate#delete-an-estimate
  async remove(entity: QboEntity, id: string, syncToken: string, requestid: string): Promise<void> {
    await this.client.request({
      method: 'POST',
      url: `/${PATH[entity]}`,
      params: this.params({ operation: 'delete', requestid }),
      data: { Id: id, SyncToken: syncToken },
      retrySafe: true,
      label: `delete ${entity}`,
    });
  }

  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer#query-a-customer
  async findCustomer(displayName: string): Promise<QboCustomer | undefined> {
    const rows = await this.query<QboCustomer>('Customer', `DisplayName = ${qLiteral(displayName)}`, 'find customer');
    return rows[0];
  }

  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer#create-a-customer
  async createCustomer(displayName: string, requestid: string): Promise<QboCustomer> {
    const res = await this.client.request<{ Customer?: QboCustomer }>({
      method: 'POST',
      url: '/customer',
      params: this.params({ requestid }),
      data: { DisplayName: displayName },
      retrySafe: true,
      label: 'create customer',
    });
    if (!res.data.Customer?.Id)
      throw new ConnectorError('transient', 'QuickBooks answered the customer create without a Customer', { connector: 'quickbooks' });
    return res.data.Customer;
  }

  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo#read-companyinfo
  async companyName(): Promise<string> {
    const res = await this.client.request<{ CompanyInfo?: { CompanyName?: string } }>({
      url: `/companyinfo/${this.realm}`,
      params: this.params(),
      retrySafe: true,
      label: 'read company info',
    });
    return res.data.CompanyInfo?.CompanyName ?? this.realm;
  }
}
