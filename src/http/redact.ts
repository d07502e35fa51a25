/**
 * Secrets never reach logs or errors (design invariant 6). Everything the HTTP layer says about a
 * request goes through these.
 */
const SECRET_PARAM = /(token|key|secret|password|passwd|signature|auth|credential)/i;
const SECRET_HEADER = /^(authorization|proxy-authorization|x-api-key|cookie|set-cookie)$|token|secret|key/i;

/** Keeps scheme, host and path; masks the values of query parameters that look like secrets. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url, 'http://relative.invalid');
    for (const name of [...u.searchParams.keys()]) {
      if (SECRET_PARAM.test(name)) u.searchParams.set(name, '***');
    }
    u.username = '';
    u.password = '';
    const text = u.toString();
    return u.host === 'relative.invalid' ? text.replace('http://relative.invalid', '') : text;
  } catch {
    return '[unparseable url]';
  }
}

export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = SECRET_HEADER.test(name) ? '***' : value;
  return out;
}

/** Replaces every occurrence of a known secret value (and its Basic-auth base64 form) in a text. */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    out = out.split(secret).join('***');
  }
  return out.replace(/(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 ***');
}
