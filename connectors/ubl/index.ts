import { execFile } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DestinationConnector, WriteOutcome } from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec, fixed } from '../../src/domain/money';
import { checkWritableDirectory, draftDocument } from '../file/index';
import { renderInvoiceHtml } from '../file/render-html';
import { ublDestinationSchema, type UblDestinationConfig } from './config.schema';
import { missingForEinvoice, toUbl } from './to-ubl';

/** File names are the invoice key, so a changed draft replaces its document and never adds a second one. */
export function ublFileName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.xml`;
}

/** The JSON and HTML beside a document, named as the file destination names them. */
function siblings(xmlFile: string): [string, string] {
  const base = xmlFile.slice(0, -'.xml'.length);
  return [`${base}.json`, `${base}.html`];
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, file);
}

interface HookResult {
  ok: boolean;
  /** Last line the hook printed (e.g. the access point's transmission id), or why it failed. */
  message: string;
}

/** Runs the hook on one written document: argv as configured plus the file, no shell, with a timeout. */
function runHook(hook: NonNullable<UblDestinationConfig['hook']>, file: string, draft: InvoiceDraft, type: string): Promise<HookResult> {
  const [program, ...args] = hook.command as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(
      program,
      [...args, file],
      {
        // Like `dir`, a relative program path is taken from the working directory.
        timeout: hook.timeoutSeconds * 1000,
        maxBuffer: 1024 * 1024,
        env: { ...process.env, HOURBRIDGE_INVOICE_KEY: draft.key, HOURBRIDGE_DOCUMENT: file, HOURBRIDGE_DOCUMENT_TYPE: type },
      },
      (err, stdout, stderr) => {
        const last = (text: string) => text.trim().split('\n').pop()?.trim().slice(0, 300) ?? '';
        if (!err) return resolve({ ok: true, message: last(stdout) });
        const why = err.killed ? `timed out after ${hook.timeoutSeconds} s` : `exited with ${err.code ?? err.signal ?? err.message}`;
        resolve({ ok: false, message: `hook ${program} ${why}${last(stderr) ? `: ${last(stderr)}` : ''}` });
      },
    );
  });
}

export const ublDestination: DestinationConnector<UblDestinationConfig> = {
  kind: 'ubl',
  role: 'destination',
  configSchema: ublDestinationSchema,
  secretFields: [],
  capabilities: {
    realDrafts: false,
    updateInPlace: true,
    deleteEmptied: true,
    // A correction that credits more than it bills is written as a UBL CreditNote.
    creditNotes: true,
    statusReadBack: [],
    // The document carries the EN 16931 VAT breakdown and totals Hourbridge computes.
    tax: 'sent',
    unitPriceDecimals: [2, 4],
    batchSize: 1,
    idempotency: 'overwrite',
  },
  check: (config) => checkWritableDirectory(config.dir),
  async write(config, drafts) {
    const dir = path.resolve(config.dir);
    await mkdir(dir, { recursive: true });
    const outcomes: WriteOutcome[] = [];
    for (const draft of drafts) {
      const file = path.join(dir, ublFileName(draft.key));
      try {
        if (draft.lines.length === 0) {
          // Every entry left this draft: its documents go.
          for (const f of [file, ...siblings(file)]) await rm(f, { force: true });
          outcomes.push({ key: draft.key, status: 'written', remoteStatus: 'DELETED' });
          continue;
        }
        const missing = missingForEinvoice(draft);
        if (missing.length > 0) {
          outcomes.push({
            key: draft.key,
            status: 'failed',
            category: 'config',
            message: `not an e-invoice yet, the config lacks: ${missing.join('; ')}`,
          });
          continue;
        }
        const doc = toUbl(draft);
        await writeAtomic(file, doc.xml);
        const [json, html] = siblings(file);
        if (config.formats.includes('json')) await writeAtomic(json!, `${JSON.stringify(draftDocument(draft), null, 2)}\n`);
        if (config.formats.includes('html')) await writeAtomic(html!, renderInvoiceHtml(draft));
        const hook = config.hook ? await runHook(config.hook, file, draft, doc.type) : undefined;
        if (hook && !hook.ok) {
          outcomes.push({ key: draft.key, status: 'failed', category: 'transient', message: hook.message });
          continue;
        }
        // A credit note states its amounts positive; the ledger's figures keep the sign.
        const signed = (v: string) => (doc.type === 'credit-note' && !dec(v).isZero() ? fixed(dec(v).negated()) : v);
        outcomes.push({
          key: draft.key,
          status: 'written',
          remoteId: draft.key,
          remoteStatus: hook ? 'SENT' : 'DRAFT',
          remoteType: doc.type,
          remoteTotal: signed(doc.tax.net),
          remoteTax: signed(doc.tax.vat),
          remoteGross: signed(doc.tax.gross),
          location: file,
          ...(hook?.message ? { warnings: [`hook: ${hook.message}`] } : {}),
        });
      } catch (err) {
        outcomes.push({
          key: draft.key,
          status: 'failed',
          category: 'transient',
          message: `could not write ${file}: ${(err as Error).message}`,
        });
      }
    }
    return outcomes;
  },
};
