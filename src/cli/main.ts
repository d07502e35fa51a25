import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/loader';
import { openLedger, type Ledger } from '../ledger/db';
import { createLogger } from '../observability/logger';
import { explainEntry } from '../reports/explain';
import { AGEING_BUCKETS, OverviewOptionError, type OverviewOptions, overviewReport, parseOverviewOptions } from '../reports/overview';
import { excludedReport, invoicesReport, quarantineReport, unbilledReport } from '../reports/reports';
import { runSync, type SyncResult } from '../runners/inline.runner';
import { checkConnectors } from '../runners/check';
import { destinationConnectorMap } from '../runners/registry';
import { describeFailure, EXIT, LedgerOpenError } from './failure';
import { createOut, createProgress, type Out } from './output';
import { einvoiceReadiness } from '../config/einvoice-readiness';

export { EXIT } from './failure';

interface CommonOptions {
  config: string;
  json?: boolean;
  dataDir?: string;
  ledgerUrl?: string;
  logLevel?: string;
}

function ledgerOptions(config: LoadedConfig, opts: CommonOptions) {
  const url = opts.ledgerUrl || config.raw.ledger.url || process.env.DATABASE_URL || undefined;
  return url ? { url } : { dataDir: path.resolve(opts.dataDir ?? config.raw.ledger.dataDir) };
}

async function withLedger<T>(config: LoadedConfig, opts: CommonOptions, fn: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await openLedger(ledgerOptions(config, opts)).catch((err: unknown) => {
    throw new LedgerOpenError(`the ledger could not be opened: ${(err as Error).message}`, { cause: err });
  });
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}

