import type { InvoiceDraft } from '../../src/domain/invoice';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A readable, self-contained rendering of a draft for people who want to look before approving. */
export function renderInvoiceHtml(draft: InvoiceDraft): string {
  const rows = draft.lines
    .map(
      (l) =>
        `<tr><td>${escape(l.description)}</td><td class="n">${escape(l.quantity)}</td><td class="n">${escape(l.unitPrice)}</td><td class="n">${escape(l.amount)}</td></tr>`,
    )
    .join('\n');
  const billed = draft.billedHours ?? draft.hours;
  const hours = billed === draft.hours ? `${escape(draft.hours)} h` : `${escape(draft.hours)} h worked, ${escape(billed)} h billed`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Draft ${escape(draft.key)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:bold;border-bottom:none}.meta{color:#555}</style></head>
<body>
<h1>Draft invoice — ${escape(draft.clientName)}</h1>
<p class="meta">Key ${escape(draft.key)} · Period ${escape(draft.period.start)} – ${escape(draft.period.end)} · Issue date ${escape(draft.issueDate)} · Due ${escape(draft.dueDate)} · ${escape(draft.currency)}</p>
<table><thead><tr><th>Description</th><th class="n">Quantity</th><th class="n">Unit price</th><th class="n">Net amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td>Net total, excl. tax (${hours})</td><td></td><td></td><td class="n">${escape(draft.currency)} ${escape(draft.total)}</td></tr></tfoot>
</table>
<p class="meta">Amounts are net. Tax is added by the accounting system from each line's tax type.</p>
</body></html>
`;
}
