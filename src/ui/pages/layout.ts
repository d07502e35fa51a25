import { type Html, html, type Renderable } from '../html';
import type { Role } from '../sessions';

export interface PageUser {
  role: Role;
  csrf: string | undefined;
}

const NAV = [
  { href: '/', label: 'Overview', id: 'overview' },
  { href: '/ui/quarantine', label: 'Quarantine', id: 'quarantine' },
  { href: '/ui/runs', label: 'Runs and health', id: 'runs' },
] as const;

/** The frame of every page: one stylesheet and one script, both served by Hourbridge (CSP: no inline script or style). */
export function layout(args: { title: string; active: string; user: PageUser; body: Renderable; scripts?: string[] }): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${args.user.csrf ?? ''}">
<title>${args.title} · Hourbridge</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css">
${(args.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
<script src="/ui/assets/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Hourbridge</span>
  <nav aria-label="Main">
    <ul>
      ${NAV.map((n) => html`<li><a href="${n.href}"${n.id === args.active ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}
    </ul>
  </nav>
  <span class="who">
    <span class="role" title="${args.user.role === 'operator' ? 'may start runs and re-check connectors' : 'read-only'}">${args.user.role}</span>
    <span class="live" id="live" role="status" aria-live="polite">live</span>
    <form method="post" action="/ui/logout" class="inline"><input type="hidden" name="_csrf" value="${args.user.csrf ?? ''}"><button type="submit" class="link">Log out</button></form>
  </span>
</header>
<main id="main" tabindex="-1">
${args.body}
</main>
<footer class="foot"><p>Amounts are net of tax unless a column says tax or gross; tax and gross are the accounting system's own figures where it computes them.</p></footer>
</body>
</html>
`;
}

/** A bare page (login, errors) without the navigation. */
export function bare(title: string, body: Renderable): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Hourbridge</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css">
</head>
<body>
<main id="main" class="narrow">
${body}
</main>
</body>
</html>
`;
}

/** A net amount: the exact decimal in data-net (what tests and scripts read), formatted in the user's locale by the page script. */
export function money(currency: string, net: string | null | undefined): Html {
  if (net === null || net === undefined) return html`<span class="none" title="not computed by the destination">—</span>`;
  return html`<span class="money" data-net="${net}" data-currency="${currency}">${currency} ${net}</span>`;
}

export function hours(h: string): Html {
  return html`<span class="hours" data-hours="${h}">${h}</span>`;
}

/** An instant or a date, shown in the user's locale and time zone by the page script. */
export function when(iso: string | null | undefined, dateOnly = false): Html {
  if (!iso) return html`<span class="none">—</span>`;
  return html`<time datetime="${iso}"${dateOnly ? html` data-date` : ''}>${iso}</time>`;
}

export function table(args: {
  caption: string;
  head: Array<string | { label: string; n?: boolean }>;
  rows: Renderable[][];
  empty?: string;
  id?: string;
  numeric?: number[];
}): Html {
  const n = new Set(args.numeric ?? []);
  const heads = args.head.map((h, i) => (typeof h === 'string' ? { label: h, n: n.has(i) } : { ...h, n: h.n ?? n.has(i) }));
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${args.caption}">
<table${args.id ? html` id="${args.id}"` : ''}>
<caption>${args.caption}</caption>
<thead><tr>${heads.map((h) => html`<th scope="col"${h.n ? html` class="n"` : ''}>${h.label}</th>`)}</tr></thead>
<tbody>
${
  args.rows.length === 0
    ? html`<tr><td colspan="${heads.length}" class="empty">${args.empty ?? 'Nothing here.'}</td></tr>`
    : args.rows.map(
        (r) =>
          html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td${heads[i]?.n ? html` class="n"` : ''}>${c}</td>`))}</tr>`,
      )
}
</tbody>
</table>
</div>`;
}

/** A POST form the page script sends with the CSRF token (and that works without the script too). */
export function actionForm(args: { action: string; label: string; fields?: Renderable; user: PageUser; describe?: string }): Html {
  if (args.user.role !== 'operator') return html``;
  return html`<form method="post" action="${args.action}" class="action" data-action>
<input type="hidden" name="_csrf" value="${args.user.csrf ?? ''}">
${args.fields}
<button type="submit"${args.describe ? html` aria-describedby="${args.describe}"` : ''}>${args.label}</button>
<span class="result" role="status" aria-live="polite"></span>
</form>`;
}
