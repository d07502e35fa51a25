import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Vendor data: third parties' own specifications that tests check Hourbridge's output against
 * (Xero's OpenAPI description, the e-invoicing rule books). It is not part of the repository;
 * tests find it through one setting:
 *
 *   HOURBRIDGE_VENDOR_DIR   the folder (absolute, or relative to the repository root). When it is
 *                           not set: `../shared/vendor` beside the clone if that folder exists,
 *                           else `.vendor/` in the clone, where `npm run vendor:fetch` puts the
 *                           files by default.
 *
 * A test file that needs a vendor file asks `vendorAvailable('xero-openapi/xero_accounting.yaml')`
 * and runs its tests under `describeIf(…)`. When a file is missing, the tests are skipped with a
 * warning naming `npm run vendor:fetch`; with HOURBRIDGE_REQUIRE_VENDOR=1 (set by .ci/run) the
 * missing file is an error instead, so CI can never go green by skipping them.
 */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const requireVendor = process.env.HOURBRIDGE_REQUIRE_VENDOR === '1';

/** Where `npm run vendor:fetch` writes when HOURBRIDGE_VENDOR_DIR is not set. */
export const defaultFetchDir = path.join(repoRoot, '.vendor');
const besideClone = path.resolve(repoRoot, '../shared/vendor');

/** The vendor folder in use and how it was chosen (for messages). */
export function vendorDir(env: NodeJS.ProcessEnv = process.env): { dir: string; from: string } {
  const set = env.HOURBRIDGE_VENDOR_DIR?.trim();
  if (set) return { dir: path.resolve(repoRoot, set), from: 'HOURBRIDGE_VENDOR_DIR' };
  if (existsSync(besideClone)) return { dir: besideClone, from: 'the shared/vendor folder beside the clone' };
  return { dir: defaultFetchDir, from: 'the default (.vendor/ in the clone)' };
}

/** Absolute path of a vendor file, e.g. `vendorPath('xero-openapi/xero_accounting.yaml')`. */
export function vendorPath(relative: string): string {
  return path.join(vendorDir().dir, relative);
}

/**
 * True when every named vendor file is there. When one is missing: false, with a warning that
 * says which and how to get them; with HOURBRIDGE_REQUIRE_VENDOR=1 it throws instead.
 */
export function vendorAvailable(...relatives: string[]): boolean {
  const { dir, from } = vendorDir();
  const missing = relatives.filter((r) => !existsSync(path.join(dir, r)));
  if (missing.length === 0) return true;
  const message =
    `vendor data missing in ${dir} (${from}): ${missing.join(', ')}. ` +
    'Run `npm run vendor:fetch` to download it from its public origins, or point HOURBRIDGE_VENDOR_DIR at a folder that has it.';
  if (requireVendor) throw new Error(`${message} (HOURBRIDGE_REQUIRE_VENDOR=1: the tests that need it fail instead of skipping)`);
  console.warn(`Skipping the tests that need it: ${message}`);
  return false;
}
