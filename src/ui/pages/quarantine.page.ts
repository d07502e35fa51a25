import type { QuarantineSummary } from '../../reports/quarantine';
import { html } from '../html';
import { layout, type PageUser, table, when } from './layout';

export function quarantinePage(q: QuarantineSummary, filter: { source?: string; category?: string; search?: string }, user: PageUser) {
  const qs = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1]))).toString();
  const counts = table({
    caption: 'Rows per reason, and how to fix them',
    id: 'reason-counts',
    head: ['Reason', 'Rows', 'How to fix'],
    numeric: [1],
    empty: 'Nothing in quarantine.',
    rows: q.counts.map((c) => [html`<a href="/ui/quarantine?category=${c.category}">${c.category}</a>`, String(c.count), c.hint]),
  });
  const rows = table({
    caption: `Rejected rows and entries that cannot be priced (${q.rows.length})`,
    id: 'quarantine-rows',
    head: ['Source', 'File', 'Row', 'Column', 'Raw value', 'Reason', 'How to fix', 'Since'],
    numeric: [2],
    empty: 'No row matches.',
    rows: q.rows.map((r) => [
      r.source,
      r.file ? html`<span title="${r.file}">${r.file.split('/').pop()}</span>` : html`<code>${r.ref}</code>`,
      r.row === null ? '' : String(r.row),
      r.column ?? r.field ?? '',
      r.value === null || r.value === undefined
        ? ''
        : html`<code>${typeof r.value === 'string' ? r.value : JSON.stringify(r.value)}</code>`,
      r.reason,
      html`<span class="hint">${r.hint}</span>`,
      when(r.since),
    ]),
  });
  return layout({
    title: 'Quarantine',
    active: 'quarantine',
    user,
    body: html`<h1>Quarantine</h1>
<p class="lead">Every input row Hourbridge could not accept, and every entry it cannot price. Nothing here is invoiced until it is fixed at the source; the next sync reads it again.</p>
<form method="get" action="/ui/quarantine" class="filters" role="search">
  <label>Source <select name="source"><option value="">all</option>${q.sources.map((s) => html`<option${s === filter.source ? html` selected` : ''}>${s}</option>`)}</select></label>
  <label>Reason <select name="category"><option value="">all</option>${q.counts.map((c) => html`<option value="${c.category}"${c.category === filter.category ? html` selected` : ''}>${c.category} (${c.count})</option>`)}</select></label>
  <label>Search <input type="search" name="search" value="${filter.search ?? ''}" placeholder="file, value, reason…"></label>
  <button type="submit">Filter</button>
</form>
<p class="exports">Export these rows: <a href="/ui/quarantine.csv${qs ? `?${qs}` : ''}" download>CSV</a> · <a href="/ui/quarantine.xlsx${qs ? `?${qs}` : ''}" download>Excel (XLSX)</a></p>
${counts}
${rows}`,
  });
}
