import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { describeIf } from '../support/runner';
import { describeReport, einvoiceAvailable, einvoiceValidator } from '../support/einvoice';
import { vendorPath } from '../support/vendor';

/**
 * The validation every e-invoice test relies on, checked on the rule books' own examples: the
 * OpenPEPPOL examples pass all three checks, the CEN examples pass the XSD and EN 16931 (they
 * are not Peppol documents), and a tampered document fails with the rule it breaks.
 */
const available = einvoiceAvailable();
const examples = available ? readdirSync(vendorPath('einvoice/examples')).filter((f) => f.endsWith('.xml')) : [];
const example = (name: string) => readFileSync(vendorPath(`einvoice/examples/${name}`), 'utf8');

describeIf(available)('e-invoice validation (UBL 2.1 XSD, EN 16931, Peppol BIS 3)', () => {
  it('Given the official examples When validated Then the Peppol ones have no fatal assert and the CEN ones none outside the Peppol rules', async () => {
    const validator = await einvoiceValidator();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const name of examples) {
      const report = await validator.validate(example(name));
      const fatal = name.startsWith('peppol-') ? report.fatal : report.fatal.filter((f) => f.book !== 'peppol');
      expect(`${name}: ${describeReport({ failed: fatal, fatal })}`).toBe(`${name}: `);
    }
  }, 300_000);

  it('Given the base example with its PayableAmount changed When validated Then EN 16931 reports BR-CO-16 as fatal', async () => {
    const validator = await einvoiceValidator();
    const original = example('peppol-base-example.xml');
    const tampered = original.replace(
      /(<cbc:PayableAmount currencyID="EUR">)([^<]+)</,
      (_m, open: string, v: string) => `${open}${(Number(v) + 1).toFixed(2)}<`,
    );
    expect(tampered).not.toBe(original);
    const report = await validator.validate(tampered);
    expect(report.fatal.map((f) => [f.book, f.id])).toContainEqual(['en16931', 'BR-CO-16']);
  }, 300_000);

  it('Given a document that breaks the UBL schema When validated Then the XSD check reports it', async () => {
    const validator = await einvoiceValidator();
    const broken = example('peppol-base-example.xml').replace('<cbc:IssueDate>', '<cbc:NotAnElement>x</cbc:NotAnElement><cbc:IssueDate>');
    const report = await validator.validate(broken);
    expect(report.fatal.some((f) => f.book === 'xsd' && f.text.includes('NotAnElement'))).toBe(true);
  }, 300_000);
});

describe('e-invoice validation set-up', () => {
  it('Given this machine When asked Then it says whether the validation can run', () => {
    expect(typeof available).toBe('boolean');
  });
});
