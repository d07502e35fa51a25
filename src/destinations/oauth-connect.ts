import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConnectorError } from '../connectors/errors';
import { type OAuthClient, type StoredTokenSet, isTokenEndpointError, tokenRequest } from './token-store';

/**
 * `hourbridge connect <kind>`: the OAuth 2.0 authorisation-code flow (RFC 6749 §4.1) with PKCE
 * (RFC 7636, S256) on a local callback. The runtime runs the browser round trip and the code
 * exchange; the destination then confirms the account (tenant, realm, division) and stores the
 * token set through its ConnectionStore. Hand-rolled rather than with an OAuth client library:
 * it is one redirect, one form POST and a state check, and every vendor here deviates a little
 * (Xero's /connections, QuickBooks' realmId on the callback, Exact's division from /me).
 */

export interface AuthorizationCodeFlow {
  client: OAuthClient;
  authorizeUrl: string;
  /** Space-joined into `scope`; empty: no scope parameter. */
  scopes: readonly string[];
  /** The redirect URI registered with the vendor's app; default http://localhost:<port>/callback. */
  redirectUri?: string;
  port: number;
  /** Extra query parameters of the consent URL. */
  extraParams?: Record<string, string>;
  /** Opens the consent page (a browser); default prints the URL. */
  openUrl?: (url: string) => void | Promise<void>;
  log?: Logger;
  timeoutMs?: number;
  /** Said when the vendor issued no refresh token (e.g. "add offline_access to auth.scopes"). */
  noRefreshTokenHint?: string;
}

export interface AuthorizationResult {
  tokenSet: StoredTokenSet;
  /** The callback's query (QuickBooks puts realmId here). */
  callback: URLSearchParams;
  redirectUri: string;
}

const b64url = (buf: Buffer) => buf.toString('base64url');

export function consentUrl(flow: AuthorizationCodeFlow, redirectUri: string, state: string, codeChallenge: string): string {
  const u = new URL(flow.authorizeUrl);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', flow.client.clientId);
  u.searchParams.set('redirect_uri', redirectUri);
  if (flow.scopes.length > 0) u.searchParams.set('scope', flow.scopes.join(' '));
  u.searchParams.set('state', state);
  u.searchParams.set('code_challenge', codeChallenge);
  u.searchParams.set('code_challenge_method', 'S256');
  for (const [k, v] of Object.entries(flow.extraParams ?? {})) u.searchParams.set(k, v);
  return u.toString();
}

function page(title: string, text: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
  return `<!doctype html><meta charset="utf-8"><title>Hourbridge</title><h1>${esc(title)}</h1><p>${esc(text)}</p>`;
}

export async function runAuthorizationCodeFlow(flow: AuthorizationCodeFlow): Promise<AuthorizationResult> {
  const { client, port } = flow;
  const label = client.label;
  const connector = client.kind;
  const redirectUri = flow.redirectUri ?? `http://localhost:${port}/callback`;
  const redirect = new URL(redirectUri);
  const state = b64url(randomBytes(24));
  const verifier = b64url(randomBytes(48));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const timeoutMs = flow.timeoutMs ?? 300_000;

  const callback = await new Promise<URLSearchParams>((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', redirectUri);
      if (url.pathname !== redirect.pathname) {
        res.writeHead(404).end();
        return;
      }
      const finish = (status: number, title: string, text: string, outcome: () => void) => {
        // `connection: close`: the browser's keep-alive socket would otherwise hold the listener
        // (and the process) open for the server's keep-alive timeout after the flow has finished.
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end(page(title, text));
        clearTimeout(timer);
        server.close();
        server.closeIdleConnections();
        outcome();
      };
      if (url.searchParams.get('state') !== state) {
        // Not our consent (or a forged request): refuse without ending the wait.
        res
          .writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
          .end(page('Not connected', 'The state parameter does not match this connect attempt.'));
        return;
      }
      const error = url.searchParams.get('error');
      if (error) {
        const description = url.searchParams.get('error_description');
        return finish(400, 'Not connected', `${label} answered: ${error}`, () =>
          reject(
            new ConnectorError('auth', `${label} consent was not given (${error}${description ? `: ${description}` : ''})`, { connector }),
          ),
        );
      }
      if (!url.searchParams.get('code'))
        return finish(400, 'Not connected', 'No authorisation code in the callback.', () =>
          reject(new ConnectorError('auth', `${label} callback carried no authorisation code`, { connector })),
        );
      finish(200, `Hourbridge is connected to ${label}`, 'You can close this tab and return to the terminal.', () =>
        resolve(url.searchParams),
      );
    });
    const timer = setTimeout(() => {
      server.close();
      server.closeAllConnections();
      reject(
        new ConnectorError('auth', `no answer from the ${label} consent page within ${Math.round(timeoutMs / 1000)} s`, { connector }),
      );
    }, timeoutMs);
    server.on('error', (e) => {
      clearTimeout(timer);
      reject(new ConnectorError('config', `cannot listen for the ${label} callback on port ${port}: ${e.message}`, { connector }));
    });
    server.listen(port, redirect.hostname === 'localhost' ? '127.0.0.1' : redirect.hostname, async () => {
      const url = consentUrl(flow, redirectUri, state, challenge);
      try {
        if (flow.openUrl) await flow.openUrl(url);
        else process.stdout.write(`Open this address to connect Hourbridge to ${label}:\n  ${url}\n`);
      } catch (e) {
        flow.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not open the consent page');
      }
    });
  });

  let tokenSet: StoredTokenSet;
  try {
    tokenSet = await tokenRequest(client, {
      grant_type: 'authorization_code',
      code: callback.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
  } catch (e) {
    const kind = isTokenEndpointError(e) ? e.kind : undefined;
    throw new ConnectorError(
      kind === 'invalid_client' ? 'config' : 'auth',
      `${label} did not exchange the authorisation code (${kind ?? 'error'}); check auth.clientId, auth.clientSecret and the redirect URI ${redirectUri}`,
      { connector },
    );
  }
  if (!tokenSet.refresh_token) {
    throw new ConnectorError('config', `${label} issued no refresh token${flow.noRefreshTokenHint ? `: ${flow.noRefreshTokenHint}` : ''}`, {
      connector,
    });
  }
  return { tokenSet, callback, redirectUri };
}
