/**
 * `npm ci` / `npm install` (the `prepare` script): save an initialised embedded cluster so new
 * embedded ledgers load it instead of running initdb (see src/ledger/embedded-template.ts).
 * Never fails the install: without the file, ledgers are created with initdb.
 */
import { writeEmbeddedTemplate } from '../src/ledger/embedded-template';

try {
  const file = await writeEmbeddedTemplate();
  process.stderr.write(`hourbridge: embedded ledger template saved (${file})\n`);
} catch (err) {
  process.stderr.write(`hourbridge: embedded ledger template not saved (${(err as Error).message}); new ledgers run initdb instead\n`);
}
