/**
 * Downloads the vendor data the tests check Hourbridge against (Xero's OpenAPI description, the
 * EN 16931 / Peppol BIS 3 rule books, the OASIS UBL 2.1 schemas and the official example
 * invoices) from their public origins, at pinned commits, and verifies each file's SHA-256.
 *
 *   npm run vendor:fetch                 download what is missing or differs
 *   npm run vendor:fetch -- --check      only verify the vendor folder the tests use (no network)
 *   npm run vendor:fetch -- --force      download every file again
 *   npm run vendor:fetch -- --origin URL download from a mirror laid out as <URL>/<owner>/<repo>/<commit>/<path>
 *
 * Files go to HOURBRIDGE_VENDOR_DIR when it is set, else to .vendor/ in the clone (ignored by
 * git), which is where the tests look when neither HOURBRIDGE_VENDOR_DIR nor a shared/vendor
 * folder beside the clone is there (test/support/vendor.ts). Nothing here is copied into the
 * repository: the licences are the vendors' (see SOURCES.md written next to the files).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultFetchDir, repoRoot, vendorDir } from '../test/support/vendor';

interface Origin {
  repo: string;
  commit: string;
}
interface VendorFile {
  /** Path in the vendor folder. */
  file: string;
  from: Origin;
  /** Path in the origin repository at its commit. */
  path: string;
  sha256: string;
  bytes: number;
}

const XERO: Origin = { repo: 'XeroAPI/Xero-OpenAPI', commit: 'e952d0bda3628facbf7afc5990ad6a0e7e77bd1e' };
const EN16931: Origin = { repo: 'ConnectingEurope/eInvoicing-EN16931', commit: 'b6c9e06a59812fb1a83585da40923b3678a649ad' };
const PHIVE: Origin = { repo: 'phax/phive-rules', commit: '432f0e9a8cff5c03d06625abe7a5fd8e7e346a64' };
const UBL: Origin = { repo: 'kduvekot/ubl-release-package', commit: '69d9f20189fe7fa551dcc59f17d8480e70cda970' };
const PEPPOL_BIS: Origin = { repo: 'OpenPEPPOL/peppol-bis-invoice-3', commit: '78d7f7dfa223f39f8ebd8d35c127f2690e646322' };

