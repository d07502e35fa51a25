import type { RunRow } from '../../reports/runs';
import type { ConnectorCheck } from '../../runners/check';
import type { Schedule } from '../actions';
import { html } from '../html';
import { actionForm, layout, type PageUser, table, when } from './layout';

const duration = (ms: number | null) => (ms === null ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
const count = (n: number | null) => (n === null ? '' : String(n));

export function runsPage(args: {
  runs: RunRow[];
  schedules: Schedule[];
  checks: Array<ConnectorCheck & { at: string | null }>;
  depths: Record<string, Record<string, number>> | null;
  dashboard: string | null;
  mode: 'inline' | 'queue';
  pipelines: string[];
  user: PageUser;
}) {
  const { user } = args;
  const runs = table({
    caption: 'Recent runs',
    id: 'runs',
    head: [
      'Run',
      'Status',
      'Started',
      'Took',
      'Read',
      'Accepted',
      'Quarantined',
      'Drafted',
      'Updated',
      'Written',
      'Failed writes',
      'Message',
    ],
    numeric: [3, 4, 5, 6, 7, 8, 9, 10],
    empty: 'No runs yet.',
    rows: args.runs.map((r) => [
      html`<code>${r.id}</code>`,
      html`<span class="status s-${r.status}">${r.status}</span>`,
      when(r.startedAt),
      duration(r.durationMs),
      count(r.read),
      count(r.accepted),
      count(r.quarantined),
      count(r.invoicesDrafted),
      count(r.invoicesUpdated),
      count(r.pushed),
      count(r.pushFailed),
      html`${r.error ? html`<span class="err">${r.error}</span>` : ''}${r.alerts.map((a) => html`<div class="alert">${a}</div>`)}`,
    ]),
  });
  const schedules = table({
    caption: 'Schedules',
    head: ['Pipeline', 'Cron', 'Time zone', 'Next run'],
    empty: 'No pipeline has a schedule.',
    rows: args.schedules.map((s) => [
      s.pipeline,
      html`<code>${s.cron}</code>`,
      s.timeZone,
      s.next ? when(s.next) : args.mode === 'inline' ? 'scheduled runs happen under `hourbridge serve`' : 'not scheduled yet',
    ]),
  });
  const checks = table({
    caption: 'Connector checks',
    id: 'checks',
    head: ['Connector', 'Kind', 'Role', 'OK', 'Message', 'Checked', ''],
    empty: 'No connectors.',
    rows: args.checks.map((c) => [
      c.id,
      c.kind,
      c.role,
      c.at === null
        ? '—'
        : c.ok
          ? c.warnings?.length
            ? 'yes, with warnings'
            : 'yes'
          : html`<span class="err">no (${c.category ?? 'error'})</span>`,
      html`${c.message}${(c.warnings ?? []).map((w) => html`<div class="alert">${w}</div>`)}`,
      when(c.at),
      actionForm({
        action: '/ui/actions/check',
        label: 'Re-check',
        user,
        fields: html`<input type="hidden" name="connector" value="${c.id}">`,
      }),
    ]),
  });
  const depths = args.depths
    ? table({
        caption: 'Queue depths',
        id: 'queues',
        head: ['Queue', 'Waiting', 'Active', 'Delayed', 'Failed', 'Completed'],
        numeric: [1, 2, 3, 4, 5],
        rows: Object.entries(args.depths).map(([q, d]) => [
          q,
          String(d.waiting ?? 0),
          String(d.active ?? 0),
          String(d.delayed ?? 0),
          String(d.failed ?? 0),
          String(d.completed ?? 0),
        ]),
      })
    : html`<p>Runs here are inline (<code>hourbridge ui</code>): there are no queues.</p>`;
  return layout({
    title: 'Runs and health',
    active: 'runs',
    user,
    body: html`<h1>Runs and health</h1>
${actionForm({ action: '/ui/actions/run', label: 'Start a run', user, fields: html`<label>Pipeline <select name="pipeline">${args.pipelines.map((p) => html`<option>${p}</option>`)}</select></label>` })}
${runs}
${schedules}
<section aria-labelledby="checks-h"><h2 id="checks-h">Connectors</h2>
${actionForm({ action: '/ui/actions/check', label: 'Check every connector', user })}
${checks}</section>
<section aria-labelledby="queues-h"><h2 id="queues-h">Queues</h2>
${depths}
${args.dashboard ? html`<p><a href="${args.dashboard}">Queue dashboard</a> (jobs, retries, failures)</p>` : ''}</section>`,
  });
}
