import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { xeroDestination } from '../../connectors/xero';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { draft, fakeTenant, line, rememberedFrom, writeCtx, xeroConfig } from './helpers';
import { describeIf } from '../support/runner';
import { vendorAvailable } from '../support/vendor';
import { XERO_OPENAPI_FILE, validateInvoicesRequest, xeroSchemas } from './openapi-validator';

// Xero's own OpenAPI description is vendor data, not part of the repository (test/support/vendor.ts).
const specAvailable = vendorAvailable(XERO_OPENAPI_FILE);

describeIf(specAvailable)("Request payloads against Xero's OpenAPI description", () => {
  let fake: FakeXero;
  beforeAll(async () => {
    fake = await startFakeXero({ tenants: [fakeTenant(81)] });
    fake.addContact('Acme Ltd');
  });
  afterAll(() => fake.stop());

  it('Given the vendored spec, when loaded, then the Invoice, LineItem and Contact schemas are there', () => {
    const s = xeroSchemas();
    expect(Object.keys(s.Invoice!.properties!)).toEqual(
      expect.arrayContaining(['Type', 'Contact', 'LineItems', 'InvoiceNumber', 'Reference', 'Status']),
    );
    expect(Object.keys(s.LineItem!.properties!)).toEqual(
      expect.arrayContaining(['Description', 'Quantity', 'UnitAmount', 'LineItemID', 'Tracking']),
    );
  });

  it('Given every setting in use (account, item, tax, 2 tracking categories, branding theme, inclusive amounts, 4 dp), when creating and then updating, then each request body the SDK sent is valid', async () => {
    const config = xeroConfig(fake, {
      defaults: {
        accountCode: '200',
        itemCode: 'CONSULT',
        taxType: 'OUTPUT2',
        lineAmountType: 'Inclusive',
        unitPriceDecimals: 4,
        tracking: [
          { name: 'Region', option: 'North' },
          { name: 'Team', option: 'Blue' },
        ],
        brandingThemeId: '5d4dd402-c851-497e-aae1-9ff265c0d15a',
        reference: '{{clientName}} {{period}}',
        invoiceNumber: 'HB-{{keyHash}}',
      },
    });
    const v1 = [draft(1, { lines: [line('a', '7.5', '95.1234'), line('b', '1', '10.00')] }), draft(2)];
    const first = await xeroDestination.write(config, v1, writeCtx());
    expect(first.every((o) => o.status === 'written')).toBe(true);
    const v2 = [draft(1, { lines: [line('a', '8', '95.1234'), line('b', '1', '10.00')] })];
    const second = await xeroDestination.write(config, v2, writeCtx(rememberedFrom(first, v1)));
    expect(second[0]!.status).toBe('written');

    const bodies = fake
      .apiRequests()
      .filter((r) => r.method !== 'GET' && /\/Invoices/.test(r.path))
      .map((r) => JSON.parse(r.body) as unknown);
    expect(bodies).toHaveLength(2);
    for (const b of bodies) expect(validateInvoicesRequest(b)).toEqual([]);
    const update = bodies[1] as { Invoices: { LineItems: { LineItemID?: string }[] }[] };
    expect(update.Invoices[0]!.LineItems.every((l) => typeof l.LineItemID === 'string')).toBe(true);
  });

  it('Given malformed invoices, when validated, then each problem is named (the validator can fail)', () => {
    const errors = validateInvoicesRequest({
      Invoices: [
        {
          Type: 'SALES',
          Contact: {},
          LineItems: [{ Description: '', Quantity: '2', UnitAmount: 1, LineAmount2: 3, Tracking: [{}, {}, {}] }],
          Status: 'DONE',
          Date: '01/04/2026',
          SubTotal: 3,
          BrandingThemeID: 'x',
        },
        { Contact: { ContactID: '5d4dd402-c851-497e-aae1-9ff265c0d15a' } },
      ],
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        'body.Invoices[0].Type: "SALES" is not one of 8 allowed values',
        'body.Invoices[0].LineItems[0].Quantity: expected a number',
        'body.Invoices[0].LineItems[0].LineAmount2: not a property of the schema',
        'body.Invoices[0].Status: "DONE" is not one of 6 allowed values',
        'body.Invoices[0].SubTotal: read-only property sent in a request',
        'body.Invoices[0].BrandingThemeID: not a uuid',
        'body.Invoices[0].Contact: needs ContactID, ContactNumber or Name',
        'body.Invoices[0].Date: expected YYYY-MM-DD',
        'body.Invoices[0].LineItems[0].Description: at least 1 character',
        'body.Invoices[0].LineItems[0].Tracking: at most 2',
        'body.Invoices[1].Type: required',
        'body.Invoices[1].LineItems: required',
      ]),
    );
  });
});
