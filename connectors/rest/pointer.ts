/**
 * JSON pointers (RFC 6901) and the small templates built on them. Hand-written: the whole
 * evaluation is "split at /, unescape ~1 and ~0, step into objects and arrays" (RFC 6901 §4),
 * a dozen lines a package would only wrap; pointers are parsed once per config, not per record.
 */

export type Pointer = readonly string[];

const cache = new Map<string, Pointer>();

export function parsePointer(pointer: string): Pointer {
  const hit = cache.get(pointer);
  if (hit) return hit;
  if (pointer !== '' && !pointer.startsWith('/')) throw new Error(`"${pointer}" is not a JSON pointer (it must start with /)`);
  const tokens =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  cache.set(pointer, tokens);
  return tokens;
}

/** The value at `pointer` in `doc`, or undefined when any step is missing. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const token of parsePointer(pointer)) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (typeof cur === 'object') {
      if (!Object.hasOwn(cur, token)) return undefined;
      cur = (cur as Record<string, unknown>)[token];
    } else return undefined;
  }
  return cur;
}

export function isBlankValue(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

const PLACEHOLDER = /\{(\/[^}]*)\}/g;

/** The pointers a template reads, e.g. ["/user/first_name", "/user/last_name"]. */
export function templatePointers(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * A template's text: each {/pointer} replaced by the value's text (blank when absent), runs of
 * spaces collapsed and the result trimmed, so a missing middle name leaves no double space.
 * undefined when every placeholder is blank.
 */
export function renderTemplate(doc: unknown, template: string): string | undefined {
  let any = false;
  const text = template.replace(PLACEHOLDER, (_m, p: string) => {
    const v = resolvePointer(doc, p);
    if (isBlankValue(v) || typeof v === 'object') return '';
    any = true;
    return String(v);
  });
  if (!any) return undefined;
  return text.replace(/\s+/g, ' ').trim();
}
