import type { InvoiceDetail } from '../../reports/invoice';
import { html } from '../html';
import { hours, layout, money, type PageUser, table, when } from './layout';

export function invoicePage(i: InvoiceDetail, user: PageUser, link: string | null) {
  const cur = i.currency;
  const destination = html`<dl class="facts">
<dt>Client</dt><dd><a href="/ui/clients/${encodeURIComponent(i.client)}">${i.draft.clientName}</a></dd>
<dt>Period</dt><dd>${i.period} (${when(i.draft.period.start, true)} – ${when(i.draft.period.end, true)})</dd>
<dt>Status</dt><dd><span class="status s-${i.status}">${i.status}</span>${i.written ? '' : html` <span class="sub">changes not written to the destination yet</span>`}</dd>
<dt>Destination</dt><dd><code>${i.destination}</code>${i.remoteId ? html` · id <code>${i.remoteId}</code>` : ' · not written yet'}${i.remoteStatus ? html` · ${i.remoteStatus}` : ''}${link && !link.startsWith('file://') ? html` · <a href="${link}" rel="noopener noreferrer" target="_blank">open there</a>` : ''}</dd>
<dt>Net</dt><dd>${money(cur, i.net)} (${hours(i.workedHours)} h worked, ${hours(i.billedHours)} h billed)</dd>
<dt>Tax</dt><dd>${money(cur, i.remoteTax)}</dd>
<dt>Gross</dt><dd>${money(cur, i.remoteGross)}</dd>
${i.error ? html`<dt>Error</dt><dd class="err">${i.error}</dd>` : ''}
</dl>`;
  const lines = html`<section aria-labelledby="lines-h">
<h2 id="lines-h">Lines, and why each costs what it costs</h2>
<ol class="lines">
${i.lines.map(
  (l) => html`<li><details>
<summary><span class="desc">${l.description}</span> <span class="n">${l.quantity} × ${l.unitPrice} = ${money(cur, l.net)}</span></summary>
<ul class="entries">
${l.entries.map(
  (e) => html`<li><details data-explain="/ui/explain?entry=${encodeURIComponent(e)}">
<summary><code>${e}</code></summary>
<pre class="trace">Open to load the trace… (or <a href="/ui/explain?entry=${encodeURIComponent(e)}">read it on its own page</a>)</pre>
</details></li>`,
)}
</ul>
</details></li>`,
)}
</ol>
</section>`;
  const related = table({
    caption: 'Other invoices of this client, period and destination (what this one corrects, and its corrections)',
    head: ['Invoice', 'Sequence', 'Status', 'Live', 'Net'],
    numeric: [1, 4],
    empty: 'None: this is the only invoice of its period.',
    rows: i.related.map((r) => [
      html`<a href="/ui/invoices/${encodeURIComponent(r.key)}">${r.key}</a>`,
      String(r.sequence),
      r.status,
      r.live ? 'yes' : 'no',
      money(cur, r.net),
    ]),
  });
  const history = table({
    caption: 'History',
    head: ['When', 'What', 'Detail'],
    rows: i.history.map((h) => [when(h.at), h.what, h.detail ?? '']),
  });
  return layout({
    title: `Invoice ${i.key}`,
    active: 'overview',
    user,
    body: html`<p class="crumbs"><a href="/">Overview</a> › <a href="/ui/clients/${encodeURIComponent(i.client)}">${i.draft.clientName}</a> › ${i.key}</p>
<h1>Invoice <code>${i.key}</code></h1>
${destination}
<section aria-labelledby="draft-h">
<h2 id="draft-h">As the accounting system will show it</h2>
<iframe class="draft" src="/ui/invoices/${encodeURIComponent(i.key)}/draft.html" title="The draft invoice ${i.key}" sandbox></iframe>
</section>
${lines}
${related}
${history}`,
  });
}
