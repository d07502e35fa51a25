import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Who may do what on the pages: finance reads; an operator also starts runs and re-checks connectors. */
export type Role = 'finance' | 'operator';

export interface Session {
  role: Role;
  /** Sent back by the page with every action (header X-CSRF-Token or form field _csrf). */
  csrf: string;
  expiresAt: number;
}

export const SESSION_COOKIE = 'hb_session';
const SESSION_MS = 12 * 3600_000;
const ONCE_MS = 15 * 60_000;

const digest = (t: string) => createHash('sha256').update(t).digest();

/**
 * Tokens, one-time login links and sessions of the pages. Tokens are compared as SHA-256
 * digests in constant time (as the API's TokenVerifier does); sessions live in this process's
 * memory (a restart asks for a new login), behind an HttpOnly, SameSite=Strict cookie.
 */
export class UiSessions {
  private readonly tokens: Array<{ digest: Buffer; role: Role }>;
  private readonly sessions = new Map<string, Session>();
  private readonly once = new Map<string, { role: Role; expiresAt: number }>();

  constructor(tokens: { operator: string[]; finance: string[] }) {
    this.tokens = [
      ...tokens.operator.filter(Boolean).map((t) => ({ digest: digest(t), role: 'operator' as const })),
      ...tokens.finance.filter(Boolean).map((t) => ({ digest: digest(t), role: 'finance' as const })),
    ];
  }

  /** The role of a token, or undefined. Every configured token is compared (no early exit). */
  roleOfToken(token: string | undefined): Role | undefined {
    if (!token) return undefined;
    const given = digest(token);
    let role: Role | undefined;
    for (const t of this.tokens) if (timingSafeEqual(given, t.digest)) role = role === 'operator' ? role : t.role;
    return role;
  }

  /** A one-time login token (the `ui` command prints it in the URL): redeemable once, within 15 minutes. */
  issueOnce(role: Role = 'operator'): string {
    const token = randomBytes(24).toString('base64url');
    this.once.set(token, { role, expiresAt: Date.now() + ONCE_MS });
    return token;
  }

  redeemOnce(token: string): Role | undefined {
    const o = this.once.get(token);
    this.once.delete(token);
    return o && o.expiresAt > Date.now() ? o.role : undefined;
  }

  open(role: Role): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session = { role, csrf: randomBytes(24).toString('base64url'), expiresAt: Date.now() + SESSION_MS };
    this.sessions.set(id, session);
    return { id, session };
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** The session of a request's cookie, if live. */
  sessionOf(req: IncomingMessage): { id: string; session: Session } | undefined {
    const id = cookie(req, SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { id, session };
  }

  /** The role of a request: its session cookie, or an `Authorization: Bearer` token (scripts; no CSRF needed). */
  roleOf(req: IncomingMessage): { role: Role; csrf?: string; bearer: boolean } | undefined {
    const s = this.sessionOf(req);
    if (s) return { role: s.session.role, csrf: s.session.csrf, bearer: false };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const role = this.roleOfToken(bearer);
    return role ? { role, bearer: true } : undefined;
  }
}

/** A cookie's value from the request's Cookie header. */
export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
}

export const CLEAR_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** Tokens from the config and the environment: operators = the API tokens, finance = the finance tokens. */
export function uiTokensFrom(
  server: { apiTokens?: string[]; financeTokens?: string[] } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { operator: string[]; finance: string[] } {
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  return {
    operator: [...(server?.apiTokens ?? []), ...list(env.HOURBRIDGE_API_TOKENS)],
    finance: [...(server?.financeTokens ?? []), ...list(env.HOURBRIDGE_FINANCE_TOKENS)],
  };
}
