import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { einvoiceReadiness } from '../../src/config/einvoice-readiness';
import { loadConfig } from '../../src/config/loader';
import { repoRoot } from '../support/vendor';

/** `hourbridge validate` lists, per client billed through an e-invoice destination, what its first e-invoice still lacks. */
describe('e-invoice readiness', () => {
  const example = readFileSync(path.join(repoRoot, 'config/example.yaml'), 'utf8').replace(
    '../example/hours.csv',
    path.join(repoRoot, 'example/hours.csv'),
  );
  const load = (yaml: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hb-readiness-'));
    try {
      writeFileSync(path.join(dir, 'c.yaml'), yaml);
      return loadConfig(path.join(dir, 'c.yaml'), {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('Given the example When checked Then Globex (billed through ubl) is ready and Acme (files) is not listed', () => {
    expect(einvoiceReadiness(load(example))).toEqual([{ client: 'globex', destination: 'einvoices', ready: true, missing: [] }]);
  });

  it('Given a client without buyer reference, endpoint and VAT When checked Then each missing field is named', () => {
    const yaml = example
      .replace('      buyerReference: GLX-OPS-2026\n', '')
      .replace('      endpoint: { id: DE123456789, scheme: "9930" }  # EAS 9930: German VAT number\n', '')
      .replace('    vat: { category: AE, exemptionReason: Reverse charge }\n', '');
    expect(yaml).not.toContain('GLX-OPS');
    expect(einvoiceReadiness(load(yaml))).toEqual([
      {
        client: 'globex',
        destination: 'einvoices',
        ready: false,
        missing: [
          'clients[globex].vat: the VAT category and rate of its lines',
          'clients[globex].buyer.endpoint (Peppol electronic address, PEPPOL-EN16931-R010)',
          'clients[globex].buyer.buyerReference or orderReference (PEPPOL-EN16931-R003)',
        ],
      },
    ]);
  });

  it('Given a reverse-charge client whose buyer has no VAT id When checked Then the VAT id is asked for', () => {
    const yaml = example.replace('      vatId: DE123456789\n', '');
    expect(einvoiceReadiness(load(yaml))[0]!.missing).toEqual([
      'clients[globex].buyer.vatId (reverse charge and intra-community supply: BR-AE-02, BR-K-02)',
    ]);
  });
});
