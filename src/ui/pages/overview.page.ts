import type { Overview } from '../../reports/overview';
import { AGEING_BUCKETS } from '../../reports/overview';
import { html, jsonBlock } from '../html';
import { actionForm, hours, layout, money, type PageUser, table } from './layout';

const AGE_LABEL: Record<(typeof AGEING_BUCKETS)[number], string> = {
  '0-7': '0–7 days',
  '8-30': '8–30 days',
  '31-90': '31–90 days',
  '>90': 'over 90 days',
};

export function overviewPage(o: Overview, user: PageUser, pipelines: string[]) {
  const totals = table({
    caption: 'Totals per currency (net, excl. tax)',
    id: 'totals',
    head: ['Currency', 'Clients', 'Not on a draft', 'On open drafts', 'Outstanding', 'Billed this period', 'Billed last period'],
    numeric: [1, 2, 3, 4, 5, 6],
    rows: o.totals.map((t) => [
      t.currency,
      String(t.clients),
      money(t.currency, t.notDrafted.net),
      money(t.currency, t.drafted.net),
      money(t.currency, t.outstanding.net),
      money(t.currency, t.billedCurrent.net),
      money(t.currency, t.billedPrevious.net),
    ]),
  });
  const clients = table({
    caption: 'Per client, in its currency',
    id: 'clients',
    head: [
      'Client',
      'Currency',
      'Not on a draft (h)',
      'Not on a draft',
      'On open drafts (h)',
      'On open drafts',
      'Billed this period',
      'Billed last period',
      'Not invoiced',
    ],
    numeric: [2, 3, 4, 5, 6, 7, 8],
    empty: 'No clients yet: run a sync.',
    rows: o.clients.map((c) => [
      html`<a href="/ui/clients/${encodeURIComponent(c.client)}" data-client="${c.client}">${c.name}</a>`,
      c.currency,
      hours(c.notDrafted.billedHours),
      money(c.currency, c.notDrafted.net),
      hours(c.drafted.billedHours),
      money(c.currency, c.drafted.net),
      html`${money(c.currency, c.billedCurrent.net)} <span class="sub">${c.billedCurrent.period}</span>`,
      html`${money(c.currency, c.billedPrevious.net)} <span class="sub">${c.billedPrevious.period}</span>`,
      c.excluded + c.unpriced > 0
        ? html`<a href="/ui/clients/${encodeURIComponent(c.client)}#not-invoiced">${c.excluded + c.unpriced} entries</a>`
        : '0',
    ]),
  });
  const ageing = table({
    caption: 'Ageing of outstanding hours (worked hours not on an approved invoice, by days since worked)',
    id: 'ageing',
    head: ['Client', ...AGEING_BUCKETS.map((b) => AGE_LABEL[b])],
    numeric: [1, 2, 3, 4],
    rows: [
      ...o.clients.map((c) => [c.name, ...AGEING_BUCKETS.map((b) => hours(c.ageing[b]))]),
      ...o.totals.map((t) => [`All ${t.currency} clients`, ...AGEING_BUCKETS.map((b) => hours(t.ageing[b]))]),
    ],
  });
  const chart = html`<section aria-labelledby="chart-h" class="card">
<h2 id="chart-h">Billed vs outstanding</h2>
<form method="get" action="/" class="range">
  <label>Per <select name="bucket">
    <option value="week"${o.chart.bucket === 'week' ? html` selected` : ''}>week</option>
    <option value="month"${o.chart.bucket === 'month' ? html` selected` : ''}>month</option>
  </select></label>
  <label>From <input type="date" name="from" value="${o.chart.from}" required></label>
  <label>To <input type="date" name="to" value="${o.chart.to}" required></label>
  <button type="submit">Show</button>
</form>
${o.chart.series.map(
  (s, i) => html`<figure class="chart">
  <figcaption>${s.currency}: net billed (approved invoices) and outstanding, by the start of their billing period</figcaption>
  <div class="chart-box"><canvas id="chart-${i}" data-series="${i}" role="img" aria-label="Bar chart of billed and outstanding ${s.currency} per ${o.chart.bucket}; the table below has the same figures"></canvas></div>
  <details><summary>The chart's figures</summary>
  ${table({
    caption: `${s.currency} per ${o.chart.bucket}`,
    head: [o.chart.bucket === 'week' ? 'Week' : 'Month', 'Billed', 'Outstanding'],
    numeric: [1, 2],
    rows: s.points.map((p) => [p.label, money(s.currency, p.billed), money(s.currency, p.outstanding)]),
  })}
  </details>
</figure>`,
)}
${o.chart.series.length === 0 ? html`<p>No invoices yet.</p>` : ''}
${jsonBlock('chart-data', o.chart)}
</section>`;
  const run = actionForm({
    action: '/ui/actions/run',
    label: 'Start a run',
    user,
    fields: html`<label>Pipeline <select name="pipeline">${pipelines.map((p) => html`<option>${p}</option>`)}</select></label>`,
  });
  return layout({
    title: 'Overview',
    active: 'overview',
    user,
    scripts: ['/ui/assets/chart.umd.min.js'],
    body: html`<h1>What is billed, and what is still outstanding</h1>
${run}
${totals}
${clients}
${chart}
${ageing}`,
  });
}
