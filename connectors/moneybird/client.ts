import { createHash } from 'node:crypto';
import { createHttpClient, type HttpClient } from '../../src/http/client';
import type { RateLimiter } from '../../src/http/rate-limit';
import { retryPolicy } from '../../src/http/settings';
import type { ConnectorContext, DestinationServices } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import type { MoneybirdConfig } from './config.schema';
import type { MoneybirdContact, MoneybirdSalesInvoice, MoneybirdSalesInvoiceInput } from './types';

/**
 * The Moneybird calls Hourbridge makes, each under the doc page that describes it. Every call
 * goes through the shared HTTP layer (decideRetry: 429 waits for Retry-After, 5xx and no answer
 * are retried with backoff) and the token's request budget (`moneybirdBudget`, 150 per 5
 * minutes), shared by every worker process through Redis in the queue runner. A create is never retried blindly: `create` makes
 * one attempt, and the caller looks the invoice up by its reference before another (push.ts).
 */
export interface MoneybirdApi {
  readonly calls: () => number;
  administrations(): Promise<{ id: string; name: string }[]>;
  taxRates(): Promise<{ id: string; name: string; percentage: string; active?: boolean }[]>;
  ledgerAccounts(): Promise<{ id: string; name: string; account_type?: string }[]>;
  findContactByCustomerId(customerId: string): Promise<MoneybirdContact | undefined>;
  createContact(name: string, customerId: string): Promise<MoneybirdContact>;
  findInvoicesByReference(references: string[], period: string): Promise<MoneybirdSalesInvoice[]>;
  getInvoice(id: string): Promise<MoneybirdSalesInvoice | undefined>;
  createInvoice(invoice: MoneybirdSalesInvoiceInput): Promise<MoneybirdSalesInvoice>;
  updateInvoice(id: string, invoice: MoneybirdSalesInvoiceInput): Promise<MoneybirdSalesInvoice>;
  deleteInvoice(id: string): Promise<void>;
  invoicesByIds(ids: string[]): Promise<MoneybirdSalesInvoice[]>;
}

