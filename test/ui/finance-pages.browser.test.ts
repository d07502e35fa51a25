import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import pino from 'pino';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { loadConfig, type LoadedConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { overviewReport } from '../../src/reports/overview';
import { invoicesReport, quarantineReport } from '../../src/reports/reports';
import { runSync } from '../../src/runners/inline.runner';
import { startUiServer, type UiServer } from '../../src/ui/server';
import { describeIf } from '../support/runner';
import { requireServices } from '../support/services';

/**
 * The finance pages in a real Chromium (Debian's package, driven by puppeteer-core; `.ci/run`
 * installs it), over a real embedded ledger after a real sync of the bundled example: one
 * browser for the whole file.
 */
/**
 * Functions passed to page.evaluate run in Chromium. The project compiles without the DOM
 * library (it would clash with Node's globals), so these are the few DOM shapes they touch.
 */
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  width: number;
  content: string;
  parentElement: PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageElement[];
  closest(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageElement[];
  documentElement: { scrollWidth: number };
};
declare const window: Record<string, unknown>;

const CHROMIUM = process.env.HOURBRIDGE_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && requireServices)
  throw new Error(`Chromium is required for the browser tests but ${CHROMIUM} does not exist (apt-get install chromium)`);
if (!haveChromium) process.stderr.write(`skipping the browser tests: no Chromium at ${CHROMIUM}\n`);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FINANCE = 'finance-token-0123456789-fake';
const OPERATOR = 'operator-token-0123456789-fake';
const shots = process.env.HOURBRIDGE_SCREENSHOTS ?? path.join(tmpdir(), 'hourbridge-ui-screenshots');
const cents = (s: string) => Math.round(Number(s) * 100);

