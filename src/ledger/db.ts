import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { sql, type SQL } from 'drizzle-orm';
import * as schema from './schema';

export type LedgerDb = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Anything that runs SQL and returns rows: the ledger itself, or an open transaction. */
export interface Queryable {
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
}

export interface Ledger extends Queryable {
  db: LedgerDb;
  driver: 'pglite' | 'postgres';
  /** Where it lives, with any password removed (safe to log). */
  location: string;
  /** Raw SQL returning rows, for set-based statements the query builder cannot express. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  /**
   * Bulk path (PostgreSQL server only): COPY `lines` (tab-separated text, one per row) into a
   * temporary text table `stage.name`, then run `then` (which reads it) in the same transaction.
   * COPY is several times cheaper than parameter arrays for large pages.
   */
  copyThen?<T>(stage: { name: string; columns: readonly string[] }, copyText: Buffer[], then: SQL): Promise<T[]>;
  /** Run `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function transactionRunner(db: LedgerDb) {
  return <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
    db.transaction((tx) =>
      fn({
        async rows<R>(query: SQL) {
          const result = (await tx.execute(query)) as unknown as { rows: R[] };
          return result.rows;
        },
      }),
    );
}

export interface LedgerOptions {
  /** postgres:// URL of a server. When absent, the embedded PGlite in `dataDir` is used. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` for a throw-away in-memory ledger. */
  dataDir?: string;
  /** Pool size for a server (default 10). */
  poolSize?: number;
}

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Remove credentials from a connection URL before it reaches a log or an error. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Open the ledger and apply pending migrations. */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  if (options.url) return openServer(options.url, options.poolSize ?? 10);
  return openEmbedded(options.dataDir ?? './data/ledger');
}

async function openServer(url: string, poolSize: number): Promise<Ledger> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  // numeric → string (never a float), timestamptz → ISO text via drizzle's mode:'string'.
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => {
    /* idle client errors surface on the next query; do not crash the process */
  });
  const db = drizzle(pool, { schema });
  // Serialise concurrent start-ups of several workers: one applies migrations, the others wait.
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(727274)');
    await migrate(drizzle(client, { schema }), { migrationsFolder });
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
    client.release();
  }
  return {
    db: db as unknown as LedgerDb,
    driver: 'postgres',
    location: redactUrl(url),
    async rows<T>(query: SQL) {
      const result = await db.execute(query);
      return result.rows as T[];
    },
    transaction: transactionRunner(db as unknown as LedgerDb),
    async copyThen<T>(stage: { name: string; columns: readonly string[] }, copyText: Buffer[], then: SQL): Promise<T[]> {
      const { from: copyFrom } = await import('pg-copy-streams');
      const { PgDialect } = await import('drizzle-orm/pg-core');
      const query = new PgDialect().sqlToQuery(then);
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        await conn.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage.name} (${stage.columns.map((c) => `${c} text`).join(', ')}) ON COMMIT DELETE ROWS`);
        await pipeline(Readable.from(copyText), conn.query(copyFrom(`COPY ${stage.name} FROM STDIN`)));
        const result = await conn.query(query.sql, query.params as unknown[]);
        await conn.query('COMMIT');
        return result.rows as T[];
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openEmbedded(dataDir: string): Promise<Ledger> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(inMemory ? undefined : dataDir);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return {
    db: db as unknown as LedgerDb,
    driver: 'pglite',
    location: inMemory ? 'memory://' : path.resolve(dataDir),
    async rows<T>(query: SQL) {
      const result = await db.execute(query);
      return result.rows as T[];
    },
    transaction: transactionRunner(db as unknown as LedgerDb),
    close: () => client.close(),
  };
}

export { sql, schema };