function clients(config: MoneybirdConfig, ctx: ConnectorContext, budget: RateLimiter): { http: HttpClient; once: HttpClient } {
  const common = {
    connector: 'moneybird',
    baseUrl: config.baseUrl,
    headers: { Authorization: `Bearer ${config.token}`, 'Content-Type': 'application/json' },
    secrets: [config.token, config.webhookToken],
    authHint: `the API token of destination "${config.id}" (MONEYBIRD_API_TOKEN) and its access to administration ${config.administrationId}`,
    limiter: budget,
    timeoutMs: config.timeoutMs,
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  const policy = retryPolicy(config.retry);
  return {
    http: createHttpClient({ ...common, retry: policy }),
    // A create's outcome is unknown after a timeout or a 5xx: one attempt, then a look-up.
    once: createHttpClient({ ...common, retry: { ...policy, maxAttempts: 1 } }),
  };
}

/**
 * The request budget: Moneybird's limit counts per API token, whatever the administration
 * (https://helpcenter.moneybird.nl/nl/articles/208028-api-token-limiet), so the budget is keyed
 * by a digest of the token (never the token itself) and shared by every worker process.
 */
export function moneybirdBudget(config: MoneybirdConfig, services: Pick<DestinationServices, 'budget'>): RateLimiter {
  const tokenDigest = createHash('sha256').update(config.token).digest('hex').slice(0, 16);
  return services.budget(`token:${tokenDigest}`, config.rateLimit.requests, config.rateLimit.perSeconds * 1000);
}

export function moneybirdApi(config: MoneybirdConfig, ctx: ConnectorContext, budget: RateLimiter): MoneybirdApi {
  const { http, once } = clients(config, ctx, budget);
  const adm = config.administrationId;
  const notFound = (e: unknown) => e instanceof ConnectorError && e.details.status === 404;
  return {
    calls: () => http.stats.calls + once.stats.calls,

    // GET /administrations.json — https://developer.moneybird.com/api/administration/
    async administrations() {
      const res = await http.request<{ id: string; name: string }[]>({ url: 'administrations.json' });
      return res.data;
    },

    // GET /:administration_id/tax_rates.json — https://developer.moneybird.com/api/tax_rates/
    async taxRates() {
      return (await http.request<{ id: string; name: string; percentage: string; active?: boolean }[]>({ url: `${adm}/tax_rates.json` }))
        .data;
    },

    // GET /:administration_id/ledger_accounts.json — https://developer.moneybird.com/api/ledger_accounts/
    async ledgerAccounts() {
      return (await http.request<{ id: string; name: string; account_type?: string }[]>({ url: `${adm}/ledger_accounts.json` })).data;
    },

    // GET /:administration_id/contacts/customer_id/:customer_id.json — https://developer.moneybird.com/api/contacts/
    // ("Find existing contact by external customer ID", https://developer.moneybird.com/integration/creating-sales-invoices)
    async findContactByCustomerId(customerId) {
      try {
        return (await http.request<MoneybirdContact>({ url: `${adm}/contacts/customer_id/${encodeURIComponent(customerId)}.json` })).data;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },

    // POST /:administration_id/contacts.json — https://developer.moneybird.com/api/contacts/
    // (customer_id holds our client id, https://developer.moneybird.com/integration/creating-sales-invoices)
    async createContact(name, customerId) {
      const res = await http.request<MoneybirdContact>({
        method: 'POST',
        url: `${adm}/contacts.json`,
        data: { contact: { company_name: name, customer_id: customerId } },
      });
      return res.data;
    },

    // GET /:administration_id/sales_invoices.json?filter=reference:a|b,state:all,period:… — https://developer.moneybird.com/api/sales_invoices/
    // (filter "reference", several separated by a pipe; period defaults to this_year, so it is given)
    async findInvoicesByReference(references, period) {
      const res = await http.request<MoneybirdSalesInvoice[]>({
        url: `${adm}/sales_invoices.json`,
        params: { filter: `reference:${references.join('|')},state:all,period:${period}`, per_page: 100 },
      });
      return res.data;
    },

    // GET /:administration_id/sales_invoices/:id.json — https://developer.moneybird.com/api/sales_invoices/
    async getInvoice(id) {
      try {
        return (await http.request<MoneybirdSalesInvoice>({ url: `${adm}/sales_invoices/${id}.json` })).data;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    },

    // POST /:administration_id/sales_invoices.json — https://developer.moneybird.com/api/sales_invoices/
    // (created in state draft; details_attributes with tax_rate_id and ledger_account_id,
    // https://developer.moneybird.com/integration/creating-sales-invoices)
    async createInvoice(invoice) {
      const res = await once.request<MoneybirdSalesInvoice>({
        method: 'POST',
        url: `${adm}/sales_invoices.json`,
        data: { sales_invoice: invoice },
      });
      return res.data;
    },

    // PATCH /:administration_id/sales_invoices/:id.json — https://developer.moneybird.com/api/sales_invoices/
    // (details_attributes: `id` updates a detail, `_destroy: true` removes it; the same body again gives the same draft)
    async updateInvoice(id, invoice) {
      const res = await http.request<MoneybirdSalesInvoice>({
        method: 'PATCH',
        url: `${adm}/sales_invoices/${id}.json`,
        data: { sales_invoice: invoice },
      });
      return res.data;
    },

    // DELETE /:administration_id/sales_invoices/:id.json — https://developer.moneybird.com/api/sales_invoices/
    async deleteInvoice(id) {
      try {
        await http.request({ method: 'DELETE', url: `${adm}/sales_invoices/${id}.json` });
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },

    // POST /:administration_id/sales_invoices/synchronization.json {ids} — https://developer.moneybird.com/api/sales_invoices/
    // (the synchronization endpoint: at most 100 invoices per call)
    async invoicesByIds(ids) {
      const out: MoneybirdSalesInvoice[] = [];
      for (let i = 0; i < ids.length; i += 100) {
        const res = await http.request<MoneybirdSalesInvoice[]>({
          method: 'POST',
          url: `${adm}/sales_invoices/synchronization.json`,
          data: { ids: ids.slice(i, i + 100) },
        });
        out.push(...res.data);
      }
      return out;
    },
  };
}
