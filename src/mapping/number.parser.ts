import Decimal from 'decimal.js';
import type { Cell, Parsed } from './cells';
import { fail, ok } from './cells';

/**
 * Decimal numbers written by people: `7,5` and `1.234,50` with a decimal comma, `7.5` and
 * `1,234.50` with a decimal point. The result is a decimal string ("1234.50") that
 * decimal.js and the ledger read exactly — never a binary float.
 *
 * With only the "other" separator present once, it is read as the decimal separator unless
 * exactly three digits follow it (`1.250` in a decimal-comma sheet could be 1250 or 1.25):
 * that is refused as ambiguous instead of guessed.
 */
export type DecimalSeparator = '.' | ',';

const STRIP = /[\s\u00a0\u202f'€$£]/g;
const PLAIN = /^\d+(\.\d+)?$/;

export function parseDecimalText(input: string, decimal: DecimalSeparator): Parsed<string> {
  let text = input.replace(STRIP, '');
  let sign = '';
  if (text.startsWith('-')) {
    sign = '-';
    text = text.slice(1);
  } else if (text.startsWith('+')) text = text.slice(1);
  if (text.length === 0) return fail('not a number');
  const dots = count(text, '.');
  const commas = count(text, ',');
  let normal: string;
  if (dots === 0 && commas === 0) normal = text;
  else if (dots > 0 && commas > 0) {
    const dec = text.lastIndexOf('.') > text.lastIndexOf(',') ? '.' : ',';
    const group = dec === '.' ? ',' : '.';
    if (count(text, dec) !== 1 || !groupedOk(text.slice(0, text.indexOf(dec)), group)) return fail(`not a number: "${input.trim()}"`);
    normal = text.split(group).join('').replace(dec, '.');
  } else {
    const sep = dots > 0 ? '.' : ',';
    const n = dots + commas;
    if (sep === decimal) {
      if (n > 1) return fail(`not a number: "${input.trim()}"`);
      normal = text.replace(sep, '.');
    } else if (n > 1) {
      if (!groupedOk(text, sep)) return fail(`not a number: "${input.trim()}"`);
      normal = text.split(sep).join('');
    } else {
      const after = text.length - text.indexOf(sep) - 1;
      if (after === 3) {
        return fail(
          `ambiguous number "${input.trim()}": "${sep}" is not the decimal separator "${decimal}" of this sheet; write it without a thousands separator`,
        );
      }
      normal = text.replace(sep, '.');
    }
  }
  if (normal.startsWith('.')) normal = `0${normal}`;
  if (normal.endsWith('.')) normal = normal.slice(0, -1);
  if (!PLAIN.test(normal)) return fail(`not a number: "${input.trim()}"`);
  return ok(sign && !/^[0.]+$/.test(normal) ? sign + normal : normal);
}

function count(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/** 1.234.567 — groups of three after the first group. */
function groupedOk(intPart: string, group: string): boolean {
  const parts = intPart.split(group);
  if (parts.length === 1) return true;
  return parts[0]!.length >= 1 && parts[0]!.length <= 3 && parts.slice(1).every((p) => p.length === 3);
}

/** A number cell or text; numbers become exact decimal strings (no exponent notation). */
export function parseDecimalCell(cell: Cell, decimal: DecimalSeparator): Parsed<string> {
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return fail('not a number');
    const s = String(cell);
    return ok(s.includes('e') ? new Decimal(cell).toFixed() : s);
  }
  if (typeof cell === 'string') return parseDecimalText(cell, decimal);
  return fail('not a number');
}

export type BooleanParser = (cell: Cell) => Parsed<boolean>;

/** Booleans from the sheet's own words (ja/nee, yes/no, x, 1/0, true/false), case-insensitive. */
export function compileBooleanParser(truthy: readonly string[], falsy: readonly string[]): BooleanParser {
  const yes = new Set(truthy.map((w) => w.trim().toLowerCase()));
  const no = new Set(falsy.map((w) => w.trim().toLowerCase()));
  const expected = `not a yes/no value (expected one of: ${[...yes].join(', ')} / ${[...no].join(', ')})`;
  return (cell) => {
    if (typeof cell === 'boolean') return ok(cell);
    if (typeof cell === 'number') {
      if (cell === 1) return ok(true);
      if (cell === 0) return ok(false);
      return fail(expected);
    }
    if (typeof cell !== 'string') return fail(expected);
    const w = cell.trim().toLowerCase();
    if (yes.has(w)) return ok(true);
    if (no.has(w)) return ok(false);
    return fail(expected);
  };
}
