import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { vendorPath } from '../support/vendor';

/**
 * A small structural validator over the component schemas of Xero's own OpenAPI description
 * (XeroAPI/Xero-OpenAPI xero_accounting.yaml, read from the vendor folder: see test/support/vendor.ts).
 * It covers what those schemas use for requests: $ref, type, properties, items, enum,
 * maxLength, format uuid, readOnly. Beyond the spec it refuses properties the schema does not
 * define (xero-node would drop them silently) and enforces the required fields the spec omits.
 */

/** The spec, relative to the vendor folder. */
export const XERO_OPENAPI_FILE = 'xero-openapi/xero_accounting.yaml';

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  maxLength?: number;
  format?: string;
  readOnly?: boolean;
}

let cached: Record<string, Schema> | undefined;
export function xeroSchemas(): Record<string, Schema> {
  cached ??= (parse(readFileSync(vendorPath(XERO_OPENAPI_FILE), 'utf8')) as { components: { schemas: Record<string, Schema> } }).components
    .schemas;
  return cached;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function resolve(s: Schema): { schema: Schema; name?: string } {
  if (!s.$ref) return { schema: s };
  const name = s.$ref.replace('#/components/schemas/', '');
  const target = xeroSchemas()[name];
  if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
  // A $ref with siblings (e.g. `$ref: LineAmountTypes` + `type: string`): the target wins.
  return { schema: target, name };
}

export function validate(value: unknown, schema: Schema, at: string, errors: string[]): void {
  const { schema: s } = resolve(schema);
  if (s.readOnly) errors.push(`${at}: read-only property sent in a request`);
  if (s.enum && !s.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${s.enum.length} allowed values`);
  const type = s.type ?? (s.properties ? 'object' : undefined);
  switch (type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return void errors.push(`${at}: expected an object`);
      for (const [k, v] of Object.entries(value)) {
        const prop = s.properties?.[k];
        if (!prop) errors.push(`${at}.${k}: not a property of the schema`);
        else validate(v, prop, `${at}.${k}`, errors);
      }
      return;
    }
    case 'array':
      if (!Array.isArray(value)) return void errors.push(`${at}: expected an array`);
      value.forEach((v, i) => {
        validate(v, s.items ?? {}, `${at}[${i}]`, errors);
      });
      return;
    case 'string':
      if (typeof value !== 'string') return void errors.push(`${at}: expected a string`);
      if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
      if (s.format === 'uuid' && !UUID.test(value)) errors.push(`${at}: not a uuid`);
      return;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) errors.push(`${at}: expected a number`);
      if (type === 'integer' && !Number.isInteger(value)) errors.push(`${at}: expected an integer`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${at}: expected a boolean`);
      return;
    default:
      return;
  }
}

/** Validate a PUT/POST /Invoices request body: the `Invoices` schema plus what Xero needs for a sales draft. */
export function validateInvoicesRequest(body: unknown): string[] {
  const errors: string[] = [];
  validate(body, { $ref: '#/components/schemas/Invoices' }, 'body', errors);
  const invoices = (body as { Invoices?: Record<string, unknown>[] }).Invoices;
  if (!Array.isArray(invoices) || invoices.length === 0) errors.push('body.Invoices: required, non-empty');
  (invoices ?? []).forEach((inv, i) => {
    const at = `body.Invoices[${i}]`;
    for (const k of ['Type', 'Contact', 'LineItems']) if (inv[k] === undefined) errors.push(`${at}.${k}: required`);
    const contact = inv.Contact as Record<string, unknown> | undefined;
    if (contact && !contact.ContactID && !contact.ContactNumber && !contact.Name)
      errors.push(`${at}.Contact: needs ContactID, ContactNumber or Name`);
    for (const k of ['Date', 'DueDate'])
      if (inv[k] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(inv[k]))) errors.push(`${at}.${k}: expected YYYY-MM-DD`);
    const lines = (inv.LineItems as Record<string, unknown>[] | undefined) ?? [];
    if (lines.length === 0) errors.push(`${at}.LineItems: at least one line`);
    lines.forEach((l, j) => {
      for (const k of ['Description', 'Quantity', 'UnitAmount'])
        if (l[k] === undefined) errors.push(`${at}.LineItems[${j}].${k}: required`);
      if (typeof l.Description === 'string' && l.Description.length < 1)
        errors.push(`${at}.LineItems[${j}].Description: at least 1 character`);
      if (Array.isArray(l.Tracking) && l.Tracking.length > 2) errors.push(`${at}.LineItems[${j}].Tracking: at most 2`);
    });
  });
  return errors;
}
