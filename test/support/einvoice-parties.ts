import type { BuyerParty, SellerParty } from '../../src/domain/party';

/** Example parties of e-invoice tests: a Dutch seller and buyer with the ids the Peppol NL rules ask for (made-up numbers). */
export const exampleSeller: SellerParty = {
  legalName: 'Hourbridge Demo B.V.',
  vatId: 'NL123456789B01',
  companyId: { id: '12345678', scheme: '0106' },
  endpoint: { id: '12345678', scheme: '0106' },
  address: { street: 'Keizersgracht 100', city: 'Amsterdam', postalCode: '1015 CJ', country: 'NL' },
  contact: { email: 'billing@example.com' },
  iban: 'NL91ABNA0417164300',
};

export const exampleBuyer: BuyerParty = {
  legalName: 'Acme B.V.',
  vatId: 'NL987654321B01',
  companyId: { id: '87654321', scheme: '0106' },
  endpoint: { id: '87654321', scheme: '0106' },
  address: { street: 'Stationsplein 1', city: 'Utrecht', postalCode: '3511 ED', country: 'NL' },
  buyerReference: 'PO-2026-0042',
};
