import type { InvoiceDraft } from '../../src/domain/invoice';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A readable, self-contained rendering of a draft for people who want to look before approving. */
export function renderInvoiceHtml(draft: InvoiceDraft): string {
  const rows = draft.lines
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.description)}</td><td class="n">${escapeHtml(l.quantity)}</td><td class="n">${escapeHtml(l.unitPrice)}</td><td class="n">${escapeHtml(l.amount)}</td></tr>`,
    )
    .join('\n');
  const billed = draft.billedHours ?? draft.hours;
  const hours =
    billed === draft.hours ? `${escapeHtml(draft.hours)} h` : `${escapeHtml(draft.hours)} h worked, ${escapeHtml(billed)} h billed`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Draft ${escapeHtml(draft.key)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:bold;border-bottom:none}.meta{color:#555}</style></head>
<body>
<h1>Draft invoice — ${escapeHtml(draft.clientName)}</h1>
<p class="meta">Key ${escapeHtml(draft.key)} · Period ${escapeHtml(draft.period.start)} – ${escapeHtml(draft.period.end)} · Issue date ${escapeHtml(draft.issueDate)} · Due ${escapeHtml(draft.dueDate)} · ${escapeHtml(draft.currency)}</p>
<table><thead><tr><th>Description</th><th class="n">Quantity</th><th class="n">Unit price</th><th class="n">Net amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td>Net total, excl. tax (${hours})</td><td></td><td></td><td class="n">${escapeHtml(draft.currency)} ${escapeHtml(draft.total)}</td></tr></tfoot>
</table>
<p class="meta">Amounts are net. Tax is added by the accounting system from each line's tax type.</p>
</body></html>
`;
}
