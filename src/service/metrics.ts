import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceContext } from '../queue/bootstrap';
import type { QueueName } from '../queue/jobs';
import { unbilledReport } from '../reports/reports';

/**
 * Prometheus metrics. Ledger figures are read at scrape time (the ledger is the truth, shared by
 * every worker process), job durations are observed by the workers of this process.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly jobDuration: Histogram<'queue' | 'job' | 'outcome'>;
  readonly jobsTotal: Counter<'queue' | 'job' | 'outcome'>;
  readonly sourceWebhooks: Counter<'source' | 'outcome'>;
  readonly liveSeconds: Histogram<'client'>;

  constructor(ctx: Pick<ServiceContext, 'ledger' | 'runner' | 'config'>) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'hourbridge_process_' });
    this.jobDuration = new Histogram({
      name: 'hourbridge_job_duration_seconds',
      help: 'Duration of queue job attempts run by this process',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 120],
      registers: [registry],
    });
    this.jobsTotal = new Counter({
      name: 'hourbridge_jobs_total',
      help: 'Queue job attempts run by this process',
      labelNames: ['queue', 'job', 'outcome'],
      registers: [registry],
    });
    this.sourceWebhooks = new Counter({
      name: 'hourbridge_source_webhooks_total',
      help: 'Tracker webhook deliveries (POST /hooks/sources/<id>) by outcome: accepted, ping, ignored, unverified (missing or wrong signature), replayed (seen before, or sent outside the replay window), unknown_source',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    });
    this.liveSeconds = new Histogram({
      name: 'hourbridge_live_seconds',
      help: "Seconds from the oldest webhook event (or changed poll) a live assembly covers to that client's drafts being written, observed by the process that wrote them",
      labelNames: ['client'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    });
    const { ledger, runner, config } = ctx;
    new Gauge({
      name: 'hourbridge_entries',
      help: 'Time entries in the ledger by status (ingested = all of them)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await ledger.rows<{ status: string; n: number }>(
          sql`SELECT status, count(*)::int AS n FROM time_entries GROUP BY status`,
        );
        for (const r of rows) this.set({ status: r.status }, r.n);
      },
    });
    new Gauge({
      name: 'hourbridge_quarantined_records',
      help: 'Input records in quarantine (not resolved)',
      registers: [registry],
      async collect() {
        const rows = await ledger.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM quarantine WHERE resolved_at IS NULL`);
        this.set(rows[0]?.n ?? 0);
      },
    });
    new Gauge({
      name: 'hourbridge_invoices',
      help: 'Invoices by status (draft = drafted, not yet written; pushed; failed; approved; paid)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await ledger.rows<{ status: string; n: number }>(sql`SELECT status, count(*)::int AS n FROM invoices GROUP BY status`);
        for (const r of rows) this.set({ status: r.status }, r.n);
      },
    });
    new Gauge({
      name: 'hourbridge_unbilled_amount',
      help: 'Outstanding net amount (excl. tax) per client: open drafts plus what the next assembly adds, as `report unbilled` shows it, in the client currency',
      labelNames: ['client', 'currency'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await unbilledReport(ledger, config))
          this.set({ client: r.client, currency: r.currency }, Number(r.outstanding.net));
      },
    });
    new Gauge({
      name: 'hourbridge_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        const depths = await runner.depths();
        for (const [queue, counts] of Object.entries(depths))
          for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      },
    });
  }

  observeLive = (client: string, seconds: number) => {
    this.liveSeconds.observe({ client }, seconds);
  };

  observeJob = (queue: QueueName, job: string, seconds: number, outcome: 'completed' | 'failed' | 'waiting') => {
    this.jobDuration.observe({ queue, job, outcome }, seconds);
    this.jobsTotal.inc({ queue, job, outcome });
  };
}
