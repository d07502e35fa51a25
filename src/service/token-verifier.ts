import { createHash, timingSafeEqual } from 'node:crypto';

// Kept free of Nest decorators: `hourbridge worker` checks tokens on its /metrics without loading Nest.

/**
 * Bearer token check in constant time: both sides are hashed to equal-length SHA-256 digests
 * before `timingSafeEqual`, so neither the comparison nor a length mismatch leaks how much of a
 * token was right. Every configured token is compared (no early exit on a match).
 */
export class TokenVerifier {
  private readonly digests: Buffer[];

  constructor(tokens: string[]) {
    this.digests = tokens.filter((t) => t.length > 0).map((t) => createHash('sha256').update(t).digest());
  }

  get configured(): boolean {
    return this.digests.length > 0;
  }

  verify(header: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return false;
    const given = createHash('sha256').update(match[1]!).digest();
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(given, d) || ok;
    return ok;
  }
}

/** API tokens from the config (server.apiTokens) plus HOURBRIDGE_API_TOKENS (comma-separated). */
export function apiTokensFrom(configured: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.HOURBRIDGE_API_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return [...configured, ...fromEnv];
}
