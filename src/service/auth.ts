import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_TOKENS } from './tokens';

/** Routes open without a token: liveness/readiness probes and signature-checked webhooks. */
export const PUBLIC_ROUTE = 'hourbridge:public';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

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
  const fromEnv = (env.HOURBRIDGE_API_TOKENS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  return [...configured, ...fromEnv];
}

@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(API_TOKENS) private readonly tokens: TokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<IncomingMessage>();
    if (!this.tokens.verify(req.headers.authorization)) {
      throw new UnauthorizedException('a valid API token is required: Authorization: Bearer <token>');
    }
    return true;
  }
}

/** The same check for routes mounted outside Nest's router (dashboard, OpenAPI page). */
export function bearerMiddleware(tokens: TokenVerifier) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    if (tokens.verify(req.headers.authorization)) return next();
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', 'Bearer');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ statusCode: 401, message: 'a valid API token is required: Authorization: Bearer <token>' }));
  };
}
