import path from 'node:path';
import { CommanderError } from 'commander';
import type { LoadedConfig } from '../config/loader';
import { ConfigError, formatPath } from '../config/issues';
import { ConnectorError, ConnectorRunError, type FailureCategory } from '../connectors/errors';
import { redactUrl, scrubSecrets } from '../http/redact';
import { destinationConnectorMap, sourceConnectorFor } from '../runners/registry';

/**
 * Why a command failed, as the `--json` error document states it:
 * `{ "ok": false, "error": { "code", "message", "where"? } }`. The codes are a stable contract
 * for scripts (README, "Scripts and --json"); the exit code follows from the code.
 */
export type FailureCode =
  /** Unknown command or option, a missing required option, a bad argument. Exit 2. */
  | 'usage'
  /** The configuration is invalid; `issues` lists every problem, `where` is the first. Exit 2. */
  | 'invalid_config'
  /** A connector failed during the run, by its failure category (`where` names it). Exit 1. */
  | `connector_${FailureCategory}`
  /** The ledger could not be opened (PostgreSQL unreachable, embedded directory unusable). Exit 1. */
  | 'ledger_unavailable'
  /** `check`: at least one connector is not OK (`connectors` lists them all). Exit 1. */
  | 'check_failed'
  /** `sync`: at least one invoice could not be written to its destination. Exit 1. */
  | 'push_failed'
  /** `run --wait`: the queued run failed. Exit 1. */
  | 'run_failed'
  /** `explain`: no such entry in the ledger. Exit 1. */
  | 'not_found'
  /** Anything else. Exit 1. */
  | 'failed';

/** Where the problem is, as far as it is known. */
export interface FailureWhere {
  file?: string;
  line?: number;
  column?: number;
  /** YAML path in the configuration, e.g. `clients[0].paymentTermDays`. */
  path?: string;
  row?: number;
  /** Configured source or destination id. */
  source?: string;
  destination?: string;
  /** Connector kind (`csv`, `harvest`, `xero`, …). */
  connector?: string;
  /** Command-line option or argument at fault. */
  option?: string;
}

export interface CliFailure {
  code: FailureCode;
  message: string;
  where?: FailureWhere;
  /** Every configuration problem (code `invalid_config`), each located like `where`. */
  issues?: Array<FailureWhere & { message: string }>;
}

/** Exit codes: 0 ok, 1 the run or check failed, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function exitCodeOf(failure: CliFailure): number {
  return failure.code === 'usage' || failure.code === 'invalid_config' ? EXIT.usage : EXIT.failed;
}

/** The ledger could not be opened; carries no URL (it may hold a password). */
export class LedgerOpenError extends Error {
  override readonly name = 'LedgerOpenError';
}

const relative = (file: string) => path.relative(process.cwd(), file) || file;

/**
 * Every secret the loaded configuration holds (the connectors' declared secret fields, the
 * password of a ledger URL), so that no failure message can carry one (invariant 6), whatever
 * library produced the message.
 */
export function configSecrets(config: LoadedConfig | undefined, extra: ReadonlyArray<string | undefined> = []): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 4) out.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) add(x);
  };
  const at = (obj: unknown, dotted: string): unknown =>
    dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
  if (config) {
    for (const s of config.sources) {
      try {
        for (const f of sourceConnectorFor(s.kind).secretFields) add(at(s, f));
      } catch {
        // an unregistered kind is reported by the loader, not here
      }
    }
    const destinations = destinationConnectorMap();
    for (const d of config.destinations) for (const f of destinations.get(d.kind)?.secretFields ?? []) add(at(d, f));
    // The HTTP service's own tokens and keys.
    add(config.raw.server?.apiTokens);
    add(config.raw.server?.financeTokens);
    add(config.raw.server?.webhooks);
  }
  for (const url of [...extra, config?.raw.ledger.url, process.env.DATABASE_URL, process.env.REDIS_URL]) {
    if (!url) continue;
    try {
      const u = new URL(url);
      if (u.password) add(decodeURIComponent(u.password));
    } catch {
      // not a URL: nothing to take from it
    }
  }
  for (const name of ['HOURBRIDGE_SECRET_KEY', 'HOURBRIDGE_API_TOKENS', 'HOURBRIDGE_FINANCE_TOKENS']) {
    for (const v of (process.env[name] ?? '').split(',')) add(v.trim());
  }
  return out;
}

/** Removes known secrets, bearer/basic credentials and URL user-info from a message. */
export function scrubMessage(message: string, secrets: readonly string[]): string {
  return scrubSecrets(message, secrets).replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}

/** A thrown error as a CliFailure: its code, a scrubbed message, and where it happened. */
export function describeFailure(err: unknown, context: { config?: LoadedConfig; secrets?: readonly string[] } = {}): CliFailure {
  const secrets = context.secrets ?? configSecrets(context.config);
  const scrub = (m: string) => scrubMessage(m, secrets);
  if (err instanceof CommanderError) {
    // commander's messages start with "error: "; the document's code already says so.
    const message = err.message.replace(/^error:\s*/i, '');
    // "unknown option '--bogus'", "required option '-c, --config <path>' not specified": the long form.
    const quoted = /'(-[^']*)'/.exec(message)?.[1] ?? '';
    const option = /--[A-Za-z][\w-]*/.exec(quoted)?.[0] ?? /-\w/.exec(quoted)?.[0];
    return { code: 'usage', message, ...(option ? { where: { option } } : {}) };
  }
  if (err instanceof ConfigError) {
    const issues = err.issues.map((i) => ({
      ...(i.file ? { file: relative(i.file) } : {}),
      ...(i.line ? { line: i.line, column: i.column ?? 1 } : {}),
      path: formatPath(i.path),
      message: scrub(i.message),
    }));
    const first = issues[0];
    const { message: _m, ...where } = first ?? { message: '' };
    return {
      code: 'invalid_config',
      message:
        issues.length === 1
          ? `configuration problem: ${first!.message}`
          : `${issues.length} configuration problems; the first: ${first?.message ?? ''}`,
      ...(first ? { where } : {}),
      issues,
    };
  }
  if (err instanceof ConnectorRunError) {
    const category = err.category;
    const configured = err.role === 'source' ? context.config?.sources.find((s) => s.id === err.id) : undefined;
    // File sources: the file as the config names it, relative to the working directory like config issues.
    const file =
      configured && 'path' in configured && typeof configured.path === 'string'
        ? relative(path.resolve(context.config!.configDir, configured.path))
        : undefined;
    return {
      code: `connector_${category}`,
      message: scrub(err.message),
      where: { [err.role]: err.id, connector: err.kind, ...(file ? { file } : {}) },
    };
  }
  if (err instanceof ConnectorError) {
    return {
      code: `connector_${err.category}`,
      message: scrub(err.message),
      ...(err.details.connector ? { where: { connector: err.details.connector } } : {}),
    };
  }
  if (err instanceof LedgerOpenError) return { code: 'ledger_unavailable', message: scrub(err.message) };
  return { code: 'failed', message: scrub(err instanceof Error ? err.message : String(err)) };
}

/** The failure for people (stderr in text mode). */
export function formatFailure(f: CliFailure): string {
  if (f.issues && f.issues.length > 0) {
    return `Configuration problems:\n${f.issues.map((i) => `  ${i.file ?? '<config>'}:${i.line ?? 1}:${i.column ?? 1}  ${i.path ?? ''}  ${i.message}`).join('\n')}`;
  }
  return `hourbridge: ${f.message}`;
}
