import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { runConnectFlow } from '../../connectors/xero/connect';
import { readConnection, StoredTokens } from '../../connectors/xero/token-store';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { fakeTenant, xeroConfig } from './helpers';

const key = parseSecretKey(randomBytes(32).toString('hex'));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('hourbridge connect xero (authorisation code + PKCE)', () => {
  let fake: FakeXero;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeXero({ tenants: [fakeTenant(71), fakeTenant(72)] });
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });

  it('Given a consent in the browser, when the flow completes, then the PKCE-checked code is exchanged, the configured organisation is confirmed and the token set is stored sealed', async () => {
    const port = await freePort();
    const config = xeroConfig(fake, {
      tenantId: fakeTenant(72).tenantId,
      auth: {
        grant: 'authorization_code',
        clientId: fake.opts.clientId,
        clientSecret: fake.opts.clientSecret,
        redirectUri: `http://127.0.0.1:${port}/callback`,
      },
    });
    let consent = '';
    const result = await runConnectFlow({
      config,
      ledger,
      port,
      key,
      openUrl: async (url) => {
        consent = url;
        await fetch(url); // the browser: the fake consent page redirects straight back to the callback
      },
    });
    const q = new URL(consent).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('scope')).toBe('openid offline_access accounting.invoices accounting.contacts');
    expect(q.get('state')).toMatch(/^[\w-]{32}$/);
    expect(result).toMatchObject({ tenantId: fakeTenant(72).tenantId, tenantName: 'Fake Org 72' });
    expect(result.tenants).toHaveLength(2);
    const stored = await readConnection(ledger, key, config.id);
    expect(stored!.tenantId).toBe(fakeTenant(72).tenantId);
    expect(stored!.tokenSet.refresh_token).toMatch(/^fake-rt-/);
    // The stored connection works: it refreshes.
    expect(await new StoredTokens(config, ledger, { key }).refresh(stored!.tokenSet.access_token)).toMatch(/^fake-at-/);
  });

  it('Given a callback with a foreign state, when it arrives, then it is refused and the flow keeps waiting for the real one', async () => {
    const port = await freePort();
    const config = xeroConfig(fake, {
      auth: {
        grant: 'authorization_code',
        clientId: fake.opts.clientId,
        clientSecret: fake.opts.clientSecret,
        redirectUri: `http://127.0.0.1:${port}/callback`,
      },
    });
    let forged = 0;
    const result = await runConnectFlow({
      config,
      ledger,
      port,
      key,
      openUrl: async (url) => {
        forged = (await fetch(`http://127.0.0.1:${port}/callback?code=stolen&state=forged`)).status;
        await fetch(url);
      },
    });
    expect(forged).toBe(400);
    expect(result.tenantId).toBe(fakeTenant(71).tenantId);
  });

  it('Given a tenantId the consent does not cover, when connecting, then the error lists the organisations that were authorised', async () => {
    const port = await freePort();
    const config = xeroConfig(fake, {
      tenantId: '99999999-9999-4999-8999-999999999999',
      auth: {
        grant: 'authorization_code',
        clientId: fake.opts.clientId,
        clientSecret: fake.opts.clientSecret,
        redirectUri: `http://127.0.0.1:${port}/callback`,
      },
    });
    await expect(runConnectFlow({ config, ledger, port, key, openUrl: async (u) => void (await fetch(u)) })).rejects.toThrow(
      /not among the organisations you authorised: Fake Org 71 .*Fake Org 72/,
    );
  });
});
