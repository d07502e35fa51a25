import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import nock from 'nock';
import pino from 'pino';
import { Redis } from 'ioredis';
import { sql } from 'drizzle-orm';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { TogglReportRow } from '../../connectors/toggl/types';
import { loadConfig, type LoadedConfig } from '../../src/config/loader';
import { closeRateLimiters } from '../../src/http/rate-limit';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { LiveUpdates } from '../../src/live/live.runtime';
import { saveSubscription } from '../../src/live/subscriptions.repository';
import type { ServiceContext } from '../../src/queue/bootstrap';
import { QueueRunner } from '../../src/queue/queue.runner';
import { createApp } from '../../src/service/app.module';
import { createTestDatabase, redisUrl } from '../support/services';

export const TOGGL_BASE = 'https://toggl.test';
export const WORKSPACE = 777;
export const HOOK_SECRET = 'fake-toggl-webhook-secret';
export const API_TOKEN = 'test-api-token-0123456789abcdef';
const CLOCKIFY_SOURCE = `
  - id: clockify
    kind: clockify
    apiKey: fake-clockify-api-key
    workspaceId: ws1
    baseUrl: https://clockify.test/api/v1
    timeZone: Europe/Amsterdam
    retry: { maxAttempts: 2 }
`;

/** The authTokens of the Clockify source's webhooks (one per event type). */
export const CLOCKIFY_TOKENS = ['fake-clockify-hook-token-new', 'fake-clockify-hook-token-deleted'];

/**
 * A Toggl Track workspace as its APIs document it, answered by nock: the Reports v3 search
 * (https://engineering.toggl.com/docs/track/reports/detailed_reports#post-search-time-entries)
 * honours `time_entry_ids`, `start_date`/`end_date`, `page_size` and X-Next-ID pagination.
 */
export class TogglWorkspace {
  readonly entries = new Map<number, { start: string; seconds: number; description: string }>();
  searches = 0;
  listed = 0;

  put(id: number, start: string, seconds = 3600, description = `task ${id}`): void {
    this.entries.set(id, { start, seconds, description });
  }

  private row(id: number): TogglReportRow {
    const e = this.entries.get(id)!;
    const stop = DateTime.fromISO(e.start).plus({ seconds: e.seconds }).toUTC().toISO({ suppressMilliseconds: true })!;
    return {
      // Sixty people: overtime is priced per person and week, so who worked matters to the cost.
      user_id: 11 + (id % 60),
      username: `Tess Tester ${id % 60}`,
      project_id: 21,
      project_name: 'Mobile app',
      client_name: 'Globex',
      billable: true,
      description: e.description,
      hourly_rate_in_cents: null,
      currency: 'EUR',
      time_entries: [{ id, seconds: e.seconds, start: e.start, stop, at: stop }],
    };
  }

  intercept(): nock.Scope {
    return (
      nock(TOGGL_BASE)
        .persist()
        .post(`/reports/api/v3/workspace/${WORKSPACE}/search/time_entries`)
        // nock 15 hands a reply function the request (a fetch Request).
        .reply(async (req: Request) => {
          this.searches++;
          const q = (await req.json()) as {
            start_date: string;
            end_date: string;
            page_size: number;
            time_entry_ids?: number[];
            first_id?: number;
          };
          const ids = [...this.entries.keys()]
            .filter((id) => !q.time_entry_ids || q.time_entry_ids.includes(id))
            .filter((id) => {
              const d = this.entries.get(id)!.start.slice(0, 10);
              return d >= q.start_date && d <= q.end_date;
            })
            .sort((a, b) => a - b)
            .filter((id) => q.first_id === undefined || id >= q.first_id);
          const page = ids.slice(0, q.page_size);
          this.listed += page.length;
          const next = ids[q.page_size];
          return [
            200,
            page.map((id) => this.row(id)),
            next !== undefined ? { 'X-Next-ID': String(next), 'X-Next-Row-Number': '1', 'X-Next-Timestamp': '1' } : {},
          ];
        })
    );
  }
}

let eventIds = 1000;

/** A Toggl webhook delivery as documented (https://engineering.toggl.com/docs/webhooks/events), signed like Toggl signs it. */
export function togglEvent(
  id: number,
  action: 'created' | 'updated' | 'deleted',
  start: string,
  opts: { timestamp?: string; secret?: string; eventId?: number } = {},
): { body: string; signature: string } {
  const at = opts.timestamp ?? new Date().toISOString();
  const body = JSON.stringify({
    event_id: opts.eventId ?? eventIds++,
    created_at: at,
    creator_id: 6,
    metadata: {
      action,
      event_user_id: '6',
      model: 'time_entry',
      path: `/api/v9/workspaces/${WORKSPACE}/time_entries/${id}`,
      request_type: action === 'created' ? 'POST' : action === 'deleted' ? 'DELETE' : 'PUT',
      time_entry_id: String(id),
      workspace_id: String(WORKSPACE),
    },
    payload: { id, workspace_id: WORKSPACE, start, duration: 3600, billable: true, description: `task ${id}` },
    subscription_id: 5,
    timestamp: at,
    url_callback: 'https://hourbridge.test/hooks/sources/toggl',
  });
  const signature = `sha256=${createHmac('sha256', opts.secret ?? HOOK_SECRET)
    .update(body)
    .digest('hex')}`;
  return { body, signature };
}

