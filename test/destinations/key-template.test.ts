import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { requireKeyInTemplate } from '../../src/destinations/key-template';

/** The refinement Xero (invoiceNumber), QuickBooks (docNumber) and Exact Online (yourRef) configs share. */
const schema = z
  .object({
    defaults: z.object({ invoiceNumber: z.string().optional() }),
    clients: z.record(z.string(), z.object({ invoiceNumber: z.string().optional() })),
  })
  .superRefine(requireKeyInTemplate('invoiceNumber', 'must name the key'));

describe('requireKeyInTemplate', () => {
  it('Given templates with {{key}}, {{ keyHash }} or none When parsed Then they are accepted', () => {
    expect(
      schema.safeParse({ defaults: { invoiceNumber: 'HB-{{key}}' }, clients: { acme: { invoiceNumber: 'A-{{ keyHash }}' }, b: {} } })
        .success,
    ).toBe(true);
    expect(schema.safeParse({ defaults: {}, clients: {} }).success).toBe(true);
  });

  it('Given a default and a client override without the key When parsed Then each is an issue at its own path', () => {
    const r = schema.safeParse({ defaults: { invoiceNumber: 'INV-{{period}}' }, clients: { acme: { invoiceNumber: 'fixed' } } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['defaults.invoiceNumber', 'must name the key'],
      ['clients.acme.invoiceNumber', 'must name the key'],
    ]);
  });
});