/** Every file, where it comes from, and its SHA-256 (the same bytes as the origin's blob at that commit). */
export const VENDOR_FILES: readonly VendorFile[] = [
  {
    file: 'xero-openapi/LICENSE',
    from: XERO,
    path: 'LICENSE',
    sha256: 'bba099837eebad6285316c845c2897dd7df620ee7da7003e3120381c125f1084',
    bytes: 1075,
  },
  {
    file: 'xero-openapi/xero-identity.yaml',
    from: XERO,
    path: 'xero-identity.yaml',
    sha256: 'd95f4204d8ec369dac2bb1ee6e6b8cfb88f845a09cbcba630475dd34c73cf2bd',
    bytes: 5329,
  },
  {
    file: 'xero-openapi/xero-webhooks.yaml',
    from: XERO,
    path: 'xero-webhooks.yaml',
    sha256: '822244b387a8e26ca948abd338cbee419b6167408ad615582802346587ed7eac',
    bytes: 10957,
  },
  {
    file: 'xero-openapi/xero_accounting.yaml',
    from: XERO,
    path: 'xero_accounting.yaml',
    sha256: '140f64f8e6bd2d8524b8ffdbffd08589d417efa5466ba57bfa04939a69ff6db8',
    bytes: 926459,
  },
  {
    file: 'einvoice/en16931/EN16931-UBL-validation.xslt',
    from: EN16931,
    path: 'ubl/xslt/EN16931-UBL-validation.xslt',
    sha256: '39f9d282867f1a49e7708d9e29a53da89643e1ee56f10cec1ebcf1277595fcbd',
    bytes: 895489,
  },
  {
    file: 'einvoice/en16931/LICENSE-EUPL-1.2.txt',
    from: EN16931,
    path: 'LICENSE.txt',
    sha256: 'fc22ec1dcd8bee4636a395fb332e2308cde870fb3fdc71a2e260b919877cdef5',
    bytes: 13871,
  },
  {
    file: 'einvoice/examples/en16931-creditnote1.xml',
    from: EN16931,
    path: 'ubl/examples/ubl-tc434-creditnote1.xml',
    sha256: '911d7ac2cb4fa72d21331c76914468e7d94eda03629e0def75c64ab18e3e9dce',
    bytes: 4935,
  },
  {
    file: 'einvoice/examples/en16931-example1.xml',
    from: EN16931,
    path: 'ubl/examples/ubl-tc434-example1.xml',
    sha256: '507a03e3c45761c435cf81e4a32097bedb3cb9b724572a9989028a4dfc2c7b51',
    bytes: 21501,
  },
  {
    file: 'einvoice/peppol-bis3/PEPPOL-EN16931-UBL.xslt',
    from: PHIVE,
    path: 'phive-rules-peppol/src/main/resources/external/schematron/openpeppol/2025.11/xslt/PEPPOL-EN16931-UBL.xslt',
    sha256: '8cb23ec7a39772d5450d4e610f32651766fd41f86cdc53e9208c5eec6e5fab37',
    bytes: 210390,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/CCTS_CCT_SchemaModule-2.1.xsd',
    from: UBL,
    path: 'xsd/common/CCTS_CCT_SchemaModule-2.1.xsd',
    sha256: 'dd546e4809df86b6445589f69f0d6c9df162840ae386574ddfc1da7638103e15',
    bytes: 45268,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-CommonAggregateComponents-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-CommonAggregateComponents-2.1.xsd',
    sha256: '939172ad8dd057cd403e7f763f6532184dd5ed4b9de24c42ebb35db4792ba613',
    bytes: 2420444,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-CommonBasicComponents-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-CommonBasicComponents-2.1.xsd',
    sha256: 'bd4ad043ee1d9da1c7f8018dabf739cfafdfb59143d0d16b9ef769e6b7c408a7',
    bytes: 219895,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-CommonExtensionComponents-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-CommonExtensionComponents-2.1.xsd',
    sha256: 'ad7a4e490978adfbcfc5ec0bb20941cf11ac960ccf0c4de8791a7c731a8dbe87',
    bytes: 9491,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-CommonSignatureComponents-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-CommonSignatureComponents-2.1.xsd',
    sha256: '3db472305f029bba5c1ae157bfd0178f715c3f9b94bd8e6c557dbce5e88da874',
    bytes: 5548,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-CoreComponentParameters-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-CoreComponentParameters-2.1.xsd',
    sha256: '8be3379dbdcbcc7802fafdd16bac72c48fff1c0bb364213a31a17911dd06100b',
    bytes: 3173,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-ExtensionContentDataType-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-ExtensionContentDataType-2.1.xsd',
    sha256: 'fcee77a11870208e6377ea6311b9f2a050bca24bdad8606ea02d71e9f9e72f8d',
    bytes: 4314,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-QualifiedDataTypes-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-QualifiedDataTypes-2.1.xsd',
    sha256: '7dcb156e610239c97ae70940cf4653b88e48c3595bf5f56a2204a32e2893e6cf',
    bytes: 3590,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-SignatureAggregateComponents-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-SignatureAggregateComponents-2.1.xsd',
    sha256: '17bb6b62d709b4fd81449a37655af36aa6a1276ad4fdb1b2e249a5ed4b7c2172',
    bytes: 7784,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-SignatureBasicComponents-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-SignatureBasicComponents-2.1.xsd',
    sha256: 'cef924d7ba3d1d8ade14469325cde1364f8c174e46f0198ec02da8e9e748a489',
    bytes: 4207,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-UnqualifiedDataTypes-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-UnqualifiedDataTypes-2.1.xsd',
    sha256: '09052d406b4293e2a5f9c2bfee6df10ad4d8d5f0b36e24a6349d7f7936d89eb6',
    bytes: 27300,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-XAdESv132-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-XAdESv132-2.1.xsd',
    sha256: 'a4f726bcf8cc3f7d9ffa4dab99e005535a8e8b60dced1e5d94578d2e05afa96e',
    bytes: 21664,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-XAdESv141-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-XAdESv141-2.1.xsd',
    sha256: '1fa4625e9cefcb7a9abb5ac1b64315547450031eece8a55bd584e4ba4b79dbc1',
    bytes: 1316,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/common/UBL-xmldsig-core-schema-2.1.xsd',
    from: UBL,
    path: 'xsd/common/UBL-xmldsig-core-schema-2.1.xsd',
    sha256: '101909c9f06456d61ddcc4fb982f1d40dc357b439f393b1a2eb46e42acd60809',
    bytes: 10750,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/maindoc/UBL-CreditNote-2.1.xsd',
    from: UBL,
    path: 'xsd/maindoc/UBL-CreditNote-2.1.xsd',
    sha256: 'a54651b1225052f811bf2ba01346f13f2454e7cc3e0be290c91dd680dc7b7b1a',
    bytes: 57697,
  },
  {
    file: 'einvoice/ubl-2.1-xsd/maindoc/UBL-Invoice-2.1.xsd',
    from: UBL,
    path: 'xsd/maindoc/UBL-Invoice-2.1.xsd',
    sha256: '40fae8cb436f3a9506d7acce65ba162caef3b0bed4d5cbc0992b2153ded4edf4',
    bytes: 60178,
  },
  {
    file: 'einvoice/examples/peppol-Allowance-example.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/Allowance-example.xml',
    sha256: 'aa3df18eb8c634624637eb229891d989c5cfb7cd0d08894ff8e58c58f247ea5b',
    bytes: 16136,
  },
  {
    file: 'einvoice/examples/peppol-Vat-category-S.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/Vat-category-S.xml',
    sha256: '59f96ae9a77ed3eda4ac17f499994fbd1b050432edf3bb8c117d7f3bca8d5f95',
    bytes: 12456,
  },
  {
    file: 'einvoice/examples/peppol-base-creditnote-correction.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/base-creditnote-correction.xml',
    sha256: '08e0ad82e0dbe7e16d7533c01761843343a56954ea24881d0f7f1cce06f8879e',
    bytes: 9462,
  },
  {
    file: 'einvoice/examples/peppol-base-example.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/base-example.xml',
    sha256: '1b7cc3ff1834c8963f2c93f30f171b58002cbf0b2c52dc8765e7e83aebb9f7c9',
    bytes: 9228,
  },
  {
    file: 'einvoice/examples/peppol-base-negative-inv-correction.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/base-negative-inv-correction.xml',
    sha256: '000781ee8cb7794a140bb1308f7f7a2c9ded3623571b4297aef38423971ab5a4',
    bytes: 9412,
  },
  {
    file: 'einvoice/examples/peppol-vat-category-E.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/vat-category-E.xml',
    sha256: 'c699bb2bd290be769e082796873a528265bb5717285562feac030f0065e34742',
    bytes: 5174,
  },
  {
    file: 'einvoice/examples/peppol-vat-category-O.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/vat-category-O.xml',
    sha256: 'effff0baac622e1486c34240f06b9361cf58aaedbca44ac65826f1171d78f925',
    bytes: 4907,
  },
  {
    file: 'einvoice/examples/peppol-vat-category-Z.xml',
    from: PEPPOL_BIS,
    path: 'rules/examples/vat-category-Z.xml',
    sha256: '8dc6155288fb28daeead6adbf40c9c68a86a8a770c7bfc2bab8ee40b4e920f9a',
    bytes: 5090,
  },
];

