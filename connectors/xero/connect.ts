import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import axios from 'axios';
import type { Logger } from 'pino';
import type { Ledger } from '../../src/ledger/db';
import { ConnectorError } from '../../src/connectors/errors';
import { loadSecretKey, type SecretKey } from '../../src/crypto/secret-box';
import type { XeroConfig } from './config.schema';
import { saveConnection, tokenRequest } from './token-store';

/**
 * `hourbridge connect xero`: the OAuth 2.0 authorisation-code flow with PKCE on a local
 * callback (developer.xero.com/documentation/guides/oauth2/pkce-flow). The consent URL is
 * built here rather than with xero-node's `buildConsentUrl`, which needs OIDC discovery
 * against identity.xero.com and cannot add a PKCE challenge. The token set is stored in the
 * ledger, sealed with HOURBRIDGE_SECRET_KEY.
 */

export interface XeroTenant {
  tenantId: string;
  tenantName: string;
  tenantType: string;
}

export interface ConnectFlowOptions {
  config: XeroConfig;
  ledger: Ledger;
  /** Local port of the callback server (the redirect URI registered with the Xero app). */
  port: number;
  /** Opens the consent page (a browser); default prints the URL. */
  openUrl?: (url: string) => void | Promise<void>;
  /** Picks the organisation when the config's tenantId is not among those authorised. */
  chooseTenant?: (tenants: XeroTenant[]) => string | Promise<string>;
  key?: SecretKey;
  log?: Logger;
  timeoutMs?: number;
}

export interface ConnectResult {
  tenantId: string;
  tenantName: string;
  tenants: XeroTenant[];
}

const b64url = (buf: Buffer) => buf.toString('base64url');

export function consentUrl(config: XeroConfig, redirectUri: string, state: string, codeChallenge: string): string {
  const u = new URL(config.identity.authorizeUrl);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', config.auth.clientId);
  u.searchParams.set('redirect_uri', redirectUri);
  u.searchParams.set('scope', config.auth.scopes.join(' '));
  u.searchParams.set('state', state);
  u.searchParams.set('code_challenge', codeChallenge);
  u.searchParams.set('code_challenge_method', 'S256');
  return u.toString();
}

function page(title: string, text: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html><meta charset="utf-8"><title>Hourbridge</title><h1>${esc(title)}</h1><p>${esc(text)}</p>`;
}

export async function runConnectFlow(options: ConnectFlowOptions): Promise<ConnectResult> {
  const { config, ledger, port } = options;
  if (config.auth.grant !== 'authorization_code') {
    throw new ConnectorError(
      'config',
      `Xero destination "${config.id}" uses client_credentials (a custom connection): it needs no connect step`,
      { connector: 'xero' },
    );
  }
  const key = options.key ?? loadSecretKey();
  const redirectUri = config.auth.redirectUri ?? `http://localhost:${port}/callback`;
  const redirect = new URL(redirectUri);
  const state = b64url(randomBytes(24));
  const verifier = b64url(randomBytes(48));
  const challenge = b64url(createHash('sha256').update(verifier).digest());

  const code = await new Promise<string>((resolve, reject) => {
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
        return finish(400, 'Not connected', `Xero answered: ${error}`, () =>
          reject(
            new ConnectorError(
              'auth',
              `Xero consent was not given (${error}${url.searchParams.get('error_description') ? `: ${url.searchParams.get('error_description')}` : ''})`,
              { connector: 'xero' },
            ),
          ),
        );
      }
      const got = url.searchParams.get('code');
      if (!got)
        return finish(400, 'Not connected', 'No authorisation code in the callback.', () =>
          reject(new ConnectorError('auth', 'Xero callback carried no authorisation code', { connector: 'xero' })),
        );
      finish(200, 'Hourbridge is connected to Xero', 'You can close this tab and return to the terminal.', () => resolve(got));
    });
    const timer = setTimeout(() => {
      server.close();
      server.closeAllConnections();
      reject(
        new ConnectorError('auth', `no answer from the Xero consent page within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`, {
          connector: 'xero',
        }),
      );
    }, options.timeoutMs ?? 300_000);
    server.on('error', (e) => {
      clearTimeout(timer);
      reject(new ConnectorError('config', `cannot listen for the Xero callback on port ${port}: ${e.message}`, { connector: 'xero' }));
    });
    server.listen(port, redirect.hostname === 'localhost' ? '127.0.0.1' : redirect.hostname, async () => {
      const url = consentUrl(config, redirectUri, state, challenge);
      try {
        if (options.openUrl) await options.openUrl(url);
        else process.stdout.write(`Open this address to connect Hourbridge to Xero:\n  ${url}\n`);
      } catch (e) {
        options.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not open the consent page');
      }
    });
  });

  let tokenSet: Awaited<ReturnType<typeof tokenRequest>>;
  try {
    tokenSet = await tokenRequest(config, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  } catch (e) {
    const kind = (e as { kind?: string }).kind;
    throw new ConnectorError(
      kind === 'invalid_client' ? 'config' : 'auth',
      `Xero did not exchange the authorisation code (${kind ?? 'error'}); check auth.clientId, auth.clientSecret and the redirect URI ${redirectUri}`,
      { connector: 'xero' },
    );
  }
  if (!tokenSet.refresh_token) {
    throw new ConnectorError('config', 'Xero issued no refresh token: add offline_access to auth.scopes', { connector: 'xero' });
  }

  // GET /connections: the organisations this consent covers.
  const res = await axios.get<{ tenantId: string; tenantName: string; tenantType: string }[]>(config.identity.connectionsUrl, {
    headers: { Authorization: `Bearer ${tokenSet.access_token}`, Accept: 'application/json' },
    timeout: 15_000,
  });
  const tenants = res.data
    .filter((t) => t.tenantType === 'ORGANISATION')
    .map((t) => ({ tenantId: t.tenantId, tenantName: t.tenantName, tenantType: t.tenantType }));
  let tenantId = tenants.some((t) => t.tenantId === config.tenantId) ? config.tenantId : undefined;
  if (!tenantId && options.chooseTenant && tenants.length > 0) tenantId = await options.chooseTenant(tenants);
  const chosen = tenants.find((t) => t.tenantId === tenantId);
  if (!chosen) {
    const list = tenants.map((t) => `${t.tenantName} (${t.tenantId})`).join(', ') || 'none';
    throw new ConnectorError(
      'config',
      `tenantId ${config.tenantId} of destination "${config.id}" is not among the organisations you authorised: ${list}; set tenantId to one of them and connect again`,
      { connector: 'xero' },
    );
  }
  await saveConnection(ledger, key, { id: config.id, tenantId: chosen.tenantId, tokenSet });
  options.log?.info({ destination: config.id, tenantId: chosen.tenantId, tenantName: chosen.tenantName }, 'xero connected');
  return { tenantId: chosen.tenantId, tenantName: chosen.tenantName, tenants };
}
