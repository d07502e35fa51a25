import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readUbl } from '../../connectors/ubl/read-ubl';
import { ublFileName } from '../../connectors/ubl/index';
import { describeReport, einvoiceAvailable, einvoiceValidator } from '../support/einvoice';
import { describeIf } from '../support/runner';
import { describeDestinationConformance, type RemoteDocument } from './conformance';

/**
 * The UBL destination: a draft is `<key>.xml`, a Peppol BIS 3 Invoice or CreditNote. Like the
 * file destination it has no approval step, no network and no tax read-back in Xero's terms, so
 * those cases are skipped. Every document the suite looks at is validated with the official
 * rule books first (0 fatal asserts) and read back for its figures.
 */
let dir = '';
let writes = 0;
let seen = new Map<string, number>();

function countWrites(): number {
  for (const f of readdirSync(dir)) {
    const at = statSync(path.join(dir, f)).mtimeMs;
    if (seen.get(f) !== at) {
      seen.set(f, at);
      writes++;
    }
  }
  return writes;
}

const seller = `seller:
  legalName: Hourbridge Demo B.V.
  vatId: NL123456789B01
  companyId: { id: "12345678", scheme: "0106" }
  endpoint: { id: "12345678", scheme: "0106" }
  address: { street: Keizersgracht 100, city: Amsterdam, postalCode: 1015 CJ, country: NL }
  iban: NL91ABNA0417164300
`;
const client = `    vat: { category: S, rate: 21 }
    buyer:
      vatId: NL987654321B01
      companyId: { id: "87654321", scheme: "0106" }
      endpoint: { id: "87654321", scheme: "0106" }
      address: { street: Stationsplein 1, city: Utrecht, postalCode: 3511 ED, country: NL }
      buyerReference: PO-2026-0042
`;

const available = einvoiceAvailable();

describeIf(available)('ubl', () => {
  describeDestinationConformance('ubl', {
    async start() {
      dir = mkdtempSync(path.join(tmpdir(), 'hb-ubl-dest-'));
      writes = 0;
      seen = new Map();
    },
    async stop() {
      rmSync(dir, { recursive: true, force: true });
    },
    destinationYaml: () => `  - id: dest\n    kind: ubl\n    dir: ${dir}`,
    extraYaml: { top: seller, client },
    env: () => ({}),
    async documents(key): Promise<RemoteDocument[]> {
      let xml: string;
      try {
        xml = readFileSync(path.join(dir, ublFileName(key)), 'utf8');
      } catch {
        return [];
      }
      const report = await (await einvoiceValidator()).validate(xml);
      if (report.fatal.length > 0) throw new Error(`${key} is not a valid e-invoice:\n${describeReport(report)}`);
      const doc = readUbl(xml);
      return [{ id: doc.id, type: doc.type, status: 'DRAFT', net: doc.net, lines: doc.lines.length }];
    },
    writes: () => countWrites(),
    clearFaults() {},
  });
});
