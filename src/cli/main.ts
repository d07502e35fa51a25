import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { sql } from 'drizzle-orm';
import { loadConfig, type LoadedConfig } from '../config/loader';
import { ConfigError, formatPath } from '../config/issues';
import { openLedger, type Ledger } from '../ledger/db';
import { findEntry } from '../ledger/entries.repository';
import { createLogger } from '../observability/logger';
import { formatExplain } from '../rates/index';
import { invoicesReport, quarantineReport, unbilledReport } from '../reports/reports';
import { runSync, type SyncResult } from '../runners/inline.runner';
import { destinationConnectorMap, sourceConnectorFor } from '../runners/registry';
import type { RatedLine } from '../domain/rated-line';
import { createOut, createProgress, type Out } from './output';

/** Exit codes: 0 ok, 1 the run or check failed, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

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
  const ledger = await openLedger(ledgerOptions(config, opts));
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
    out.print(`Not invoiced: ${s.excluded} excluded (non-billable, unapproved or billed at source), ${s.unpriced} cannot be priced — see \`hourbridge report quarantine\`.`);
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
      ['invoice', 'client', 'period', 'hours', 'total', 'status'],
      result.invoices.map((i) => [i.key, i.clientName ?? i.client, `${i.periodStart} – ${i.periodEnd}`, i.hours, `${i.currency} ${i.total}`, i.error ? `${i.status}: ${i.error}` : i.status]),
      { alignRight: [3, 4] },
    );
    out.print(`${s.invoicesDrafted} new, ${s.invoicesUpdated} updated${s.invoicesEmptied ? `, ${s.invoicesEmptied} emptied` : ''}${s.corrections ? `, ${s.corrections} correction(s)` : ''}${result.dryRun ? ' (preview: nothing was written)' : `; ${s.pushed} written`}.`);
  }
  for (const alert of result.alerts) out.print(`! ${alert}`);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('hourbridge')
    .description('Hours from the time trackers you already use to exact draft invoices in your accounting package.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code: number = EXIT.ok;

  const common = (cmd: Command) =>
    cmd
      .requiredOption('-c, --config <path>', 'config file or directory of .yaml files')
      .option('--json', 'print one JSON document on stdout (logs stay on stderr)')
      .option('--data-dir <dir>', 'embedded ledger directory (default: ledger.dataDir from the config)')
      .option('--ledger-url <url>', 'PostgreSQL URL of the ledger (default: ledger.url, then DATABASE_URL)')
      .option('--log-level <level>', 'fatal, error, warn, info, debug', process.env.HOURBRIDGE_LOG_LEVEL ?? 'warn');

  common(program.command('validate').description('check a configuration; errors name file, line, column and YAML path')).action((opts: CommonOptions) => {
    const out = createOut(Boolean(opts.json));
    const config = loadConfig(opts.config);
    out.document({ ok: true, files: config.files, sources: config.sources.map((s) => s.id), clients: config.clients.map((c) => c.id), destinations: config.destinations.map((d) => d.id) });
    out.print(`${config.files.map((f) => path.relative(process.cwd(), f)).join(', ')}: OK — ${config.sources.length} source(s), ${config.clients.length} client(s), ${config.destinations.length} destination(s).`);
  });

  common(program.command('sync').description('pull, price, assemble and write draft invoices (inline runner)')).action(async (opts: CommonOptions) => {
    const out = createOut(Boolean(opts.json));
    const config = loadConfig(opts.config);
    const log = createLogger({ level: opts.logLevel });
    const result = await withLedger(config, opts, (ledger) => runSync({ config, ledger, log, progress: createProgress(!opts.json) }));
    printSync(out, result);
    if (result.summary.pushFailed > 0) code = EXIT.failed;
  });

  common(program.command('preview').description('show what would be invoiced, writing nothing')).action(async (opts: CommonOptions) => {
    const out = createOut(Boolean(opts.json));
    const config = loadConfig(opts.config);
    const log = createLogger({ level: opts.logLevel });
    const result = await withLedger(config, opts, (ledger) => runSync({ config, ledger, log, dryRun: true, progress: createProgress(!opts.json) }));
    printSync(out, result);
  });

  common(
    program
      .command('report')
      .description('unbilled: outstanding hours and amounts per client; billed: invoices and their state; quarantine: every rejected row')
      .argument('<kind>', 'unbilled | billed | quarantine')
      .option('--client <id>', 'only this client')
      .option('--source <id>', 'only this source (quarantine)'),
  ).action(async (kind: string, opts: CommonOptions & { client?: string; source?: string }) => {
    const out = createOut(Boolean(opts.json));
    if (!['unbilled', 'billed', 'quarantine'].includes(kind)) {
      process.stderr.write(`unknown report "${kind}": expected unbilled, billed or quarantine\n`);
      code = EXIT.usage;
      return;
    }
    const config = loadConfig(opts.config);
    await withLedger(config, opts, async (ledger) => {
      if (kind === 'unbilled') {
        const rows = await unbilledReport(ledger, opts.client);
        out.document({ report: 'unbilled', clients: rows });
        out.table(
          ['client', 'not drafted h', 'not drafted', 'on drafts h', 'on drafts', 'outstanding h', 'outstanding', 'excluded', 'unpriced'],
          rows.map((r) => [r.client, r.undraftedHours, `${r.currency} ${r.undraftedAmount}`, r.draftedHours, `${r.currency} ${r.draftedAmount}`, r.hours, `${r.currency} ${r.amount}`, r.excluded, r.unpriced]),
          { alignRight: [1, 2, 3, 4, 5, 6, 7, 8] },
        );
        out.print('Amounts are before per-line rounding; invoice totals are the sum of rounded line amounts.');
      } else if (kind === 'billed') {
        const rows = await invoicesReport(ledger, { clientId: opts.client });
        out.document({ report: 'billed', invoices: rows });
        out.table(
          ['invoice', 'client', 'period', 'hours', 'total', 'status', 'remote', 'error'],
          rows.map((r) => [r.key, r.client, r.period, r.hours, `${r.currency} ${r.total}`, r.status, r.remoteStatus, r.error]),
          { alignRight: [3, 4] },
        );
      } else {
        const rows = await quarantineReport(ledger, opts.source);
        out.document({ report: 'quarantine', rows });
        out.table(
          ['source', 'file', 'row', 'column', 'reason'],
          rows.map((r) => [r.source, r.file ? path.basename(r.file) : '', r.row, r.column ?? r.field, r.reason]),
        );
        out.print(`${rows.length} row(s) need attention.`);
      }
    });
  });

  common(program.command('explain').description('why an entry costs what it costs').requiredOption('--entry <source:id>', 'entry key, e.g. timesheet:ab12cd')).action(
    async (opts: CommonOptions & { entry: string }) => {
      const out = createOut(Boolean(opts.json));
      const config = loadConfig(opts.config);
      const sep = opts.entry.indexOf(':');
      if (sep <= 0) {
        process.stderr.write('--entry must be <source>:<external id>\n');
        code = EXIT.usage;
        return;
      }
      const [sourceId, externalId] = [opts.entry.slice(0, sep), opts.entry.slice(sep + 1)];
      await withLedger(config, opts, async (ledger) => {
        const stored = await findEntry(ledger, sourceId, externalId);
        if (!stored) {
          process.stderr.write(`no entry ${opts.entry} in the ledger (run sync first, or check the id with report)\n`);
          code = EXIT.failed;
          return;
        }
        const lines = (
          await ledger.rows<{ data: RatedLine }>(sql`SELECT data FROM rated_lines WHERE entry_id = ${stored.id} ORDER BY piece`)
        ).map((r) => r.data);
        const placed = await ledger.rows<{ key: string; description: string; amount: string; unitPrice: string; entryIds: string[] }>(sql`
          SELECT i.key, l.value->>'description' AS description, l.value->>'amount' AS amount, l.value->>'unitPrice' AS "unitPrice",
            ARRAY(SELECT jsonb_array_elements_text(l.value->'entryIds')) AS "entryIds"
          FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id, jsonb_array_elements(i.draft->'lines') l
          WHERE ie.entry_id = ${stored.id} AND ie.live`);
        const key = `${sourceId}:${externalId}`;
        const placements = lines.flatMap((l) => {
          const p = placed.find((x) => x.entryIds.includes(key) && x.unitPrice === l.unitPrice && !x.description.startsWith('Correction'));
          return p ? [{ piece: l.piece, invoiceKey: p.key, lineDescription: p.description, lineAmount: p.amount }] : [];
        });
        out.document({ entry: stored.entry, status: stored.status, revision: stored.revision, explain: lines, placements });
        out.print(formatExplain(stored.entry, lines, placements));
        if (lines.length === 0) out.print(`(no priced lines: status ${stored.status})`);
      });
    },
  );

  common(program.command('check').description('check every connector: credentials, reachability, permissions')).action(async (opts: CommonOptions) => {
    const out = createOut(Boolean(opts.json));
    const config = loadConfig(opts.config);
    const log = createLogger({ level: opts.logLevel });
    const ctx = { log, now: new Date(), configDir: config.configDir };
    const results: Array<{ id: string; kind: string; role: string; ok: boolean; category?: string; message: string; warnings?: string[] }> = [];
    const destinations = destinationConnectorMap();
    for (const s of config.sources) {
      const r = await sourceConnectorFor(s.kind).check(s, ctx).catch((e: Error) => ({ ok: false, category: 'transient' as const, message: e.message }));
      results.push({ id: s.id, kind: s.kind, role: 'source', ...r });
    }
    for (const d of config.destinations) {
      const connector = destinations.get(d.kind)!;
      const r = await connector.check(d, ctx).catch((e: Error) => ({ ok: false, category: 'transient' as const, message: e.message }));
      results.push({ id: d.id, kind: d.kind, role: 'destination', ...r });
    }
    out.document({ ok: results.every((r) => r.ok), connectors: results });
    // An optional call that failed leaves the connector usable (ok) but is said, not hidden.
    const okText = (r: (typeof results)[number]) => (r.ok ? (r.warnings?.length ? 'yes, with warnings' : 'yes') : `no (${r.category ?? 'error'})`);
    const messageText = (r: (typeof results)[number]) => [r.message, ...(r.warnings ?? []).map((w) => `warning: ${w}`)].join('\n');
    out.table(['connector', 'kind', 'role', 'ok', 'message'], results.map((r) => [r.id, r.kind, r.role, okText(r), messageText(r)]));
    if (!results.every((r) => r.ok)) code = EXIT.failed;
  });

  common(
    program
      .command('connect')
      .description('authorise a destination (Xero: OAuth on a local callback; the token set is stored encrypted in the ledger)')
      .argument('<kind>', 'xero')
      .option('--destination <id>', 'destination id (default: the only one of that kind)')
      .option('--port <port>', 'local callback port registered as the redirect URI', '5173'),
  ).action(async (kind: string, opts: CommonOptions & { destination?: string; port: string }) => {
    const out = createOut(Boolean(opts.json));
    if (kind !== 'xero') {
      process.stderr.write(`connect supports: xero (got "${kind}")\n`);
      code = EXIT.usage;
      return;
    }
    const config = loadConfig(opts.config);
    const candidates = config.destinations.filter((d) => d.kind === 'xero' && (!opts.destination || d.id === opts.destination));
    if (candidates.length !== 1) {
      process.stderr.write(`expected exactly one xero destination${opts.destination ? ` with id ${opts.destination}` : ''}; found ${candidates.length} (use --destination)\n`);
      code = EXIT.usage;
      return;
    }
    const { runConnectFlow } = await import('../../connectors/xero/connect');
    const { XeroConfigSchema } = await import('../../connectors/xero/config.schema');
    const xeroConfig = XeroConfigSchema.parse(candidates[0]);
    const log = createLogger({ level: opts.logLevel });
    const result = await withLedger(config, opts, (ledger) =>
      runConnectFlow({ config: xeroConfig, ledger, port: Number(opts.port), log, openUrl: (url) => void process.stderr.write(`Open this URL to authorise Hourbridge in Xero:\n  ${url}\n`) }),
    );
    out.document({ ok: true, destination: xeroConfig.id, tenantId: result.tenantId, tenantName: result.tenantName });
    out.print(`Connected ${xeroConfig.id} to Xero organisation "${result.tenantName}" (${result.tenantId}).`);
  });

  (await import('./service.commands')).registerServiceCommands(program, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration problems:\n${err.issues
        .map((i) => `  ${i.file ? path.relative(process.cwd(), i.file) : '<config>'}:${i.line ?? 1}:${i.column ?? 1}  ${formatPath(i.path)}  ${i.message}`)
        .join('\n')}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`hourbridge: ${(err as Error).message}\n`);
    if (process.env.HOURBRIDGE_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.failed;
  }
}