describeIf(haveChromium)('Finance pages in a browser (embedded ledger, inline runner)', () => {
  let dir: string;
  let config: LoadedConfig;
  let ledger: Ledger;
  let server: UiServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const log = pino({ level: 'silent' });
  const csv = () => path.join(dir, 'example/hours.csv');

  /** A row billed to Acme in March, approved: the March draft grows by it. */
  const addAcmeRow = (day: number, hours: string) => {
    const text = readFileSync(csv(), 'utf8').replace(/\n*$/, '\n');
    writeFileSync(
      csv(),
      `${text}${String(day).padStart(2, '0')}-03-2026;;;0;${hours};Anna de Vries;consultant;Acme B.V.;Website;ja;ja;;added\n`,
    );
  };

  /** What the overview page shows: per client and per total, the exact nets from data-net. */
  const shown = () =>
    page.evaluate(() => {
      const net = (el: PageElement | null) => (el?.querySelector('[data-net]') as PageElement | null)?.dataset.net ?? null;
      const clients: Record<string, { notDrafted: string | null; drafted: string | null }> = {};
      for (const tr of document.querySelectorAll('#clients tbody tr')) {
        const id = (tr.querySelector('[data-client]') as PageElement | null)?.dataset.client;
        if (!id) continue;
        const cells = tr.querySelectorAll('td');
        clients[id] = { notDrafted: net(cells[2] ?? null), drafted: net(cells[4] ?? null) };
      }
      const totals: Record<string, string | null> = {};
      for (const tr of document.querySelectorAll('#totals tbody tr'))
        totals[tr.querySelector('th')!.textContent!] = net(tr.querySelectorAll('td')[3] ?? null);
      return { clients, totals };
    });

  /** Acme's open drafts' net total in the ledger, as the page's data-net would say it. */
  const acmeOnDrafts = async () => {
    const open = (await invoicesReport(ledger, { clientId: 'acme' })).filter((i) => ['draft', 'pushed', 'failed'].includes(i.status));
    const c = open.reduce((a, i) => a + cents(i.net), 0);
    return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
  };
  /** Runs in the page: whether Acme's "on open drafts" cell shows this amount. */
  const acmeShows = (net: string) =>
    document
      .querySelector('#clients [data-client="acme"]')
      ?.closest('tr')
      ?.querySelectorAll('td')[4]
      ?.querySelector('[data-net]')
      ?.getAttribute('data-net') === net;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-ui-'));
    cpSync(path.join(root, 'config'), path.join(dir, 'config'), { recursive: true });
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
    const yaml = path.join(dir, 'config/example.yaml');
    writeFileSync(
      yaml,
      `${readFileSync(yaml, 'utf8').replace('dir: ./out', `dir: ${path.join(dir, 'out')}`)}\nserver:\n  apiTokens: ["${OPERATOR}"]\n  financeTokens: ["${FINANCE}"]\n`,
    );
    config = loadConfig(yaml);
    ledger = await openLedger({ dataDir: path.join(dir, 'ledger') });
    await runSync({ config, ledger, log });
    server = await startUiServer({ config, ledger, log, port: 0, pollMs: 250 });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${(e as Error).message}`));
    mkdirSync(shots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Given a synced ledger When the one-time link is opened Then the overview shows the invoices to the cent, the same as report --json, with a chart and no console error', async () => {
    const login = server.loginUrl();
    await page.goto(login, { waitUntil: 'load' });
    expect(new URL(page.url()).pathname).toBe('/');
    // The link works once.
    const again = await fetch(login, { redirect: 'manual' });
    expect(again.status).toBe(401);

    const invoices = await invoicesReport(ledger);
    const report = await overviewReport(ledger, config);
    const page1 = await shown();
    for (const c of config.clients) {
      const open = invoices.filter((i) => i.client === c.id && ['draft', 'pushed', 'failed'].includes(i.status));
      expect(open.length).toBeGreaterThan(0);
      expect(cents(page1.clients[c.id]!.drafted!)).toBe(open.reduce((a, i) => a + cents(i.net), 0));
      expect(page1.clients[c.id]!.drafted).toBe(report.clients.find((r) => r.client === c.id)!.drafted.net);
    }
    expect(cents(page1.totals.EUR!)).toBe(invoices.reduce((a, i) => a + cents(i.net), 0));
    // Chart.js drew the chart (served by Hourbridge: the CSP allows no other origin).
    expect(await page.evaluate(() => typeof window.Chart)).toBe('function');
    expect(await page.$eval('canvas[data-series]', (c) => (c as PageElement).width)).toBeGreaterThan(0);
    // Amounts are formatted in the browser's locale (en-US here), the exact value kept in data-net.
    expect(await page.$eval('#totals [data-net]', (e) => e.textContent)).toMatch(/€|EUR/);
    await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('Given the overview open When a second sync finishes Then the page shows the new totals within 2 s, without a reload', async () => {
    await page.evaluate(() => {
      window.marker = 42;
    });
    const before = await shown();
    addAcmeRow(10, '2');
    await runSync({ config, ledger, log });
    const finished = Date.now();
    const expected = await acmeOnDrafts();
    await page.waitForFunction(acmeShows, { timeout: 2000, polling: 50 }, expected);
    const took = Date.now() - finished;
    expect(took).toBeLessThanOrEqual(2000);
    expect(await page.evaluate(() => window.marker)).toBe(42);
    const after = await shown();
    const open = (await invoicesReport(ledger, { clientId: 'acme' })).filter((i) => ['draft', 'pushed', 'failed'].includes(i.status));
    expect(cents(after.clients.acme!.drafted!)).toBe(open.reduce((a, i) => a + cents(i.net), 0));
    // 2 h at the March rate (65.00 until the 15th) more than before.
    expect(cents(after.clients.acme!.drafted!) - cents(before.clients.acme!.drafted!)).toBe(13_000);
    process.stderr.write(`overview updated ${took} ms after the sync finished\n`);
    expect(errors).toEqual([]);
  });

  it('Given an operator on the overview When they start a run from the page Then the run goes and the open page updates within 2 s of its end', async () => {
    await page.evaluate(() => {
      window.marker = 43;
    });
    const before = await shown();
    addAcmeRow(11, '1');
    await page.click('form[data-action] button');
    await page.waitForFunction(
      () => /started|already running/.test(document.querySelector('form[data-action] .result')?.textContent ?? ''),
      { timeout: 5000 },
    );
    await server.runner.idle();
    const finished = Date.now();
    await page.waitForFunction(acmeShows, { timeout: 2000, polling: 50 }, await acmeOnDrafts());
    expect(Date.now() - finished).toBeLessThanOrEqual(2000);
    expect(await page.evaluate(() => window.marker)).toBe(43);
    const after = await shown();
    expect(cents(after.clients.acme!.drafted!) - cents(before.clients.acme!.drafted!)).toBe(6_500);
  });

  it('Given rejected rows When the quarantine page is exported Then the CSV and the XLSX hold every row with its source, row, column, value, reason and hint', async () => {
    await page.goto(`${server.url}/ui/quarantine`, { waitUntil: 'load' });
    const rows = await quarantineReport(ledger);
    expect(rows.length).toBe(4);
    const counted = await page.$$eval('#reason-counts tbody tr', (trs) =>
      trs.reduce((a, tr) => a + Number(tr.querySelectorAll('td')[0]?.textContent), 0),
    );
    expect(counted).toBe(rows.length);
    await page.screenshot({ path: path.join(shots, 'quarantine.png'), fullPage: true });
    const csvText = await page.evaluate(() => fetch('/ui/quarantine.csv').then((r) => r.text()));
    const records = parseCsv(csvText, { columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(rows.length);
    const date = records.find((r) => r.column === 'Datum')!;
    expect(date).toMatchObject({ source: 'timesheet', row: '12', 'raw value': '31-02-2026', category: 'date' });
    expect(date.reason).toMatch(/no such date/);
    expect(date['how to fix']).toMatch(/dateFormat/);
    const xlsx = await page.evaluate(() =>
      fetch('/ui/quarantine.xlsx').then(async (r) => Array.from(new Uint8Array(await r.arrayBuffer()))),
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(xlsx) as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('Quarantine')!;
    expect(ws.rowCount).toBe(rows.length + 1);
    expect(ws.getRow(1).getCell(5).value).toBe('raw value');
    // Filters narrow the export too.
    const filtered = await page.evaluate(() => fetch('/ui/quarantine.csv?category=date').then((r) => r.text()));
    expect(parseCsv(filtered, { columns: true })).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('Given the other pages When an operator opens them Then each loads without a console error and the invoice page expands a line into its explain trace', async () => {
    await page.goto(`${server.url}/ui/clients/acme`, { waitUntil: 'load' });
    await page.screenshot({ path: path.join(shots, 'client.png'), fullPage: true });
    const key = await page.$eval('#invoices [data-invoice]', (a) => (a as PageElement).dataset.invoice!);
    await page.goto(`${server.url}/ui/invoices/${encodeURIComponent(key)}`, { waitUntil: 'load' });
    const frame = page.frames().find((f) => f.url().endsWith('/draft.html'))!;
    expect(await frame.$eval('h1', (h) => h.textContent)).toMatch(/Draft invoice — Acme/);
    await page.click('.lines > li > details > summary');
    await page.click('.entries details[data-explain] > summary');
    await page.waitForFunction(() => /base rate/.test(document.querySelector('.entries details[data-explain] pre')?.textContent ?? ''), {
      timeout: 3000,
    });
    await page.screenshot({ path: path.join(shots, 'invoice.png'), fullPage: true });
    await page.goto(`${server.url}/ui/runs`, { waitUntil: 'load' });
    expect(await page.$$eval('#runs tbody tr', (trs) => trs.length)).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: path.join(shots, 'runs.png'), fullPage: true });
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    await page.screenshot({ path: path.join(shots, 'overview-phone.png'), fullPage: true });
    // Nothing overflows the phone-width page but the scrollable tables.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewport({ width: 1280, height: 900 });
    expect(errors).toEqual([]);
  });

  it('Given a finance user When they log in with their token Then they read the pages but starting a run is refused (403), as it is without a token (401)', async () => {
    const context = await browser.createBrowserContext();
    try {
      const finance = await context.newPage();
      await finance.goto(`${server.url}/`, { waitUntil: 'load' });
      expect(new URL(finance.url()).pathname).toBe('/ui/login');
      await finance.type('#token', 'not-the-token-at-all');
      await Promise.all([finance.waitForNavigation(), finance.click('form.login button')]);
      expect(await finance.$eval('.err', (e) => e.textContent)).toMatch(/not valid/);
      await finance.type('#token', FINANCE);
      await Promise.all([finance.waitForNavigation(), finance.click('form.login button')]);
      expect(new URL(finance.url()).pathname).toBe('/');
      expect(await finance.$eval('.role', (e) => e.textContent)).toBe('finance');
      expect(await finance.$('form[data-action]')).toBeNull();
      const status = await finance.evaluate(() =>
        fetch('/ui/actions/run', {
          method: 'POST',
          headers: {
            'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]')!.content,
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json',
          },
          body: 'pipeline=all',
        }).then((r) => r.status),
      );
      expect(status).toBe(403);
    } finally {
      await context.close();
    }
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/ui/actions/run`, {
        method: 'POST',
        headers: { Accept: 'application/json', ...headers },
        body: new URLSearchParams({ pipeline: 'all' }),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${FINANCE}` })).status).toBe(403);
    expect((await post({ Authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    // Pages without a session send a browser to the login page; data routes answer 401.
    expect((await fetch(`${server.url}/ui/runs`, { redirect: 'manual' })).headers.get('location')).toBe('/ui/login');
    expect((await fetch(`${server.url}/ui/quarantine.csv`)).status).toBe(401);
    // No page carries a token.
    const html = await (await fetch(`${server.url}/ui/runs`, { headers: { Authorization: `Bearer ${OPERATOR}` } })).text();
    expect(html).not.toContain(OPERATOR);
    expect(html).not.toContain(FINANCE);
  });

  it('Given the overview When axe-core scans it Then it reports no serious or critical violation', async () => {
    const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    const scan = await browser.newPage();
    try {
      await scan.setBypassCSP(true);
      const cookies = await page.cookies();
      await scan.setCookie(...cookies);
      for (const p of ['/', '/ui/clients/acme', '/ui/quarantine', '/ui/runs']) {
        await scan.goto(`${server.url}${p}`, { waitUntil: 'load' });
        await scan.addScriptTag({ path: axePath });
        const violations = await scan.evaluate(async () => {
          const axe = (
            window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }
          ).axe;
          const r = await axe.run();
          return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
        });
        expect({ page: p, violations }).toEqual({ page: p, violations: [] });
      }
    } finally {
      await scan.close();
    }
  });
});