const DEFAULT_ORIGIN = 'https://raw.githubusercontent.com';
const TIMEOUT_MS = 60_000;
const ATTEMPTS = 3;
const PARALLEL = 4;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const urlOf = (origin: string, f: VendorFile) => `${origin.replace(/\/+$/, '')}/${f.from.repo}/${f.from.commit}/${f.path}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What is wrong with the local copy of `f` in `dir`, or undefined when it is the pinned file. */
function problemWith(dir: string, f: VendorFile): string | undefined {
  const at = path.join(dir, f.file);
  if (!existsSync(at)) return 'missing';
  const actual = sha256(readFileSync(at));
  return actual === f.sha256 ? undefined : `SHA-256 ${actual.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…`;
}

/** A network failure in words: Node's fetch puts the reason (DNS, refused, timeout, TLS) in `cause`. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const code = cause?.code;
  const hints: Record<string, string> = {
    ENOTFOUND: 'the host name does not resolve (no DNS or no internet access here?)',
    EAI_AGAIN: 'DNS lookup failed for now (no internet access here?)',
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    ENETUNREACH: 'network unreachable (no internet access here?)',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  };
  if (code && hints[code]) return `${hints[code]} [${code}]`;
  return cause?.message ? `${error.message}: ${cause.message}` : error.message;
}

class FetchError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

async function download(url: string, f: VendorFile): Promise<Uint8Array> {
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
      if (!res.ok) {
        const retry = res.status === 429 || res.status >= 500;
        const why =
          res.status === 404 ? 'HTTP 404: not at the origin (repository or commit moved?)' : `HTTP ${res.status} ${res.statusText}`;
        throw new FetchError(why, retry);
      }
      const data = new Uint8Array(await res.arrayBuffer());
      const actual = sha256(data);
      if (actual !== f.sha256) {
        throw new FetchError(
          `downloaded ${data.byteLength} bytes with SHA-256 ${actual}, expected ${f.sha256} (${f.bytes} bytes): not the pinned file`,
          false,
        );
      }
      return data;
    } catch (error) {
      // A name that does not resolve or a network that is not there will not fix itself in a second.
      const code = (error instanceof Error ? (error.cause as { code?: string } | undefined)?.code : undefined) ?? '';
      const retry = error instanceof FetchError ? error.retry : !['ENOTFOUND', 'ENETUNREACH', 'ECONNREFUSED'].includes(code);
      last = error instanceof FetchError ? error.message : describeFailure(error);
      if (!retry || attempt === ATTEMPTS) break;
      await sleep(1000 * attempt);
    }
  }
  throw new Error(last);
}

function writeSources(dir: string, origin: string): void {
  const rows = VENDOR_FILES.map(
    (f) => `| \`${f.file}\` | ${f.from.repo} \`${f.path}\` at ${f.from.commit.slice(0, 7)} | ${urlOf(origin, f)} |`,
  );
  const text = [
    '# Vendor data for the Hourbridge tests',
    '',
    'Downloaded by `npm run vendor:fetch` from the public origins below, at pinned commits, each checked',
    "against its SHA-256. The files are the vendors' own, under their licences (xero-openapi/LICENSE, MIT;",
    'en16931/LICENSE-EUPL-1.2.txt; the OASIS and OpenPEPPOL notices in the files themselves).',
    '',
    '| file | origin | downloaded from |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'SOURCES.md'), text);
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a, i) => !['--check', '--force', '--origin', '--help'].includes(a) && argv[i - 1] !== '--origin');
  if (argv.includes('--help') || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`vendor:fetch: unknown argument ${unknown.join(' ')}\n`);
    process.stdout.write('usage: npm run vendor:fetch [-- --check | --force | --origin URL]\n');
    return unknown.length > 0 ? 2 : 0;
  }
  const originAt = argv.indexOf('--origin');
  const origin = originAt >= 0 ? argv[originAt + 1] : DEFAULT_ORIGIN;
  if (!origin || !/^https?:\/\//.test(origin)) {
    process.stderr.write('vendor:fetch: --origin needs an http(s) URL\n');
    return 2;
  }

  if (argv.includes('--check')) {
    const { dir, from } = vendorDir();
    const bad = VENDOR_FILES.map((f) => [f, problemWith(dir, f)] as const).filter(([, p]) => p !== undefined);
    for (const [f, p] of bad) process.stderr.write(`  ${f.file}: ${p}\n`);
    process.stdout.write(
      `vendor:fetch --check: ${dir} (${from}): ${VENDOR_FILES.length - bad.length} of ${VENDOR_FILES.length} files as pinned\n`,
    );
    if (bad.length > 0) process.stderr.write('Run `npm run vendor:fetch` to download them.\n');
    return bad.length > 0 ? 1 : 0;
  }

  const set = process.env.HOURBRIDGE_VENDOR_DIR?.trim();
  const dir = set ? path.resolve(repoRoot, set) : defaultFetchDir;
  const force = argv.includes('--force');
  const todo = VENDOR_FILES.filter((f) => force || problemWith(dir, f) !== undefined);
  process.stdout.write(
    `vendor:fetch: ${dir}${set ? ' (HOURBRIDGE_VENDOR_DIR)' : ''}: ${VENDOR_FILES.length - todo.length} of ${VENDOR_FILES.length} files already there, ${todo.length} to download from ${origin}\n`,
  );

  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < todo.length; i = next++) {
      const f = todo[i]!;
      const url = urlOf(origin, f);
      try {
        const data = await download(url, f);
        const target = path.join(dir, f.file);
        mkdirSync(path.dirname(target), { recursive: true });
        const partial = `${target}.partial-${process.pid}`;
        writeFileSync(partial, data);
        renameSync(partial, target); // never a half-written file under the real name
        process.stdout.write(`  ${f.file} (${data.byteLength} bytes)\n`);
      } catch (error) {
        failures.push(`${f.file}: ${error instanceof Error ? error.message : String(error)}\n    from ${url}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));

  if (failures.length > 0) {
    process.stderr.write(
      `vendor:fetch: ${failures.length} of ${todo.length} files could not be downloaded:\n${failures.map((l) => `  ${l}`).join('\n')}\n`,
    );
    process.stderr.write(
      "Nothing was written for those files. Node's fetch does not use HTTP(S)_PROXY; behind a proxy or offline, " +
        'copy the files from a machine that has them and set HOURBRIDGE_VENDOR_DIR, or use --origin with a mirror.\n',
    );
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  writeSources(dir, origin);
  const note =
    !set && vendorDir().dir !== dir
      ? ` (the tests use ${vendorDir().dir} while it exists; set HOURBRIDGE_VENDOR_DIR=${path.relative(repoRoot, dir)} to use these)`
      : '';
  process.stdout.write(`vendor:fetch: all ${VENDOR_FILES.length} files in ${dir} match their pinned SHA-256${note}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
