import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import SaxonJS from 'saxon-js';
import { repoRoot, requireVendor, vendorAvailable, vendorPath } from './vendor';

/**
 * The official e-invoice validation, as a Peppol access point applies it (vendor folder
 * `einvoice/`, see its SOURCE.md):
 *   1. the OASIS UBL 2.1 XSD (xmllint, Debian package libxml2-utils);
 *   2. the CEN EN 16931 business rules for UBL (Schematron compiled to XSLT);
 *   3. the OpenPEPPOL BIS Billing 3.0 rules (likewise).
 * The XSLTs run in SaxonJS, which executes compiled stylesheets (SEF): each is compiled once
 * with xslt3 into node_modules/.cache/hourbridge/einvoice, named by the XSLT's SHA-256, so a
 * new rule release compiles again by itself and nothing compiled is ever committed.
 */

export const EINVOICE_FILES = {
  en16931: 'einvoice/en16931/EN16931-UBL-validation.xslt',
  peppol: 'einvoice/peppol-bis3/PEPPOL-EN16931-UBL.xslt',
  invoiceXsd: 'einvoice/ubl-2.1-xsd/maindoc/UBL-Invoice-2.1.xsd',
  creditNoteXsd: 'einvoice/ubl-2.1-xsd/maindoc/UBL-CreditNote-2.1.xsd',
} as const;

export interface FailedAssert {
  /** Rule id, e.g. BR-CO-16, PEPPOL-EN16931-R003; `XSD` for a schema error. */
  id: string;
  flag: string;
  text: string;
  location: string;
  /** Which rule book reported it. */
  book: 'xsd' | 'en16931' | 'peppol';
}

export interface EinvoiceReport {
  /** Every failed assert of the three checks. */
  failed: FailedAssert[];
  /** The ones that reject the document (schema errors and asserts flagged fatal). */
  fatal: FailedAssert[];
}

export interface EinvoiceValidator {
  validate(xml: string): Promise<EinvoiceReport>;
}

const execFileAsync = promisify(execFile);

function hasXmllint(): boolean {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * True when the rule books and xmllint are there. Missing vendor files behave as vendorAvailable
 * says (skip with a warning; an error under HOURBRIDGE_REQUIRE_VENDOR=1), and so does a missing
 * xmllint (`apt-get install -y libxml2-utils`).
 */
export function einvoiceAvailable(): boolean {
  if (!vendorAvailable(...Object.values(EINVOICE_FILES))) return false;
  if (hasXmllint()) return true;
  const message = 'xmllint is not installed (Debian/Ubuntu: apt-get install -y libxml2-utils); the UBL 2.1 XSD check needs it.';
  if (requireVendor) throw new Error(`${message} (HOURBRIDGE_REQUIRE_VENDOR=1: the tests that need it fail instead of skipping)`);
  console.warn(`Skipping the e-invoice validation tests: ${message}`);
  return false;
}

const cacheDir = path.join(repoRoot, 'node_modules/.cache/hourbridge/einvoice');

/** The SEF of an XSLT, compiled on first use (15–30 s) and kept in the cache by the XSLT's hash. */
async function compiled(xslt: string): Promise<unknown> {
  const hash = createHash('sha256').update(readFileSync(xslt)).digest('hex').slice(0, 24);
  const sef = path.join(cacheDir, `${path.basename(xslt, '.xslt')}-${hash}.sef.json`);
  if (!existsSync(sef)) {
    mkdirSync(cacheDir, { recursive: true });
    // Written beside and renamed, so a parallel test file never reads half a stylesheet.
    const tmp = `${sef}.${process.pid}.tmp`;
    await execFileAsync(process.execPath, [path.join(repoRoot, 'node_modules/xslt3/xslt3.js'), `-xsl:${xslt}`, `-export:${tmp}`, '-nogo'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    renameSync(tmp, sef);
  }
  return JSON.parse(readFileSync(sef, 'utf8'));
}

const svrlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  isArray: (name) => name === 'failed-assert',
});

interface SvrlAssert {
  id?: string;
  flag?: string;
  location?: string;
  text?: string | { '#text'?: string };
}

function failedAsserts(svrl: string, book: 'en16931' | 'peppol'): FailedAssert[] {
  const doc = svrlParser.parse(svrl) as { 'schematron-output'?: { 'failed-assert'?: SvrlAssert[] } };
  return (doc['schematron-output']?.['failed-assert'] ?? []).map((a) => ({
    id: a.id ?? '?',
    flag: a.flag ?? 'fatal',
    text: (typeof a.text === 'string' ? a.text : (a.text?.['#text'] ?? '')).trim(),
    location: a.location ?? '',
    book,
  }));
}

/** xmllint against the UBL 2.1 schema of the document's root element (Invoice or CreditNote). */
function xsdErrors(xml: string): Promise<FailedAssert[]> {
  const root = /<(?:\w+:)?(Invoice|CreditNote)[\s>]/.exec(xml)?.[1];
  if (!root)
    return Promise.resolve([
      { id: 'XSD', flag: 'fatal', text: 'root element is neither Invoice nor CreditNote', location: '/', book: 'xsd' },
    ]);
  const xsd = vendorPath(root === 'Invoice' ? EINVOICE_FILES.invoiceXsd : EINVOICE_FILES.creditNoteXsd);
  return new Promise((resolve, reject) => {
    const child = spawn('xmllint', ['--noout', '--nonet', '--schema', xsd, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve([]);
      const lines = stderr.split('\n').filter((l) => l.trim() && !/ fails to validate$/.test(l));
      resolve(
        (lines.length ? lines : [`xmllint exit ${code}`]).map((text) => ({ id: 'XSD', flag: 'fatal', text, location: '', book: 'xsd' })),
      );
    });
    child.stdin.end(xml, 'utf8');
  });
}

let shared: Promise<EinvoiceValidator> | undefined;

/** One validator per process: the stylesheets are compiled (or read from the cache) once. */
export function einvoiceValidator(): Promise<EinvoiceValidator> {
  shared ??= (async () => {
    const en16931 = await compiled(vendorPath(EINVOICE_FILES.en16931));
    const peppol = await compiled(vendorPath(EINVOICE_FILES.peppol));
    const run = (stylesheet: unknown, xml: string, book: 'en16931' | 'peppol') => {
      const { principalResult } = SaxonJS.transform({ stylesheetInternal: stylesheet, sourceText: xml, destination: 'serialized' }, 'sync');
      return failedAsserts(String(principalResult), book);
    };
    return {
      async validate(xml: string): Promise<EinvoiceReport> {
        // xmllint runs in its own process while the rule books run here.
        const xsdRun = xsdErrors(xml);
        const rules = [...run(en16931, xml, 'en16931'), ...run(peppol, xml, 'peppol')];
        const failed = [...(await xsdRun), ...rules];
        return { failed, fatal: failed.filter((f) => f.flag === 'fatal') };
      },
    };
  })();
  return shared;
}

/** A report as text for a failing expectation: one line per failed assert. */
export function describeReport(report: EinvoiceReport): string {
  return report.failed.map((f) => `${f.flag} ${f.book} ${f.id}: ${f.text} (${f.location})`).join('\n');
}
