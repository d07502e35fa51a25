import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { exactOnlineDestination } from '../../connectors/exactonline';
import { ExactOnlineConfigSchema, REGIONS, siteBase } from '../../connectors/exactonline/config.schema';
import { ExactSession } from '../../connectors/exactonline/exact-session';
import { exactOAuthClient } from '../../connectors/exactonline/exact-session';
import { ledgerConnectionStore } from '../../src/destinations/token-store';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeExact, type FakeExact } from '../fakes/exactonline-server';
import { draft, line, rememberedFrom, silentLog, writeCtx } from '../xero/helpers';
import { ITEM, connect, exactConfig, key } from './helpers';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('Exact Online push (fake Exact site)', () => {
  let fake: FakeExact;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeExact();
    fake.addAccount('Acme Ltd');
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });

  it('Given each region When no baseUrl is set Then the site is start.exactonline.<region>, and its token endpoint is on that site', () => {
    const hosts = REGIONS.map((region) =>
      siteBase(
        ExactOnlineConfigSchema.parse({
          id: 'x',
          kind: 'exactonline',
          division: 1,
          region,
          auth: { clientId: 'test-client-id', clientSecret: 'fake-secret' },
          defaults: { item: ITEM },
        }),
      ),
    );
    expect(hosts).toEqual([
      'https://start.exactonline.nl',
      'https://start.exactonline.be',
      'https://start.exactonline.de',
      'https://start.exactonline.co.uk',
      'https://start.exactonline.com',
      'https://start.exactonline.fr',
      'https://start.exactonline.es',
    ]);
    const be = ExactOnlineConfigSchema.parse({
      id: 'x',
      kind: 'exactonline',
      division: 1,
      region: 'be',
      auth: { clientId: 'test-client-id', clientSecret: 'fake-secret' },
      defaults: { item: ITEM },
    });
    expect(exactOAuthClient(be).tokenUrl).toBe('https://start.exactonline.be/api/oauth2/token');
  });

  it('Given a draft When written Then it is a status-10 sales invoice with items and VAT codes from YAML, and an edit changes only the lines that changed', async () => {
    const config = exactConfig(fake, {
      defaults: {
        item: ITEM,
        items: { fee: '00000000-0000-4000-8000-000000000002' },
        vatCode: '2',
        vatCodes: { low: '1' },
        customer: { createMissing: true },
      },
    });
    await connect(ledger, fake, config);
    const d = draft(1, { lines: [line('ann', '7.5', '95.00'), line('fee', '1', '25.00', { kind: 'fee', taxType: 'low' })] });
    const first = await exactOnlineDestination.write(config, [d], writeCtx(new Map(), { ledger }));
    expect(first[0]).toMatchObject({
      status: 'written',
      remoteStatus: '10',
      remoteTotal: '737.50',
      remoteTax: '151.88',
      remoteGross: '889.38',
    });
    const inv = fake.invoices.get(first[0]?.status === 'written' ? (first[0].remoteId as string) : '');
    expect(inv?.lines.map((l) => [l.Item, l.VATCode, l.AmountFC])).toEqual([
      [ITEM, '2', 712.5],
      ['00000000-0000-4000-8000-000000000002', '1', 25],
    ]);
    const before = fake.requests.length;
    const edited = draft(1, { lines: [line('ann', '8', '95.00'), line('fee', '1', '25.00', { kind: 'fee', taxType: 'low' })] });
    const [o] = await exactOnlineDestination.write(config, [edited], writeCtx(rememberedFrom(first, [d]), { ledger }));
    expect(o).toMatchObject({ status: 'written', remoteId: inv?.InvoiceID, remoteTotal: '785.00' });
    const writes = fake.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => r.method)).toEqual(['PUT']);
  });

  it('Given an update that adds a line and the answer to that POST is lost When writing Then the line is there once: the update reads the lines again before it adds anything', async () => {
    const config = exactConfig(fake);
    await connect(ledger, fake, config);
    const d = draft(2, { lines: [line('ann', '2', '100.00')] });
    const first = await exactOnlineDestination.write(config, [d], writeCtx(new Map(), { ledger }));
    const id = first[0]?.status === 'written' ? (first[0].remoteId as string) : '';
    fake.inject('drop-after-commit', { method: 'POST', path: /\/SalesInvoiceLines$/ });
    const grown = draft(2, { lines: [line('ann', '2', '100.00'), line('bob', '3', '100.00')] });
    const [o] = await exactOnlineDestination.write(config, [grown], writeCtx(rememberedFrom(first, [d]), { ledger }));
    expect(o).toMatchObject({ status: 'written', remoteId: id, remoteTotal: '500.00' });
    expect(fake.invoices.get(id)?.lines.map((l) => l.Quantity)).toEqual([2, 3]);
  });

  it('Given a minute budget exhausted elsewhere When writing Then the 429 is waited out until X-RateLimit-Minutely-Reset and the headers are read back', async () => {
    const tight = await startFakeExact({ perMinute: 5, windowMs: 800 });
    tight.addAccount('Acme Ltd');
    try {
      // Our own budget is generous: the vendor's headers have to do the pacing.
      const config = exactConfig(tight, { rateLimits: { perMinute: 1000, perDay: 5000, concurrent: 4, windowMs: 60_000 } });
      await connect(ledger, tight, config);
      const session = new ExactSession(config, { ledger });
      const started = Date.now();
      for (let i = 0; i < 8; i++) await session.invoicesByYourRef([`HB-${i}`]);
      expect(tight.stats.throttled).toBeGreaterThan(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
      expect(session.budget.minutelyRemaining).toBeDefined();
      expect(session.budget.dailyRemaining).toBe(5000 - 8);
    } finally {
      await tight.stop();
    }
  });

  it('Given our own minute budget When writing more drafts than it allows Then the client paces itself and Exact never answers 429', async () => {
    const tight = await startFakeExact({ perMinute: 12, windowMs: 1000 });
    tight.addAccount('Acme Ltd');
    try {
      const config = exactConfig(tight, { rateLimits: { perMinute: 10, perDay: 5000, concurrent: 4, windowMs: 1000 } });
      await connect(ledger, tight, config);
      const outcomes = await exactOnlineDestination.write(
        config,
        Array.from({ length: 8 }, (_, i) => draft(10 + i)),
        writeCtx(new Map(), { ledger }),
      );
      expect(outcomes.every((o) => o.status === 'written')).toBe(true);
      expect(tight.stats.throttled).toBe(0);
      expect(tight.stats.creates).toBe(8);
    } finally {
      await tight.stop();
    }
  });

  it('Given a yourRef template longer than 30 characters When writing Then that draft fails naming the limit', async () => {
    const config = exactConfig(fake, { clients: { acme: { yourRef: 'HOURBRIDGE-{{key}}' } } });
    await connect(ledger, fake, config);
    const [o] = await exactOnlineDestination.write(config, [draft(30)], writeCtx(new Map(), { ledger }));
    expect(o).toMatchObject({ status: 'failed', category: 'config' });
    expect(o?.status === 'failed' && o.message).toMatch(/over Exact Online's 30; use \{\{keyHash\}\}/);
  });

  it('Given a stored connection When checked Then it names the division and the calls left today; without one it says to connect', async () => {
    const config = exactConfig(fake);
    await connect(ledger, fake, config);
    const ok = await exactOnlineDestination.check(config, { log: silentLog, now: new Date(), configDir: '.', services: { ledger } });
    expect(ok).toMatchObject({ ok: true });
    expect(ok.message).toMatch(new RegExp(`division ${fake.opts.division} as Fake Finance User; \\d+ calls left today`));
    const missing = await exactOnlineDestination.check(exactConfig(fake), {
      log: silentLog,
      now: new Date(),
      configDir: '.',
      services: { ledger },
    });
    expect(missing).toMatchObject({ ok: false, category: 'auth' });
    expect(missing.message).toMatch(/hourbridge connect exactonline/);
  });

  it('Given consent in the browser When `connect exactonline` completes Then the PKCE-checked code is exchanged and the token set is stored for the division', async () => {
    const port = await freePort();
    const config = exactConfig(fake, {
      auth: { clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret, redirectUri: `http://127.0.0.1:${port}/callback` },
    });
    const connections = ledgerConnectionStore(ledger, key);
    let consent = '';
    const result = await exactOnlineDestination.connect!(config, {
      connections,
      port,
      openUrl: async (url) => {
        consent = url;
        await fetch(url);
      },
    });
    expect(new URL(consent).pathname).toBe('/api/oauth2/auth');
    expect(new URL(consent).searchParams.get('code_challenge_method')).toBe('S256');
    expect(result.tenantId).toBe(String(fake.opts.division));
    const stored = await connections.read(config.id);
    expect(stored?.tokenSet.refresh_token).toMatch(/^fake-rt-/);
  });
});
