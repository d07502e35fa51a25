import net from 'node:net';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

/**
 * Service-backed tests use the real Redis and PostgreSQL. Locally they skip when a service is
 * not answering; with HOURBRIDGE_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead, so CI
 * can never go green by skipping them.
 */
export const requireServices = process.env.HOURBRIDGE_REQUIRE_SERVICES === '1';
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function probe(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function available(name: string, url: string, port: number): Promise<boolean> {
  const up = await probe(url, port);
  if (!up && requireServices) {
    throw new Error(`${name} is required (HOURBRIDGE_REQUIRE_SERVICES=1) but is not answering at ${url.replace(/\/\/[^@]*@/, '//')}`);
  }
  return up;
}

/** Top-level await in a test file: `const pgUp = await postgresAvailable(); describeIf(pgUp)(…)`. */
export const postgresAvailable = () => available('PostgreSQL', databaseUrl, 5432);
export const redisAvailable = () => available('Redis', redisUrl, 6379);

/**
 * A fresh, empty PostgreSQL database for one test file (created from template0, dropped by the
 * returned function), so test files never share ledger state.
 */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `hb_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
