import type { z } from 'zod';

/** A template that names the invoice key, so the number or reference it makes is unique and the same on every retry. */
const NAMES_KEY = /\{\{\s*(key|keyHash)\s*\}\}/;

/**
 * A destination config's refinement: its `field` template (an invoice number, a document number,
 * a reference), in `defaults` and in every client's override, must contain {{key}} or
 * {{keyHash}}; `message` says why, in the destination's words.
 */
export function requireKeyInTemplate(field: string, message: string) {
  return (cfg: { defaults: Record<string, unknown>; clients: Record<string, Record<string, unknown>> }, ctx: z.RefinementCtx): void => {
    const check = (tpl: unknown, path: (string | number)[]) => {
      if (typeof tpl === 'string' && !NAMES_KEY.test(tpl)) ctx.addIssue({ code: 'custom', path, message });
    };
    check(cfg.defaults[field], ['defaults', field]);
    for (const [client, s] of Object.entries(cfg.clients)) check(s[field], ['clients', client, field]);
  };
}
