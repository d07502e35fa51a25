/**
 * HTML by tagged template, escaped by default: every interpolated value is text unless it is
 * already Html (a fragment built the same way, or `raw()` of markup this code wrote). A
 * templating library would add a second language and a build step for a handful of
 * server-rendered pages; these 30 lines keep the one rule that matters — nothing from the
 * ledger or a request reaches the page unescaped.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Renderable = Html | string | number | boolean | null | undefined | Renderable[];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function render(v: Renderable): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written by this code (never data). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** JSON for a `<script type="application/json">` data block: `<` escaped so no value can close the element. */
export function jsonBlock(id: string, value: unknown): Html {
  return raw(`<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`);
}