function printSync(out: Out, result: SyncResult): void {
  const s = result.summary;
  out.document(result);
  out.table(
    ['read', 'accepted', 'unchanged', 'skipped', 'quarantined', 'deleted'],
    [[s.read, s.accepted, s.unchanged, s.skipped, s.quarantined, s.deleted]],
    { alignRight: [0, 1, 2, 3, 4, 5] },
  );
  if (s.excluded || s.unpriced) {
    const why = [
      s.excluded
        ? `${s.excluded} excluded (non-billable, not approved or billed at source) — listed by \`hourbridge report excluded\``
        : '',
      s.unpriced ? `${s.unpriced} cannot be priced — listed by \`hourbridge report quarantine\`` : '',
    ];
    out.print(`Not invoiced: ${why.filter(Boolean).join('; ')}.`);
  }
  if (result.invoices.length === 0) {
    out.print(
      result.dryRun
        ? 'Nothing new would be invoiced: no invoice would change.'
        : 'No invoice changed: nothing new to draft (the ledger already has everything this input bills).',
    );
  } else {
    out.print(result.dryRun ? '\nWould draft:' : '\nInvoices drafted or updated:');
    out.table(
      ['invoice', 'client', 'period', 'worked h', 'billed h', 'net (excl. tax)', 'status'],
      result.invoices.map((i) => [
        i.key,
        i.clientName ?? i.client,
        `${i.periodStart} – ${i.periodEnd}`,
        i.workedHours,
        i.billedHours,
        `${i.currency} ${i.net}`,
        i.error ? `${i.status}: ${i.error}` : i.status,
      ]),
      { alignRight: [3, 4, 5] },
    );
    out.print(
      `${s.invoicesDrafted} new, ${s.invoicesUpdated} updated${s.invoicesEmptied ? `, ${s.invoicesEmptied} emptied` : ''}${s.corrections ? `, ${s.corrections} correction(s)` : ''}${result.dryRun ? ' (preview: nothing was written)' : `; ${s.pushed} written`}.`,
    );
  }
  for (const alert of result.alerts) out.print(`! ${alert}`);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('hourbridge')
    .description('Hours from the time trackers you already use to exact draft invoices in your accounting package.')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Under --json the error document says it; stderr keeps to JSON log lines.
      outputError: (s, write) => {
        if (!json) write(s);
      },
    });
  // Decided before parsing, so that a usage error (unknown option, missing --config) still gets
  // its JSON document.
  const json = wantsJson(argv);
  const out: Out = createOut(json);
  let code: number = EXIT.ok;
  let loaded: LoadedConfig | undefined;
  const load = (target: string): LoadedConfig => (loaded = loadConfig(target));

  const common = (cmd: Command) =>
    cmd
      .requiredOption('-c, --config <path>', 'config file or directory of .yaml files')
      .option('--json', 'print one JSON document on stdout (logs stay on stderr)')
      .option('--data-dir <dir>', 'embedded ledger directory (default: ledger.dataDir from the config)')
      .option('--ledger-url <url>', 'PostgreSQL URL of the ledger (default: ledger.url, then DATABASE_URL)')
      .option('--log-level <level>', 'fatal, error, warn, info, debug', process.env.HOURBRIDGE_LOG_LEVEL ?? 'warn');

  common(program.command('validate').description('check a configuration; errors name file, line, column and YAML path')).action(
    (opts: CommonOptions) => {
      const config = load(opts.config);
      const einvoices = einvoiceReadiness(config);
      out.document({
        files: config.files,
        sources: config.sources.map((s) => s.id),
        clients: config.clients.map((c) => c.id),
        destinations: config.destinations.map((d) => d.id),
        einvoices,
      });
      out.print(
        `${config.files.map((f) => path.relative(process.cwd(), f)).join(', ')}: OK — ${config.sources.length} source(s), ${config.clients.length} client(s), ${config.destinations.length} destination(s).`,
      );
      for (const e of einvoices.filter((x) => !x.ready))
        out.print(`${e.client} → ${e.destination}: not ready for its first e-invoice, lacks ${e.missing.join('; ')}`);
    },
  );

  common(program.command('sync').description('pull, price, assemble and write draft invoices (inline runner)')).action(
    async (opts: CommonOptions) => {
      const config = load(opts.config);
      const log = createLogger({ level: opts.logLevel });
      const result = await withLedger(config, opts, (ledger) => runSync({ config, ledger, log, progress: createProgress(!opts.json) }));
      printSync(out, result);
      if (result.summary.pushFailed > 0) {
        const failed = result.invoices.filter((i) => i.status === 'failed');
        out.fail({
          code: 'push_failed',
          message: `${result.summary.pushFailed} invoice(s) could not be written${failed.length ? `: ${failed.map((i) => `${i.key}${i.error ? ` (${i.error})` : ''}`).join('; ')}` : ''}`,
        });
        code = EXIT.failed;
      }
    },
  );

  common(program.command('preview').description('show what would be invoiced, writing nothing')).action(async (opts: CommonOptions) => {
    const config = load(opts.config);
    const log = createLogger({ level: opts.logLevel });
    const result = await withLedger(config, opts, (ledger) =>
      runSync({ config, ledger, log, dryRun: true, progress: createProgress(!opts.json) }),
    );
    printSync(out, result);
  });

  common(
    program
      .command('report')
      .description(
        'overview: per client and currency, not drafted, on drafts, billed this and last period, ageing; unbilled: outstanding hours and net amounts per client and period; billed: invoices and their state; excluded: entries kept but not invoiced, and why; quarantine: every rejected row',
      )
      .argument('<kind>', 'overview | unbilled | billed | excluded | quarantine')
      .option('--client <id>', 'only this client')
      .option('--source <id>', 'only this source (excluded, quarantine)')
      .option('--bucket <week|month>', 'overview: chart points per week or month (default week)')
      .option('--from <date>', 'overview: chart range start, YYYY-MM-DD')
      .option('--to <date>', 'overview: chart range end, YYYY-MM-DD'),
  ).action(
    async (kind: string, opts: CommonOptions & { client?: string; source?: string; bucket?: string; from?: string; to?: string }) => {
      if (!['overview', 'unbilled', 'billed', 'excluded', 'quarantine'].includes(kind)) {
        out.fail({
          code: 'usage',
          message: `unknown report "${kind}": expected overview, unbilled, billed, excluded or quarantine`,
          where: { option: '<kind>' },
        });
        code = EXIT.usage;
        return;
      }
      let overviewOptions: OverviewOptions = {};
      try {
        overviewOptions = parseOverviewOptions(opts);
      } catch (err) {
        if (!(err instanceof OverviewOptionError)) throw err;
        out.fail({ code: 'usage', message: err.message, where: { option: `--${err.option}` } });
        code = EXIT.usage;
        return;
      }
      const config = load(opts.config);
      await withLedger(config, opts, async (ledger) => {
        if (kind === 'overview') {
          const { ok: _ok, ...document } = await overviewReport(ledger, config, overviewOptions);
          out.document(document);
          out.table(
            [
              'client',
              'not drafted h',
              'not drafted',
              'on drafts h',
              'on drafts',
              'billed this period',
              'billed last period',
              'age 0–7 d h',
              '8–30',
              '31–90',
              '> 90',
            ],
            [
              ...document.clients.map((c) => [
                c.client,
                c.notDrafted.billedHours,
                `${c.currency} ${c.notDrafted.net}`,
                c.drafted.billedHours,
                `${c.currency} ${c.drafted.net}`,
                `${c.currency} ${c.billedCurrent.net}`,
                `${c.currency} ${c.billedPrevious.net}`,
                ...AGEING_BUCKETS.map((b) => c.ageing[b]),
              ]),
              ...document.totals.map((t) => [
                `total ${t.currency}`,
                t.notDrafted.billedHours,
                `${t.currency} ${t.notDrafted.net}`,
                t.drafted.billedHours,
                `${t.currency} ${t.drafted.net}`,
                `${t.currency} ${t.billedCurrent.net}`,
                `${t.currency} ${t.billedPrevious.net}`,
                ...AGEING_BUCKETS.map((b) => t.ageing[b]),
              ]),
            ],
            { alignRight: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
          );
          out.print(
            'Amounts are net (excl. tax), hours are billed hours; ageing is worked hours not on an approved invoice, by days since worked.',
          );
        } else if (kind === 'unbilled') {
          const rows = await unbilledReport(ledger, config, opts.client);
          out.document({ report: 'unbilled', clients: rows });
          out.table(
            ['client', 'period', 'invoice', 'on draft h', 'on draft', 'not drafted h', 'not drafted', 'outstanding h', 'outstanding'],
            rows.flatMap((r) => [
              ...r.periods.map((p) => [
                r.client,
                p.period,
                p.invoice,
                p.drafted.billedHours,
                `${r.currency} ${p.drafted.net}`,
                p.notDrafted.billedHours,
                `${r.currency} ${p.notDrafted.net}`,
                p.outstanding.billedHours,
                `${r.currency} ${p.outstanding.net}`,
              ]),
              [
                r.client,
                'all',
                '',
                r.drafted.billedHours,
                `${r.currency} ${r.drafted.net}`,
                r.notDrafted.billedHours,
                `${r.currency} ${r.notDrafted.net}`,
                r.outstanding.billedHours,
                `${r.currency} ${r.outstanding.net}`,
              ],
            ]),
            { alignRight: [3, 4, 5, 6, 7, 8] },
          );
          out.print(
            'Amounts are net (excl. tax), hours are billed hours; each figure is the invoice\'s own: "on draft" is the open draft as it is, "not drafted" what the next sync adds to it.',
          );
          for (const r of rows) {
            const notes = [
              r.excluded ? `${r.excluded} excluded (\`report excluded\`)` : '',
              r.unpriced ? `${r.unpriced} cannot be priced (\`report quarantine\`)` : '',
              r.unrated ? `${r.unrated} not priced under the current rules yet (the next sync prices them)` : '',
            ].filter(Boolean);
            if (notes.length) out.print(`${r.client}: ${notes.join('; ')}.`);
          }
        } else if (kind === 'billed') {
          const rows = await invoicesReport(ledger, { clientId: opts.client });
          out.document({ report: 'billed', invoices: rows });
          out.table(
            [
              'invoice',
              'client',
              'period',
              'worked h',
              'billed h',
              'net (excl. tax)',
              'tax (remote)',
              'gross (remote)',
              'status',
              'remote',
              'error',
            ],
            rows.map((r) => [
              r.key,
              r.client,
              r.period,
              r.workedHours,
              r.billedHours,
              `${r.currency} ${r.net}`,
              r.remoteTax === null ? '' : `${r.currency} ${r.remoteTax}`,
              r.remoteGross === null ? '' : `${r.currency} ${r.remoteGross}`,
              r.status,
              r.remoteStatus,
              r.error,
            ]),
            { alignRight: [3, 4, 5, 6, 7] },
          );
        } else if (kind === 'excluded') {
          const rows = await excludedReport(ledger, { clientId: opts.client, sourceId: opts.source });
          out.document({ report: 'excluded', entries: rows });
          out.table(
            ['entry', 'client', 'date', 'worker', 'file', 'row', 'reason'],
            rows.map((r) => [r.entry, r.client, r.date, r.worker, r.file ? path.basename(r.file) : '', r.row, r.reason]),
          );
          out.print(`${rows.length} entr${rows.length === 1 ? 'y is' : 'ies are'} kept but not invoiced.`);
        } else {
          const rows = await quarantineReport(ledger, opts.source ? { sourceId: opts.source } : {});
          out.document({ report: 'quarantine', rows });
          out.table(
            ['source', 'file', 'row', 'column', 'reason'],
            rows.map((r) => [r.source, r.file ? path.basename(r.file) : '', r.row, r.column ?? r.field, r.reason]),
          );
          out.print(`${rows.length} row(s) need attention.`);
        }
      });
    },
  );

  common(
    program
      .command('explain')
      .description('why an entry costs what it costs')
      .requiredOption('--entry <source:id>', 'entry key, e.g. timesheet:ab12cd'),
  ).action(async (opts: CommonOptions & { entry: string }) => {
    const config = load(opts.config);
    const sep = opts.entry.indexOf(':');
    if (sep <= 0) {
      out.fail({ code: 'usage', message: '--entry must be <source>:<external id>', where: { option: '--entry' } });
      code = EXIT.usage;
      return;
    }
    const [sourceId, externalId] = [opts.entry.slice(0, sep), opts.entry.slice(sep + 1)];
    await withLedger(config, opts, async (ledger) => {
      const explained = await explainEntry(ledger, sourceId, externalId, (id) => config.clients.find((c) => c.id === id)?.timeZone);
      if (!explained) {
        out.fail({
          code: 'not_found',
          message: `no entry ${opts.entry} in the ledger (run sync first, or check the id with report)`,
          where: { source: sourceId },
        });
        code = EXIT.failed;
        return;
      }
      const { text, ...document } = explained;
      out.document(document);
      out.print(text);
    });
  });

  common(program.command('check').description('check every connector: credentials, reachability, permissions')).action(
    async (opts: CommonOptions) => {
      const config = load(opts.config);
      const log = createLogger({ level: opts.logLevel });
      // Destinations that connect with OAuth keep their tokens in the ledger: open it only for them.
      const oauth = config.destinations.some((d) => destinationConnectorMap().get(d.kind)?.connect);
      const results = oauth
        ? await withLedger(config, opts, (ledger) => checkConnectors(config, log, undefined, { ledger }))
        : await checkConnectors(config, log);
      out.document({ connectors: results });
      // An optional call that failed leaves the connector usable (ok) but is said, not hidden.
      const okText = (r: (typeof results)[number]) =>
        r.ok ? (r.warnings?.length ? 'yes, with warnings' : 'yes') : `no (${r.category ?? 'error'})`;
      const messageText = (r: (typeof results)[number]) => [r.message, ...(r.warnings ?? []).map((w) => `warning: ${w}`)].join('\n');
      out.table(
        ['connector', 'kind', 'role', 'ok', 'message'],
        results.map((r) => [r.id, r.kind, r.role, okText(r), messageText(r)]),
      );
      const failing = results.filter((r) => !r.ok);
      if (failing.length > 0) {
        const [first] = failing;
        out.fail({
          code: 'check_failed',
          message: `${failing.length} of ${results.length} connector(s) failed the check: ${failing.map((r) => r.id).join(', ')}`,
          ...(failing.length === 1 && first ? { where: { [first.role]: first.id, connector: first.kind } } : {}),
        });
        code = EXIT.failed;
      }
    },
  );

  (await import('./connect.command')).registerConnectCommand(program, { out, load, setExitCode: (c) => (code = c), common, withLedger });
  (await import('./service.commands')).registerServiceCommands(program, { out, load, setExitCode: (c) => (code = c) });
  (await import('./ui.command')).registerUiCommand(program, { out, load, setExitCode: (c) => (code = c) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return out.end(code);
  } catch (err) {
    // `--help` and `--version` end the parse with exit code 0: not a failure.
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT.ok;
    if (process.env.HOURBRIDGE_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return out.end(code, describeFailure(err, { config: loaded }));
  }
}

/** `--json` anywhere before a `--` (commander has not parsed yet when a usage error is found). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