export interface LiveHarness {
  app: NestExpressApplication;
  runner: QueueRunner;
  /** The config file, the ledger's URL and the queue prefix (a second process can join the same service). */
  configFile: string;
  dbUrl: string;
  prefix: string;
  ledger: Ledger;
  config: LoadedConfig;
  live: LiveUpdates;
  tmp: string;
  close(): Promise<void>;
}

/** The service (Nest, real Redis, real PostgreSQL, the queue runner's workers) over one Toggl source. */
export async function startLiveService(opts: {
  prefix: string;
  live?: Record<string, number>;
  pageSize?: number;
  /** Configure the Clockify source too (default true). */
  clockify?: boolean;
}): Promise<LiveHarness> {
  process.env.HOURBRIDGE_SECRET_KEY ??= randomBytes(32).toString('hex');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-live-'));
  const { url, drop } = await createTestDatabase();
  const ledger = await openLedger({ url, poolSize: 6 });
  const file = path.join(tmp, 'hourbridge.yaml');
  await writeFile(
    file,
    `
sources:
  - id: toggl
    kind: toggl
    apiToken: fake-toggl-api-token
    workspaceId: ${WORKSPACE}
    baseUrl: ${TOGGL_BASE}
    timeZone: Europe/Amsterdam
    pageSize: ${opts.pageSize ?? 50}
    rateLimit: { requests: 10000, perSeconds: 1 }
    retry: { maxAttempts: 2 }
${opts.clockify === false ? '' : CLOCKIFY_SOURCE}clients:
  - { id: globex, name: Globex, currency: EUR, timeZone: Europe/Amsterdam, destination: files, period: { unit: month } }
rates:
  rulesets:
    standard:
      base:
        - { id: default, hourly: '65.00' }
destinations:
  - { id: files, kind: file, dir: ${JSON.stringify(path.join(tmp, 'out'))}, formats: [json] }
server:
  apiTokens: [${API_TOKEN}]
  live: ${JSON.stringify({ pullDelayMs: 100, assembleDelayMs: 300, replayWindowSeconds: 300, ...opts.live })}
`,
  );
  const config = loadConfig(file);
  const log = pino({ level: process.env.HB_TEST_LOG ?? 'silent' });
  const runner = new QueueRunner({ config, ledger, log, redisUrl, prefix: opts.prefix });
  const live = new LiveUpdates({ config, ledger, runner, log, redisUrl }).register();
  const ctx: ServiceContext = { config, ledger, runner, live, log, redisUrl, close: async () => runner.close() };
  await saveSubscription(ledger, parseSecretKey(process.env.HOURBRIDGE_SECRET_KEY), {
    sourceId: 'toggl',
    kind: 'toggl',
    subscription: { ids: ['5'], secrets: [HOOK_SECRET], url: 'https://hourbridge.test/hooks/sources/toggl' },
  });
  if (opts.clockify !== false)
    await saveSubscription(ledger, parseSecretKey(process.env.HOURBRIDGE_SECRET_KEY), {
      sourceId: 'clockify',
      kind: 'clockify',
      subscription: { ids: ['wh1', 'wh2'], secrets: CLOCKIFY_TOKENS, url: 'https://hourbridge.test/hooks/sources/clockify' },
    });
  const app = await createApp(ctx);
  await app.init();
  return {
    app,
    runner,
    configFile: file,
    dbUrl: url,
    prefix: opts.prefix,
    ledger,
    config,
    live,
    tmp,
    async close() {
      await app.close();
      await closeRateLimiters();
      const r = new Redis(redisUrl);
      const keys = await r.keys(`${opts.prefix}:*`);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
      await ledger.close();
      await drop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Where an entry stands: its status, and whether a live link puts it on a draft that was written since. */
export async function entryOnDraft(
  ledger: Ledger,
  externalId: string,
  sourceId = 'toggl',
): Promise<{ status?: string; onDraft: boolean; written: boolean }> {
  const rows = await ledger.rows<{ status: string; key: string | null; written: boolean | null }>(sql`
    SELECT te.status, i.key, (i.pushed_hash IS NOT DISTINCT FROM i.content_hash) AS written
    FROM time_entries te
    LEFT JOIN invoice_entries ie ON ie.entry_id = te.id AND ie.live
    LEFT JOIN invoices i ON i.id = ie.invoice_id AND i.live
    WHERE te.source_id = ${sourceId} AND te.external_id = ${externalId}`);
  const r = rows[0];
  return { ...(r ? { status: r.status } : {}), onDraft: Boolean(r?.key), written: Boolean(r?.key && r.written) };
}

/** A counter's value from the Prometheus text. */
export function counter(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => inner.split(',').includes(w))) return Number(line.slice(line.indexOf('}') + 1).trim());
  }
  return 0;
}

/** A recent weekday morning (UTC), `daysAgo` days back: inside the open month's draft most of the time. */
export function recentStart(daysAgo: number, hour = 8): string {
  return DateTime.utc().minus({ days: daysAgo }).set({ hour, minute: 0, second: 0, millisecond: 0 }).toISO({ suppressMilliseconds: true })!;
}
