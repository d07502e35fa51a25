import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { InlineUiRunner } from '../../src/ui/actions';
import { UiSessions } from '../../src/ui/sessions';
import { createUiApp, createUiContext } from '../../src/ui/ui.module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('Page sessions and tokens', () => {
  it('Given a one-time login token When it is redeemed twice or after 15 minutes Then only the first redemption in time works', () => {
    const s = new UiSessions({ operator: [], finance: [] });
    const once = s.issueOnce('operator');
    expect(s.redeemOnce(once)).toBe('operator');
    expect(s.redeemOnce(once)).toBeUndefined();
    jest.useFakeTimers({ now: Date.now() });
    try {
      const late = s.issueOnce('operator');
      jest.setSystemTime(Date.now() + 15 * 60_000 + 1);
      expect(s.redeemOnce(late)).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('Given operator and finance tokens When a token is checked Then it gets its role, and an unknown or empty one gets none', () => {
    const s = new UiSessions({ operator: ['operator-token-0123456789'], finance: ['finance-token-0123456789'] });
    expect(s.roleOfToken('operator-token-0123456789')).toBe('operator');
    expect(s.roleOfToken('finance-token-0123456789')).toBe('finance');
    expect(s.roleOfToken('finance-token-012345678')).toBeUndefined();
    expect(s.roleOfToken('')).toBeUndefined();
  });
});

describe('Actions from a page session', () => {
  let ledger: Ledger;
  let app: NestExpressApplication;
  let cookie: string;
  let csrf: string;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const config = loadConfig(path.join(root, 'config/example.yaml'));
    ledger = await openLedger({ dataDir: 'memory://' });
    const log = pino({ level: 'silent' });
    const ui = createUiContext({ config, ledger, log, runner: new InlineUiRunner(config, ledger, log) });
    app = await createUiApp(ui);
    await app.init();
    const login = await http()
      .get(`/ui/login?once=${ui.sessions.issueOnce('operator')}`)
      .expect(303);
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const page = await http().get('/ui/runs').set('Cookie', cookie).expect(200);
    csrf = /name="csrf-token" content="([^"]+)"/.exec(page.text)![1]!;
  });
  afterAll(async () => {
    await app?.close();
    await ledger?.close();
  });

  it('Given an operator session When an action comes without the CSRF token or with a wrong one Then it is refused (403); with it, it is carried out', async () => {
    await http().post('/ui/actions/run').set('Cookie', cookie).type('form').send({ pipeline: 'nope' }).expect(403);
    await http()
      .post('/ui/actions/run')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', 'wrong')
      .type('form')
      .send({ pipeline: 'nope' })
      .expect(403);
    // The right token passes the check: the unknown pipeline is what answers now.
    const res = await http()
      .post('/ui/actions/run')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', csrf)
      .set('Accept', 'application/json')
      .type('form')
      .send({ pipeline: 'nope' })
      .expect(404);
    expect(res.body.message).toMatch(/unknown pipeline "nope"/);
    await http().post('/ui/actions/run').set('Cookie', cookie).type('form').send({ pipeline: 'nope', _csrf: csrf }).expect(404);
  });

  it('Given a page When it is served Then it carries the security headers and a CSP without inline script', async () => {
    const res = await http().get('/ui/runs').set('Cookie', cookie).expect(200);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toMatch(/<script>(?!<\/script>)|<script\s+(?!src=|type="application\/json")/);
  });

  it('Given a logged-in session When it logs out Then the cookie no longer opens a page', async () => {
    await http().post('/ui/logout').set('Cookie', cookie).expect(303);
    const res = await http().get('/ui/runs').set('Cookie', cookie).expect(303);
    expect(res.headers.location).toBe('/ui/login');
  });
});
