import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { quickBooksDestination } from '../../connectors/quickbooks';
import { intuitOAuthClient } from '../../connectors/quickbooks/qbo-session';
import { parseIntuitNotification, verifyIntuitSignature } from '../../connectors/quickbooks/webhook';
import { ledgerConnectionStore } from '../../src/destinations/token-store';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeQuickBooks, type FakeQuickBooks } from '../fakes/quickbooks-server';
import { silentLog } from '../xero/helpers';
import { key, qboConfig } from './helpers';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('hourbridge connect quickbooks (authorisation code + PKCE, realmId on the callback)', () => {
  let fake: FakeQuickBooks;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeQuickBooks();
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });

  it('Given consent for the configured company When the flow completes Then the PKCE-checked code is exchanged and the realm and token set are stored sealed', async () => {
    const port = await freePort();
    const config = qboConfig(fake, {
      auth: { clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret, redirectUri: `http://127.0.0.1:${port}/callback` },
    });
    const connections = ledgerConnectionStore(ledger, key);
    let consent = '';
    const result = await quickBooksDestination.connect!(config, {
      connections,
      port,
      log: silentLog,
      openUrl: async (url) => {
        consent = url;
        await fetch(url);
      },
    });
    const q = new URL(consent).searchParams;
    expect([q.get('scope'), q.get('code_challenge_method'), q.get('response_type')]).toEqual([
      'com.intuit.quickbooks.accounting',
      'S256',
      'code',
    ]);
    expect(result).toMatchObject({ tenantId: fake.opts.realmId, tenantName: `Fake Company ${fake.opts.realmId}` });
    const stored = await connections.read(config.id);
    expect(stored?.tenantId).toBe(fake.opts.realmId);
    expect(stored?.tokenSet.refresh_token).toMatch(/^fake-rt-/);
    expect(await connections.tokens(intuitOAuthClient(config)).refresh(stored?.tokenSet.access_token ?? '')).toMatch(/^fake-at-/);
  });

  it('Given the user picks another company on the consent page When the flow completes Then nothing is stored and the error names both realms', async () => {
    const port = await freePort();
    const config = qboConfig(fake, {
      auth: { clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret, redirectUri: `http://127.0.0.1:${port}/callback` },
    });
    const connections = ledgerConnectionStore(ledger, key);
    await expect(
      quickBooksDestination.connect!(config, { connections, port, openUrl: async (url) => void (await fetch(`${url}&fake_realm=123`)) }),
    ).rejects.toThrow(new RegExp(`company 123, not realmId ${fake.opts.realmId}`));
    expect(await connections.read(config.id)).toBeUndefined();
  });
});

describe('QuickBooks webhook signature (intuit-signature)', () => {
  const token = 'fake-verifier-token';
  // The documented sample notification shape.
  const body = JSON.stringify({
    eventNotifications: [
      {
        realmId: '1185883450',
        dataChangeEvent: { entities: [{ name: 'Estimate', id: '130', operation: 'Update', lastUpdated: '2015-10-05T14:42:19-0700' }] },
      },
    ],
  });
  const sign = (b: string, t = token) => createHmac('sha256', t).update(b).digest('base64');

  it('Given a body signed with the verifier token When verified Then it passes, and its entity changes are read', () => {
    expect(verifyIntuitSignature(body, sign(body), token)).toBe(true);
    expect(parseIntuitNotification(body)).toEqual([{ realmId: '1185883450', name: 'Estimate', id: '130', operation: 'Update' }]);
  });

  it('Given a tampered body, another key, a missing or malformed header When verified Then each is refused', () => {
    expect(verifyIntuitSignature(body.replace('130', '131'), sign(body), token)).toBe(false);
    expect(verifyIntuitSignature(body, sign(body, 'other-token'), token)).toBe(false);
    expect(verifyIntuitSignature(body, undefined, token)).toBe(false);
    expect(verifyIntuitSignature(body, 'not base64 at all!', token)).toBe(false);
  });

  it('Given a body that is not a notification When parsed Then the error names the field', () => {
    expect(() => parseIntuitNotification('{"eventNotifications":[{"realmId":"1"}]}')).toThrow(/eventNotifications\.0\.dataChangeEvent/);
  });
});
