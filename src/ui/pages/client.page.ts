import type { ClientPage } from '../../reports/client';
import { html } from '../html';
import { hours, layout, money, type PageUser, table, when } from './layout';

const KIND_WORDS = { excluded: 'kept, not invoiced', unpriced: 'cannot be priced' } as const;

export function clientPage(c: ClientPage, user: PageUser) {
  const cur = c.currency;
  const periods = table({
    caption: 'Outstanding per billing period (open drafts and what the next sync adds to them)',
    id: 'periods',
    head: ['Period', 'Dates', 'Invoice', 'On the draft (h)', 'On the draft', 'Not on it yet (h)', 'Not on it yet', 'Outstanding'],
    numeric: [3, 4, 5, 6, 7],
    empty: 'Nothing outstanding.',
    rows: (c.unbilled?.periods ?? []).map((p) => [
      p.period,
      html`${when(p.start, true)} – ${when(p.end, true)}`,
      html`<a href="/ui/invoices/${encodeURIComponent(p.invoice)}">${p.invoice}</a>`,
      hours(p.drafted.billedHours),
      money(cur, p.drafted.net),
      hours(p.notDrafted.billedHours),
      money(cur, p.notDrafted.net),
      money(cur, p.outstanding.net),
    ]),
  });
  const invoices = table({
    caption: 'Invoices',
    id: 'invoices',
    head: ['Invoice', 'Period', 'Status', 'Billed h', 'Net', 'Tax', 'Gross', 'At the destination'],
    numeric: [3, 4, 5, 6],
    empty: 'No invoices yet.',
    rows: c.invoices.map((i) => [
      html`<a href="/ui/invoices/${encodeURIComponent(i.key)}" data-invoice="${i.key}">${i.key}</a>`,
      i.period,
      html`<span class="status s-${i.status}">${i.status}</span>${i.error ? html` <span class="err">${i.error}</span>` : ''}`,
      hours(i.billedHours),
      money(i.currency, i.net),
      money(i.currency, i.remoteTax),
      money(i.currency, i.remoteGross),
      i.link
        ? i.link.startsWith('file://')
          ? html`<code>${i.destination}</code> <span class="sub">${decodeURI(i.link.slice('file://'.length))}</span>`
          : html`<a href="${i.link}" rel="noopener noreferrer" target="_blank">${i.destination}: ${i.remoteStatus ?? 'open'}</a>`
        : html`<code>${i.destination}</code> <span class="sub">not written yet</span>`,
    ]),
  });
  const notInvoiced = table({
    caption: 'Entries not invoiced, and why',
    id: 'not-invoiced',
    head: ['Entry', 'Date', 'Worker', 'What', 'Why'],
    empty: 'Every entry of this client is on an invoice or waiting for one.',
    rows: c.notInvoiced.map((e) => [
      html`<code>${e.entry}</code>${e.file ? html` <span class="sub">row ${e.row ?? '?'}</span>` : ''}`,
      when(e.date, true),
      e.worker ?? '',
      KIND_WORDS[e.kind],
      e.reason,
    ]),
  });
  const u = c.unbilled;
  const notes = u
    ? html`<p class="notes">${u.entries} priced entries on drafts or waiting for one; ${u.excluded} kept but not invoiced; ${u.unpriced} cannot be priced${u.unrated ? html`; <strong>${u.unrated} not priced under the current rules yet</strong> (the next sync prices them and the figures change)` : ''}.</p>`
    : '';
  return layout({
    title: c.name,
    active: 'overview',
    user,
    body: html`<p class="crumbs"><a href="/">Overview</a> › ${c.name}</p>
<h1>${c.name} <span class="sub">${c.client} · ${cur}</span></h1>
${u ? html`<p class="lead">Outstanding: ${money(cur, u.outstanding.net)} (${hours(u.outstanding.billedHours)} h), of which on open drafts ${money(cur, u.drafted.net)} and not on a draft yet ${money(cur, u.notDrafted.net)}.</p>` : ''}
${notes}
${periods}
${invoices}
${notInvoiced}`,
  });
}
