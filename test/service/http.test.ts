import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeIf, eventually } from '../support/runner';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { QueueRunner } from '../../src/queue/queue.runner';
import type { ServiceContext } from '../../src/queue/bootstrap';
import { createApp } from '../../src/service/app.module';
import { createTestDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services';
import { generatedConfig } from '../queue/support/generated-source';

const up = (await postgresAvailable()) && (await redisAvailable());
const TOKEN = 'test-token-0123456789abcdef-fake';
const WEBHOOK_KEY = 'fake-xero-webhook-key-for-tests';
const root = path.resolve(import.meta.dirname, '../..');

/**
 * A config the CLI accepts, with the service's clients and rates (the unbilled report builds
 * invoices from them); its source is never contacted: reports only read the ledger.
 */
const cliYaml = `
sources:
  - id: timesheet
    kind: harvest
    accountId: "1"
    token: fake-token-not-real
clients:
  - { id: acme, name: Acme B.V., currency: EUR, timeZone: Europe/Amsterdam, destination: files, period: { unit: week } }
  - { id: globex, name: Globex GmbH, currency: EUR, timeZone: Europe/Berlin, destination: files, period: { unit: month } }
rates:
  rulesets:
    standard:
      base:
        - { id: default, hourly: '65.00' }
        - { id: globex, match: { client: globex }, hourly: '82.50' }
      rounding: { time: { incrementMinutes: 15, direction: nearest } }
destinations:
  - { id: files, kind: file, dir: ./out }
`;

describeIf(up)('HTTP API (NestJS) against real Redis and PostgreSQL', () => {
  let app: NestExpressApplication;
  let ledger: Ledger;
  let runner: QueueRunner;
  let tmp: string;
  let dbUrl: string;
  let drop: () => Promise<void>;
  let runId: string;
  const prefix = `hbtest-http-${randomBytes(4).toString('hex')}`;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-http-'));
    ({ url: dbUrl, drop } = await createTestDatabase());
    ledger = await openLedger({ url: dbUrl, poolSize: 4 });
    const config = generatedConfig({
      count: 1200,
      outDir: path.join(tmp, 'out'),
      pipelines: [{ id: 'nightly', schedule: { cron: '0 6 * * 1-5', timeZone: 'Europe/Amsterdam' } }],
      server: { apiTokens: [TOKEN], webhooks: { xero: WEBHOOK_KEY } },
    });
    const log = pino({ level: 'silent' });
    runner = new QueueRunner({ config, ledger, log, redisUrl, prefix });
    const ctx: ServiceContext = { config, ledger, runner, log, redisUrl, close: async () => runner.close() };
    app = await createApp(ctx);
    await app.init();
    const res = await http().post('/pipelines/nightly/run').set(auth).expect(202);
    runId = res.body.runId;
    for (;;) {
      const s = await http().get(`/pipelines/runs/${runId}`).set(auth).expect(200);
      if (s.body.state === 'completed') break;
      if (s.body.state === 'failed') throw new Error(s.body.failedReason);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    const r = new Redis(redisUrl);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length > 0) await r.del(...keys);
    r.disconnect();
    await ledger?.close();
    await drop?.();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('Given no token When the health routes are called Then liveness and readiness (Redis and PostgreSQL) answer 200', async () => {
    await http().get('/health').expect(200, { status: 'ok' });
    const ready = await http().get('/health/ready').expect(200);
    expect(ready.body.info).toMatchObject({ redis: { status: 'up' }, ledger: { status: 'up' } });
  });

  it.each([
    '/reports/unbilled',
    '/reports/billed',
    '/reports/excluded',
    '/reports/quarantine',
    '/reports/overview',
    '/metrics',
    '/admin/queues',
    '/docs',
    '/pipelines',
  ])('Given %s When called without a token or with a wrong one Then it answers 401, and 200 with the right token', async (route) => {
    await http().get(route).expect(401);
    await http().get(route).set({ Authorization: 'Bearer wrong-token-0123456789abcdef' }).expect(401);
    await http().get(route).set({ Authorization: TOKEN }).expect(401);
    await http().get(route).set(auth).redirects(1).expect(200);
  });

  it('Given a protected POST When it has no token Then no run is started', async () => {
    await http().post('/pipelines/nightly/run').expect(401);
    await http().post('/pipelines/nope/run').set(auth).expect(404);
  });

  it.each(['overview', 'unbilled', 'billed', 'excluded', 'quarantine'])(
    'Given the ledger after a run When GET /reports/%s Then it returns exactly what the CLI prints with `report <kind> --json`',
    async (kind) => {
      const cfg = path.join(tmp, 'cli.yaml');
      await writeFile(cfg, cliYaml);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [path.join(root, 'bin/hourbridge.js'), 'report', kind, '--json', '-c', cfg, '--ledger-url', dbUrl],
        { cwd: tmp },
      );
      const cli = JSON.parse(stdout) as object;
      const res = await http().get(`/reports/${kind}`).set(auth).expect(200);
      expect(res.body).toEqual(cli);
      expect(JSON.stringify(res.body).length).toBeGreaterThan(50);
    },
    60_000,
  );

  it('Given a drafted invoice When GET /invoices/:key Then its net line amounts sum to its net total and it lists the entries it bills', async () => {
    const billed = await http().get('/reports/billed').set(auth).expect(200);
    const key = billed.body.invoices[0].key as string;
    const res = await http()
      .get(`/invoices/${encodeURIComponent(key)}`)
      .set(auth)
      .expect(200);
    expect(res.body.key).toBe(key);
    const cents = (res.body.lines as Array<{ net: string }>).reduce((a, l) => a + Math.round(Number(l.net) * 100), 0);
    expect(cents).toBe(Math.round(Number(res.body.net) * 100));
    expect(cents).toBeGreaterThan(0);
    expect(res.body.entries.length).toBeGreaterThan(0);
    await http().get('/invoices/no-such-invoice').set(auth).expect(404);
  });

  it('Given a finished run When /metrics is scraped Then it shows entries, quarantine, invoices, unbilled amounts, queue depths and job durations', async () => {
    const res = await http().get('/metrics').set(auth).expect(200);
    expect(res.text).toMatch(/hourbridge_entries\{status="drafted"\} \d+/);
    expect(res.text).toMatch(/hourbridge_quarantined_records 2/);
    expect(res.text).toMatch(/hourbridge_invoices\{status="pushed"\} [1-9]/);
    expect(res.text).toMatch(/hourbridge_unbilled_amount\{client="acme",currency="EUR"\} [1-9]/);
    expect(res.text).toMatch(/hourbridge_queue_jobs\{queue="push",state="completed"\} [1-9]/);
    expect(res.text).toMatch(/hourbridge_job_duration_seconds_count\{queue="rate",job="rate-batch",outcome="completed"\} [1-9]/);
  });

  it('Given a Xero webhook When its signature is missing or wrong Then it answers 401 without a token check, and 200 when it is right', async () => {
    const body = JSON.stringify({
      events: [{ resourceId: 'inv-123', eventCategory: 'INVOICE', eventType: 'UPDATE', eventDateUtc: '2026-04-01T10:00:00' }],
      firstEventSequence: 1,
      lastEventSequence: 1,
      entropy: 'x',
    });
    const sign = (key: string) => createHmac('sha256', key).update(body).digest('base64');
    const post = () => http().post('/webhooks/xero/xero').set('Content-Type', 'application/json');
    await post().send(body).expect(401);
    await post().set('x-xero-signature', sign('another-key')).send(body).expect(401);
    await post().set('x-xero-signature', sign(WEBHOOK_KEY)).send(body).expect(200);
    // Queued for a status refresh (this test config has no Xero destination, so the refresh
    // itself fails fast as unrecoverable; what matters here is that the event was accepted).
    const jobs = await runner.queues.status.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed']);
    expect(jobs.some((j) => j.name === 'status-refresh' && (j.data as { remoteId: string }).remoteId === 'inv-123')).toBe(true);
  });

  it('Given a pipeline with a cron and time zone When the service starts Then a BullMQ job scheduler exists for it', async () => {
    const schedulers = await runner.queues.trigger.getJobSchedulers();
    expect(schedulers).toEqual([expect.objectContaining({ key: 'pipeline.nightly', pattern: '0 6 * * 1-5', tz: 'Europe/Amsterdam' })]);
  });

  it('Given the OpenAPI document When fetched with a token Then it describes the protected routes with bearer auth', async () => {
    const res = await http().get('/docs/json').set(auth).expect(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/pipelines/{id}/run', '/reports/unbilled', '/invoices/{key}', '/health/ready']),
    );
    expect(res.body.components.securitySchemes.bearer).toBeDefined();
  });
  it('Given the service When a browser asks for / Then the finance pages answer (login first), and an operator session opens the queue dashboard', async () => {
    const anonymous = await http().get('/').expect(303);
    expect(anonymous.headers.location).toBe('/ui/login');
    const page = await http().get('/').set(auth).expect(200);
    expect(page.text).toContain('What is billed, and what is still outstanding');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.text).not.toContain(TOKEN);
    const login = await http().post('/ui/login').type('form').send({ token: TOKEN }).expect(303);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    await http().get('/admin/queues').set('Cookie', cookie).redirects(1).expect(200);
    await http().get('/ui/runs').set('Cookie', cookie).expect(200);
  });

  it('Given a page listening for live updates When a queue run finishes Then an event reaches it within 2 s of the end', async () => {
    const server = app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as { port: number };
    const events: number[] = [];
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/ui/events`, { headers: auth, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const reading = (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        if (decoder.decode(value).includes('event: runs')) events.push(Date.now());
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 700)); // the feed's first look at the ledger
      const started = await http().post('/pipelines/nightly/run').set(auth).expect(202);
      const id = started.body.runId as string;
      for (;;) {
        const s = await http().get(`/pipelines/runs/${id}`).set(auth).expect(200);
        if (s.body.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const [row] = await ledger.rows<{ finished: string }>(
        sql`SELECT (extract(epoch FROM finished_at) * 1000)::bigint::text AS finished FROM runs WHERE id = ${id}`,
      );
      const finished = Number(row!.finished);
      await eventually(() => events.some((t) => t >= finished), { timeout: 2000 }).toBe(true);
      expect(events.find((t) => t >= finished)! - finished).toBeLessThanOrEqual(2000);
    } finally {
      controller.abort();
      await reading;
    }
  });
});
