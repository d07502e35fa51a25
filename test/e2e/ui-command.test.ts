import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectWithMessage } from '../support/runner';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/hourbridge.js');

/** `hourbridge ui` as a user runs it after the first sync: the real bin, the bundled example, the embedded ledger. */
describe('hourbridge ui on the bundled example (embedded ledger, no Redis)', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  const env = {
    ...process.env,
    DATABASE_URL: '',
    HOURBRIDGE_LEDGER_URL: '',
    REDIS_URL: 'redis://127.0.0.1:1',
    HOURBRIDGE_LOG_LEVEL: 'warn',
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-ui-cli-'));
    cpSync(path.join(root, 'config'), path.join(dir, 'config'), { recursive: true });
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
    const r = spawnSync(process.execPath, [bin, 'sync', '--config', 'config/example.yaml', '--json'], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expectWithMessage(r.status, r.stderr).toBe(0);
  });
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given a synced example When ui runs with --no-open Then it prints the URL and a one-time login link that opens a session on the overview, and it stops on SIGTERM', async () => {
    child = spawn(process.execPath, [bin, 'ui', '--config', 'config/example.yaml', '--no-open', '--port', '0'], { cwd: dir, env });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/login\?once=\S+/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expectWithMessage(out, err).toMatch(/serving the finance pages on http:\/\/127\.0\.0\.1:\d+/);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/ui\/login\?once=\S+)/.exec(out)![1]!;
    const base = new URL(link).origin;
    expect((await fetch(`${base}/`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/login');
    const login = await fetch(link, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(`${base}/`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('data-net="2247.50"');
    expect(text).toContain('data-net="1416.31"');
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
    // An open page's event stream does not keep the command from stopping.
    const events = new AbortController();
    const stream = await fetch(`${base}/ui/events`, { headers: { Cookie: cookie }, signal: events.signal });
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const draining = stream.body!.pipeTo(new WritableStream()).catch(() => undefined);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await draining;
    events.abort();
    child = undefined;
  });
});
