import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSV_HEADER, pipelineYaml } from '../destinations/conformance';
import { startFakeQuickBooks, type FakeQuickBooks } from '../fakes/quickbooks-server';
import { keyText } from './helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/hourbridge.js');

function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // Each case has its own embedded ledger (--data-dir): a DATABASE_URL from the environment (CI)
    // would put both on one server ledger, where the first case's connection is found by the second.
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.DATABASE_URL;
    delete childEnv.HOURBRIDGE_LEDGER_URL;
    const p = spawn(process.execPath, [bin, ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('hourbridge check with a QuickBooks destination (the real CLI)', () => {
  let fake: FakeQuickBooks;
  let dir: string;
  beforeAll(async () => {
    fake = await startFakeQuickBooks();
    dir = mkdtempSync(path.join(tmpdir(), 'hb-qbo-check-'));
    writeFileSync(path.join(dir, 'hours.csv'), `${CSV_HEADER}\n2026-03-02,09:00,17:00,Ann,Acme,Web\n`);
  });
  afterAll(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configWith = (file: string, refreshToken: boolean) => {
    const yaml = pipelineYaml(
      path.join(dir, 'hours.csv'),
      [
        '  - id: dest',
        '    kind: quickbooks',
        `    realmId: "${fake.opts.realmId}"`,
        `    baseUrl: ${fake.apiBase}`,
        '    auth:',
        '      clientId: test-client-id',
        '      clientSecret: ${QBO_CLIENT_SECRET}',
        ...(refreshToken ? ['      refreshToken: ${QBO_REFRESH_TOKEN}'] : []),
        `    oauth: { tokenUrl: ${fake.tokenUrl}, authorizeUrl: ${fake.authorizeUrl} }`,
        '    defaults: { itemRef: "1" }',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, file), yaml);
    return path.join(dir, file);
  };

  it('Given a connection (here seeded from auth.refreshToken) When checked Then the destination is OK and names the company; the secrets are not printed', async () => {
    const seed = fake.issueTokenSet().refresh_token;
    const file = configWith('with-token.yaml', true);
    const r = await cli(['check', '--config', file, '--json', '--data-dir', path.join(dir, 'data-1')], dir, {
      HOURBRIDGE_SECRET_KEY: keyText,
      QBO_CLIENT_SECRET: fake.opts.clientSecret,
      QBO_REFRESH_TOKEN: seed,
    });
    const doc = JSON.parse(r.out) as { connectors: { id: string; ok: boolean; message: string }[] };
    expect(doc.connectors.find((c) => c.id === 'dest')).toMatchObject({
      ok: true,
      message: `Connected to QuickBooks company "Fake Company ${fake.opts.realmId}" (realm ${fake.opts.realmId}).`,
    });
    expect(r.code).toBe(0);
    expect(r.out + r.err).not.toContain(seed);
    expect(r.out + r.err).not.toContain(fake.opts.clientSecret);
  }, 120_000);

  it('Given no stored connection and no refresh token When checked Then the destination fails with an auth error that says to connect', async () => {
    const file = configWith('no-token.yaml', false);
    const r = await cli(['check', '--config', file, '--json', '--data-dir', path.join(dir, 'data-2')], dir, {
      HOURBRIDGE_SECRET_KEY: keyText,
      QBO_CLIENT_SECRET: fake.opts.clientSecret,
    });
    const doc = JSON.parse(r.out) as { connectors: { id: string; ok: boolean; category?: string; message: string }[] };
    const dest = doc.connectors.find((c) => c.id === 'dest');
    expect(dest).toMatchObject({ ok: false, category: 'auth' });
    expect(dest?.message).toMatch(/No QuickBooks connection is stored for destination "dest": run `hourbridge connect quickbooks/);
    expect(r.code).toBe(1);
  }, 120_000);
});
