import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { hookUrl } from '../../src/cli/connect-source';
import { main } from '../../src/cli/main';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { closeRateLimiters } from '../../src/http/rate-limit';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { readSubscription } from '../../src/live/subscriptions.repository';
import { describeIf } from '../support/runner';
import { createTestDatabase, postgresAvailable } from '../support/services';

const up = await postgresAvailable();

describeIf(up)('hourbridge connect toggl|clockify: the subscription is registered and its secret stored sealed in the ledger', () => {
  let tmp: string;
  let file: string;
  let dbUrl: string;
  let drop: () => Promise<void>;
  let ledger: Ledger;
  const key = randomBytes(32).toString('hex');

  /** Runs the CLI in this process (nock sees its requests) and returns its one JSON document. */
  async function cli(args: string[]): Promise<{ code: number; doc: Record<string, unknown> }> {
    const chunks: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    try {
      const code = await main([...args, '--json', '--config', file, '--ledger-url', dbUrl]);
      return { code, doc: JSON.parse(chunks.join('')) as Record<string, unknown> };
    } finally {
      spy.mockRestore();
    }
  }

  beforeAll(async () => {
    process.env.HOURBRIDGE_SECRET_KEY = key;
    nock.disableNetConnect();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-connect-'));
    ({ url: dbUrl, drop } = await createTestDatabase());
    file = path.join(tmp, 'hourbridge.yaml');
    await writeFile(
      file,
      `
sources:
  - { id: toggl, kind: toggl, apiToken: fake-toggl-api-token, workspaceId: 777, baseUrl: "https://toggl.test" }
  - { id: clockify, kind: clockify, apiKey: fake-clockify-key, workspaceId: ws1, baseUrl: "https://clockify.test/api/v1" }
clients:
  - { id: globex, name: Globex, currency: EUR, timeZone: Europe/Amsterdam, destination: files, period: { unit: month } }
rates:
  rulesets:
    standard:
      base:
        - { id: default, hourly: '65.00' }
destinations:
  - { id: files, kind: file, dir: ./out }
`,
    );
    ledger = await openLedger({ url: dbUrl });
  });

  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await closeRateLimiters();
    await ledger?.close();
    await drop?.();
    await rm(tmp, { recursive: true, force: true });
  });

  it('Given a base URL or the full hook URL When hookUrl is built Then both end in /hooks/sources/<id>', () => {
    expect(hookUrl('https://hb.example.com', 'toggl')).toBe('https://hb.example.com/hooks/sources/toggl');
    expect(hookUrl('https://hb.example.com/base/', 'toggl')).toBe('https://hb.example.com/base/hooks/sources/toggl');
    expect(hookUrl('https://hb.example.com/hooks/sources/toggl', 'toggl')).toBe('https://hb.example.com/hooks/sources/toggl');
  });

  it('Given a Toggl source with an earlier subscription When connect toggl runs Then the old one is deleted, a time-entry subscription is created for the hook URL, and its secret is stored sealed', async () => {
    let created: Record<string, unknown> | undefined;
    // https://engineering.toggl.com/docs/webhooks/subscriptions (list, delete, create)
    const api = nock('https://toggl.test', {
      reqheaders: { authorization: `Basic ${Buffer.from('fake-toggl-api-token:api_token').toString('base64')}` },
    })
      .get('/webhooks/api/v1/subscriptions/777')
      .reply(200, [
        { subscription_id: 3, description: 'hourbridge source toggl', url_callback: 'https://old.example.com/hooks/sources/toggl' },
        { subscription_id: 4, description: 'someone else', url_callback: 'https://other.example.com' },
      ])
      .delete('/webhooks/api/v1/subscriptions/777/3')
      .reply(200, {})
      .post('/webhooks/api/v1/subscriptions/777')
      .reply(200, async (req: Request) => {
        created = (await req.json()) as Record<string, unknown>;
        return {
          subscription_id: 9,
          workspace_id: 777,
          enabled: true,
          description: created.description,
          event_filters: created.event_filters,
          url_callback: created.url_callback,
          secret: created.secret,
          validated_at: null,
        };
      });
    const { code, doc } = await cli(['connect', 'toggl', '--url', 'https://hb.example.com']);
    expect(code).toBe(0);
    expect(api.isDone()).toBe(true);
    expect(doc).toMatchObject({ ok: true, source: 'toggl', url: 'https://hb.example.com/hooks/sources/toggl', subscriptions: ['9'] });
    expect(created).toMatchObject({
      url_callback: 'https://hb.example.com/hooks/sources/toggl',
      event_filters: [{ entity: 'time_entry', action: '*' }],
      enabled: true,
      description: 'hourbridge source toggl',
    });
    const secret = String(created?.secret);
    expect(secret.length).toBeGreaterThanOrEqual(24);
    const stored = await readSubscription(ledger, parseSecretKey(key), 'toggl');
    expect(stored).toEqual({ ids: ['9'], secrets: [secret], url: 'https://hb.example.com/hooks/sources/toggl' });
    // Sealed: the row never holds the secret in clear text, and the JSON document does not show it.
    const rows = await ledger.rows<{ secret: string; kind: string }>(
      sql`SELECT secret, kind FROM connections WHERE id = 'source-hook:toggl'`,
    );
    expect(rows[0]?.kind).toBe('toggl-webhook');
    expect(rows[0]?.secret).not.toContain(secret);
    expect(JSON.stringify(doc)).not.toContain(secret);
  });

  it('Given a Clockify source When connect clockify runs Then one workspace webhook per time-entry event is created and every authToken is stored sealed', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    // https://docs.clockify.me/#tag/Webhooks (list, create)
    const api = nock('https://clockify.test', { reqheaders: { 'x-api-key': 'fake-clockify-key' } })
      .get('/api/v1/workspaces/ws1/webhooks')
      .reply(200, { webhooks: [], workspaceWebhookCount: 0 })
      .post('/api/v1/workspaces/ws1/webhooks')
      .times(4)
      .reply(201, async (req: Request) => {
        const body = (await req.json()) as Record<string, unknown>;
        bodies.push(body);
        return { id: `wh${bodies.length}`, authToken: `fake-token-${bodies.length}`, ...body, workspaceId: 'ws1', enabled: true };
      });
    const { code, doc } = await cli([
      'connect',
      'clockify',
      '--source',
      'clockify',
      '--url',
      'https://hb.example.com/hooks/sources/clockify',
    ]);
    expect(code).toBe(0);
    expect(api.isDone()).toBe(true);
    expect(bodies.map((b) => b.webhookEvent)).toEqual(['NEW_TIME_ENTRY', 'TIMER_STOPPED', 'TIME_ENTRY_UPDATED', 'TIME_ENTRY_DELETED']);
    for (const b of bodies)
      expect(b).toMatchObject({
        url: 'https://hb.example.com/hooks/sources/clockify',
        triggerSourceType: 'WORKSPACE_ID',
        triggerSource: ['ws1'],
      });
    expect(doc).toMatchObject({ ok: true, subscriptions: ['wh1', 'wh2', 'wh3', 'wh4'] });
    const stored = await readSubscription(ledger, parseSecretKey(key), 'clockify');
    expect(stored?.secrets).toEqual(['fake-token-1', 'fake-token-2', 'fake-token-3', 'fake-token-4']);
  });

  it('Given no --url or no such source When connect runs Then it is a usage error (exit 2) and nothing is registered', async () => {
    expect((await cli(['connect', 'toggl'])).doc).toMatchObject({ ok: false, error: { code: 'usage', where: { option: '--url' } } });
    expect((await cli(['connect', 'clockify', '--source', 'nope', '--url', 'https://x.test'])).code).toBe(2);
  });
});
