import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { constants, accessSync } from 'node:fs';
import path from 'node:path';
import type { CheckResult, DestinationConnector, WriteOutcome } from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { fileDestinationSchema, type FileDestinationConfig } from './config.schema';
import { renderInvoiceHtml } from './render-html';
import { draftPerLineTax, draftTax, paymentTermsText } from './draft-tax';

/** File names are the invoice key, so rewriting a draft replaces its file and never adds a second one. */
function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The documented JSON shape of a written draft (see connectors/file/README.md); every amount is net of tax. */
export function draftDocument(draft: InvoiceDraft) {
  const tax = draftTax(draft);
  const perLine = draftPerLineTax(draft);
  const seller = draft.parties?.seller;
  return {
    key: draft.key,
    status: 'draft',
    client: { id: draft.clientId, name: draft.clientName },
    ...(seller ? { seller: { ...seller, iban: undefined, bic: undefined, paymentTerms: undefined } } : {}),
    ...(draft.parties?.buyer ? { buyer: draft.parties.buyer } : {}),
    currency: draft.currency,
    period: draft.period,
    issueDate: draft.issueDate,
    dueDate: draft.dueDate,
    paymentTerms: {
      text: paymentTermsText(draft),
      dueDate: draft.dueDate,
      ...(seller?.iban ? { iban: seller.iban, ...(seller.bic ? { bic: seller.bic } : {}), reference: draft.key } : {}),
    },
    lines: draft.lines.map((l) => ({
      ...(l.date ? { date: l.date } : {}),
      description: l.description,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      net: l.amount,
      kind: l.kind,
      ...(l.taxType ? { taxType: l.taxType } : {}),
      ...(l.vat ? { vat: l.vat } : {}),
      entries: l.entryIds,
    })),
    workedHours: draft.hours,
    billedHours: draft.billedHours ?? draft.hours,
    net: draft.total,
    // EN 16931 tax, when the client has `vat`: breakdown per category and rate, one rounding per
    // row; `perLineTax` is what a package that rounds each line (Xero) computes, when it differs.
    ...(tax
      ? {
          tax: {
            breakdown: tax.breakdown,
            vat: tax.vat,
            gross: tax.gross,
            payable: tax.payable,
            ...(perLine !== undefined && perLine !== tax.vat ? { perLineTax: perLine } : {}),
          },
        }
      : {}),
  };
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, file);
}

/** `check` of a destination that writes into a directory (file, ubl): it exists or can be made, and is writable. */
export async function checkWritableDirectory(target: string): Promise<CheckResult> {
  const dir = path.resolve(target);
  try {
    await mkdir(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return { ok: true, message: `writable directory ${dir}` };
  } catch (err) {
    return { ok: false, category: 'config', message: `cannot write to ${dir}: ${(err as Error).message}` };
  }
}

export const fileDestination: DestinationConnector<FileDestinationConfig> = {
  kind: 'file',
  role: 'destination',
  configSchema: fileDestinationSchema,
  secretFields: [],
  // A file per invoice key, rewritten while the draft changes and removed when it empties; nobody approves a file.
  capabilities: {
    realDrafts: false,
    updateInPlace: true,
    deleteEmptied: true,
    creditNotes: false,
    statusReadBack: [],
    tax: 'none',
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
      const base = path.join(dir, safeName(draft.key));
      try {
        if (draft.lines.length === 0) {
          // Every entry left this draft: the draft itself goes.
          await rm(`${base}.json`, { force: true });
          await rm(`${base}.html`, { force: true });
          outcomes.push({ key: draft.key, status: 'written', remoteStatus: 'DELETED' });
          continue;
        }
        if (config.formats.includes('json')) await writeAtomic(`${base}.json`, `${JSON.stringify(draftDocument(draft), null, 2)}\n`);
        if (config.formats.includes('html')) await writeAtomic(`${base}.html`, renderInvoiceHtml(draft));
        outcomes.push({
          key: draft.key,
          status: 'written',
          remoteId: draft.key,
          remoteStatus: 'DRAFT',
          remoteTotal: draft.total,
          location: `${base}.json`,
        });
      } catch (err) {
        outcomes.push({
          key: draft.key,
          status: 'failed',
          category: 'transient',
          message: `could not write ${base}: ${(err as Error).message}`,
        });
      }
    }
    return outcomes;
  },
};
