import type { InvoiceDraft } from '../../src/domain/invoice';
import type { Address, BuyerParty, SellerParty } from '../../src/domain/party';
import { draftPerLineTax, draftTax, paymentTermsText } from './draft-tax';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function addressLines(a: Address): string[] {
  return [a.street, a.additionalStreet, [a.postalCode, a.city].filter(Boolean).join(' '), a.region, a.country].filter(
    (x): x is string => !!x,
  );
}

function partyBlock(title: string, name: string, p: SellerParty | BuyerParty | undefined): string {
  const lines = [
    `<strong>${escapeHtml(p?.legalName ?? name)}</strong>`,
    ...(p ? addressLines(p.address).map(escapeHtml) : []),
    ...(p?.vatId ? [`VAT ${escapeHtml(p.vatId)}`] : []),
    ...(p?.companyId ? [`Company id ${escapeHtml(p.companyId.id)}`] : []),
  ];
  return `<div class="party"><h2>${title}</h2><p>${lines.join('<br>')}</p></div>`;
}

/**
 * A readable, self-contained rendering of a draft for people who want to look before approving:
 * what the e-invoice and the accounting package show — parties, number, dates, the billed
 * period, lines, the EN 16931 VAT breakdown and totals (when the client has `vat`), payment terms.
 */
export function renderInvoiceHtml(draft: InvoiceDraft): string {
  const withDates = draft.lines.some((l) => l.date);
  const tax = draftTax(draft);
  const perLine = draftPerLineTax(draft);
  const rows = draft.lines
    .map(
      (l) =>
        `<tr>${withDates ? `<td>${escapeHtml(l.date ?? '')}</td>` : ''}<td>${escapeHtml(l.description)}</td><td class="n">${escapeHtml(l.quantity)}</td><td class="n">${escapeHtml(l.unitPrice)}</td>${tax ? `<td class="n">${l.vat ? `${escapeHtml(l.vat.category)} ${escapeHtml(l.vat.rate)} %` : ''}</td>` : ''}<td class="n">${escapeHtml(l.amount)}</td></tr>`,
    )
    .join('\n');
  const billed = draft.billedHours ?? draft.hours;
  const hours =
    billed === draft.hours ? `${escapeHtml(draft.hours)} h` : `${escapeHtml(draft.hours)} h worked, ${escapeHtml(billed)} h billed`;
  const cur = escapeHtml(draft.currency);
  const span = (withDates ? 1 : 0) + (tax ? 4 : 3);
  const empty = '<td></td>'.repeat(span - 1);
  const taxRows = tax
    ? [
        ...tax.breakdown.map(
          (r) =>
            `<tr><td colspan="${span - 1}">VAT ${escapeHtml(r.category)} ${escapeHtml(r.rate)} % on ${cur} ${escapeHtml(r.taxableAmount)}${r.exemptionReason || r.exemptionReasonCode ? ` — ${escapeHtml(r.exemptionReason ?? r.exemptionReasonCode ?? '')}` : ''}</td><td class="n">${cur} ${escapeHtml(r.taxAmount)}</td></tr>`,
        ),
        `<tr><td colspan="${span - 1}">VAT total</td><td class="n">${cur} ${escapeHtml(tax.vat)}</td></tr>`,
        `<tr class="total"><td colspan="${span - 1}">Total incl. VAT (payable)</td><td class="n">${cur} ${escapeHtml(tax.payable)}</td></tr>`,
      ].join('\n')
    : '';
  const seller = draft.parties?.seller;
  const iban = seller?.iban
    ? ` · IBAN ${escapeHtml(seller.iban)}${seller.bic ? ` (BIC ${escapeHtml(seller.bic)})` : ''} · reference ${escapeHtml(draft.key)}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Draft ${escapeHtml(draft.key)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{border-bottom:none}tfoot tr.total td,tfoot tr:first-child td{font-weight:bold}.meta{color:#555}
.parties{display:flex;gap:4rem}.party h2{font-size:1rem;color:#555;margin-bottom:.2rem}</style></head>
<body>
<h1>Draft invoice — ${escapeHtml(draft.clientName)}</h1>
${draft.parties ? `<div class="parties">${partyBlock('From', '', seller)}${partyBlock('To', draft.clientName, draft.parties.buyer)}</div>` : ''}
<p class="meta">Invoice number ${escapeHtml(draft.key)} · Billed period ${escapeHtml(draft.period.start)} – ${escapeHtml(draft.period.end)} (${escapeHtml(draft.period.label)}) · Issue date ${escapeHtml(draft.issueDate)} · Due ${escapeHtml(draft.dueDate)} · ${cur}</p>
<table><thead><tr>${withDates ? '<th>Date</th>' : ''}<th>Description</th><th class="n">Quantity</th><th class="n">Unit price</th>${tax ? '<th class="n">VAT</th>' : ''}<th class="n">Net amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td>Net total, excl. tax (${hours})</td>${empty}<td class="n">${cur} ${escapeHtml(draft.total)}</td></tr>
${taxRows}</tfoot>
</table>
<p class="meta">Payment terms: ${escapeHtml(paymentTermsText(draft))}${iban}</p>
<p class="meta">${tax ? `VAT per EN 16931: one rounding per category and rate.${perLine !== undefined && perLine !== tax.vat ? ` A package that rounds each line's tax (Xero) gets ${cur} ${escapeHtml(perLine)}.` : ''}` : "Amounts are net. Tax is added by the accounting system from each line's tax type."}</p>
</body></html>
`;
}
