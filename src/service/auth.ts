import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_TOKENS } from './tokens';
import type { TokenVerifier } from './token-verifier';

export { apiTokensFrom, TokenVerifier } from './token-verifier';

/** Routes open without a token: liveness/readiness probes and signature-checked webhooks. */
export const PUBLIC_ROUTE = 'hourbridge:public';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

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

/**
 * The same check for routes mounted outside Nest's router (dashboard, OpenAPI page);
 * `alsoAllowed` lets an operator's page session through (the dashboard linked from the health page).
 */
export function bearerMiddleware(tokens: TokenVerifier, alsoAllowed?: (req: IncomingMessage) => boolean) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    if (tokens.verify(req.headers.authorization) || alsoAllowed?.(req)) return next();
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', 'Bearer');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ statusCode: 401, message: 'a valid API token is required: Authorization: Bearer <token>' }));
  };
}
