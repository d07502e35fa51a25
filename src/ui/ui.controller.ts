import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { renderInvoiceHtml } from '../../connectors/file/render-html';
import { configSecrets, scrubMessage } from '../cli/failure';
import { UnknownPipelineError } from '../queue/queue.runner';
import { clientReport } from '../reports/client';
import { destinationLink } from '../reports/destination-link';
import { explainEntry } from '../reports/explain';
import { invoiceDetail } from '../reports/invoice';
import { OverviewOptionError, overviewReport, parseOverviewOptions } from '../reports/overview';
import { quarantineSummary } from '../reports/quarantine';
import { recentRuns } from '../reports/runs';
import { Public } from '../service/auth';
import { quarantineCsv, quarantineXlsx } from './exports';
import { type Html, html } from './html';
import { clientPage } from './pages/client.page';
import { invoicePage } from './pages/invoice.page';
import { bare, type PageUser } from './pages/layout';
import { loginPage } from './pages/login.page';
import { overviewPage } from './pages/overview.page';
import { quarantinePage } from './pages/quarantine.page';
import { runsPage } from './pages/runs.page';
import { DRAFT_CSP, securityHeaders } from './security';
import { CLEAR_SESSION_COOKIE, type Role, sessionCookie } from './sessions';
import { UI_CONTEXT, type UiContext } from './ui.context';

type HttpReq = IncomingMessage & { body?: Record<string, unknown>; protocol?: string };
type HttpRes = ServerResponse;

const here = path.dirname(fileURLToPath(import.meta.url));
const chartDir = path.dirname(createRequire(import.meta.url).resolve('chart.js'));
/** Every asset the pages load, served from the package itself (no CDN). */
const ASSETS: Record<string, { file: string; type: string }> = {
  'app.css': { file: path.join(here, 'assets/app.css'), type: 'text/css; charset=utf-8' },
  'app.js': { file: path.join(here, 'assets/app.js'), type: 'text/javascript; charset=utf-8' },
  'chart.umd.min.js': { file: path.join(chartDir, 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: HttpRes, status: number, body: string | Buffer | Html, type = 'text/html; charset=utf-8', csp?: string): void {
  securityHeaders(res, csp);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : body.value);
}

function redirect(res: HttpRes, to: string, status = 303): void {
  securityHeaders(res);
  res.statusCode = status;
  res.setHeader('Location', to);
  res.end();
}

const wantsJson = (req: HttpReq) => (req.headers.accept ?? '').includes('application/json');
const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The finance pages: server-rendered HTML over the same query layer as `report --json` and the
 * HTTP reports, one stylesheet and one small script, live updates by Server-Sent Events.
 * Pages need a session (log in with a token, or the `ui` command's one-time link); finance
 * reads, an operator also acts. Outside Nest's bearer guard (@Public): these routes check
 * their own session or token, and answer a browser with the login page rather than a 401 body.
 */
@ApiExcludeController()
@Public()
@Controller()
export class UiController {
  constructor(@Inject(UI_CONTEXT) private readonly ui: UiContext) {}

  private user(req: HttpReq, res: HttpRes, page: boolean): PageUser | undefined {
    const who = this.ui.sessions.roleOf(req);
    if (who) return { role: who.role, csrf: who.csrf };
    if (page) redirect(res, '/ui/login', 303);
    else
      send(
        res,
        401,
        JSON.stringify({ statusCode: 401, message: 'log in first (/ui/login) or send Authorization: Bearer <token>' }),
        'application/json',
      );
    return undefined;
  }

  /** Actions: an operator, and (for a session) the session's CSRF token in the X-CSRF-Token header or the _csrf field. */
  private operator(req: HttpReq, res: HttpRes): PageUser | undefined {
    const who = this.ui.sessions.roleOf(req);
    if (!who) {
      send(
        res,
        401,
        JSON.stringify({ statusCode: 401, message: 'log in first (/ui/login) or send Authorization: Bearer <token>' }),
        'application/json',
      );
      return undefined;
    }
    if (!who.bearer) {
      const given = str(req.headers['x-csrf-token']) ?? str(req.body?._csrf);
      if (!given || given !== who.csrf) {
        send(res, 403, JSON.stringify({ statusCode: 403, message: 'missing or wrong CSRF token: reload the page' }), 'application/json');
        return undefined;
      }
    }
    if (who.role !== 'operator') {
      send(
        res,
        403,
        JSON.stringify({
          statusCode: 403,
          message: `the ${who.role} role is read-only: starting runs and re-checking connectors needs an operator token`,
        }),
        'application/json',
      );
      return undefined;
    }
    return { role: who.role, csrf: who.csrf };
  }

  private async page(req: HttpReq, res: HttpRes, render: (user: PageUser) => Promise<Html | undefined>): Promise<void> {
    const user = this.user(req, res, true);
    if (!user) return;
    try {
      const body = await render(user);
      if (!body) send(res, 404, bare('Not found', html`<h1>Not found</h1><p><a href="/">Back to the overview</a></p>`));
      else send(res, 200, body);
    } catch (err) {
      if (err instanceof HttpFailure) {
        send(res, err.status, bare('Error', html`<h1>${err.message}</h1><p><a href="/">Back to the overview</a></p>`));
        return;
      }
      this.ui.log.error({ err: scrubMessage((err as Error).message, configSecrets(this.ui.config)) }, 'page failed');
      send(res, 500, bare('Error', html`<h1>Something went wrong</h1><p>The server log has the details.</p>`));
    }
  }

  @Get()
  async overview(@Req() req: HttpReq, @Res() res: HttpRes, @Query() q: Record<string, string | undefined>) {
    await this.page(req, res, async (user) => {
      let options: ReturnType<typeof parseOverviewOptions>;
      try {
        options = parseOverviewOptions({ bucket: q.bucket, from: q.from, to: q.to });
      } catch (err) {
        if (err instanceof OverviewOptionError) throw new HttpFailure(400, err.message);
        throw err;
      }
      const o = await overviewReport(this.ui.ledger, this.ui.config, options);
      return overviewPage(o, user, this.ui.runner.pipelines());
    });
  }

  @Get('ui')
  home(@Res() res: HttpRes) {
    redirect(res, '/', 302);
  }

  @Get('ui/login')
  loginForm(@Req() req: HttpReq, @Res() res: HttpRes, @Query('once') once?: string) {
    if (once) {
      const role = this.ui.sessions.redeemOnce(once);
      if (!role) return send(res, 401, loginPage('That login link was already used or has expired: log in with a token.'));
      return this.login(req, res, role);
    }
    send(res, 200, loginPage());
  }

  @Post('ui/login')
  loginPost(@Req() req: HttpReq, @Res() res: HttpRes, @Body() body: Record<string, unknown>) {
    const role = this.ui.sessions.roleOfToken(str(body?.token));
    if (!role) return send(res, 401, loginPage('That token is not valid.'));
    this.login(req, res, role);
  }

  private login(req: HttpReq, res: HttpRes, role: Role) {
    const { id } = this.ui.sessions.open(role);
    res.setHeader('Set-Cookie', sessionCookie(id, req.protocol === 'https'));
    redirect(res, '/');
  }

  @Post('ui/logout')
  logout(@Req() req: HttpReq, @Res() res: HttpRes) {
    const s = this.ui.sessions.sessionOf(req);
    if (s) this.ui.sessions.close(s.id);
    res.setHeader('Set-Cookie', CLEAR_SESSION_COOKIE);
    redirect(res, '/ui/login');
  }

  @Get('ui/clients/:id')
  async client(@Req() req: HttpReq, @Res() res: HttpRes, @Param('id') id: string) {
    await this.page(req, res, async (user) => {
      const c = await clientReport(this.ui.ledger, this.ui.config, id, this.ui.config.destinations);
      return c ? clientPage(c, user) : undefined;
    });
  }

  @Get('ui/invoices/:key')
  async invoice(@Req() req: HttpReq, @Res() res: HttpRes, @Param('key') key: string) {
    await this.page(req, res, async (user) => {
      const i = await invoiceDetail(this.ui.ledger, key);
      if (!i) return undefined;
      const link = destinationLink(
        this.ui.config.destinations.find((d) => d.id === i.destination),
        { key: i.key, remoteId: i.remoteId, remoteType: i.remoteType, status: i.status },
      );
      return invoicePage(i, user, link);
    });
  }

  /** The draft exactly as the file destination renders it (connectors/file/render-html.ts). */
  @Get('ui/invoices/:key/draft.html')
  async draft(@Req() req: HttpReq, @Res() res: HttpRes, @Param('key') key: string) {
    if (!this.user(req, res, false)) return;
    const i = await invoiceDetail(this.ui.ledger, key);
    if (!i) return send(res, 404, 'no such invoice', 'text/plain; charset=utf-8');
    send(res, 200, renderInvoiceHtml(i.draft), 'text/html; charset=utf-8', DRAFT_CSP);
  }

  @Get('ui/explain')
  async explain(@Req() req: HttpReq, @Res() res: HttpRes, @Query('entry') entry?: string) {
    if (!this.user(req, res, false)) return;
    const sep = entry?.indexOf(':') ?? -1;
    if (!entry || sep <= 0) return send(res, 400, 'entry must be <source>:<external id>', 'text/plain; charset=utf-8');
    const e = await explainEntry(
      this.ui.ledger,
      entry.slice(0, sep),
      entry.slice(sep + 1),
      (id) => this.ui.config.clients.find((c) => c.id === id)?.timeZone,
    );
    if (!e) return send(res, 404, `no entry ${entry}`, 'text/plain; charset=utf-8');
    if (wantsJson(req)) {
      const { text, ...doc } = e;
      return send(res, 200, JSON.stringify({ ...doc, text }), 'application/json');
    }
    send(res, 200, e.text, 'text/plain; charset=utf-8');
  }

  private quarantineFilter(q: Record<string, string | undefined>) {
    return { source: str(q.source), category: str(q.category), search: str(q.search) };
  }

  @Get('ui/quarantine')
  async quarantine(@Req() req: HttpReq, @Res() res: HttpRes, @Query() q: Record<string, string | undefined>) {
    await this.page(req, res, async (user) => {
      const f = this.quarantineFilter(q);
      const data = await quarantineSummary(this.ui.ledger, { sourceId: f.source, category: f.category, search: f.search });
      return quarantinePage(data, f, user);
    });
  }

  @Get('ui/quarantine.csv')
  async quarantineCsv(@Req() req: HttpReq, @Res() res: HttpRes, @Query() q: Record<string, string | undefined>) {
    if (!this.user(req, res, false)) return;
    const f = this.quarantineFilter(q);
    const data = await quarantineSummary(this.ui.ledger, { sourceId: f.source, category: f.category, search: f.search });
    res.setHeader('Content-Disposition', 'attachment; filename="hourbridge-quarantine.csv"');
    send(res, 200, await quarantineCsv(data), 'text/csv; charset=utf-8');
  }

  @Get('ui/quarantine.xlsx')
  async quarantineXlsx(@Req() req: HttpReq, @Res() res: HttpRes, @Query() q: Record<string, string | undefined>) {
    if (!this.user(req, res, false)) return;
    const f = this.quarantineFilter(q);
    const data = await quarantineSummary(this.ui.ledger, { sourceId: f.source, category: f.category, search: f.search });
    res.setHeader('Content-Disposition', 'attachment; filename="hourbridge-quarantine.xlsx"');
    send(res, 200, await quarantineXlsx(data), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  }

  @Get('ui/runs')
  async runs(@Req() req: HttpReq, @Res() res: HttpRes) {
    await this.page(req, res, async (user) => {
      const secrets = configSecrets(this.ui.config);
      const runs = (await recentRuns(this.ui.ledger, 25)).map((r) => ({
        ...r,
        error: r.error && scrubMessage(r.error, secrets),
        alerts: r.alerts.map((a) => scrubMessage(a, secrets)),
      }));
      const depths = await this.ui.runner.queueDepths().catch(() => null);
      return runsPage({
        runs,
        schedules: await this.ui.runner.schedules().catch(() => []),
        checks: this.ui.checks.list(),
        depths,
        dashboard: this.ui.runner.dashboard,
        mode: this.ui.runner.mode,
        pipelines: this.ui.runner.pipelines(),
        user,
      });
    });
  }

  /** Server-Sent Events: `runs` whenever a run starts or finishes; the page script reloads its figures. */
  @Get('ui/events')
  events(@Req() req: HttpReq, @Res() res: HttpRes) {
    if (!this.user(req, res, false)) return;
    securityHeaders(res);
    this.ui.live.attach(res);
  }

  @Post('ui/actions/run')
  async startRun(@Req() req: HttpReq, @Res() res: HttpRes, @Body() body: Record<string, unknown>) {
    if (!this.operator(req, res)) return;
    const pipeline = str(body?.pipeline) ?? this.ui.runner.pipelines()[0]!;
    try {
      const run = await this.ui.runner.startRun(pipeline);
      if (!wantsJson(req)) return redirect(res, '/ui/runs');
      send(res, 202, JSON.stringify({ ok: true, ...run }), 'application/json');
    } catch (err) {
      if (err instanceof UnknownPipelineError)
        return send(res, 404, JSON.stringify({ statusCode: 404, message: err.message }), 'application/json');
      throw err;
    }
  }

  @Post('ui/actions/check')
  async check(@Req() req: HttpReq, @Res() res: HttpRes, @Body() body: Record<string, unknown>) {
    if (!this.operator(req, res)) return;
    const id = str(body?.connector);
    if (id && !this.ui.checks.knows(id))
      return send(res, 404, JSON.stringify({ statusCode: 404, message: `no connector ${id}` }), 'application/json');
    const results = await this.ui.checks.run(id);
    if (!wantsJson(req)) return redirect(res, '/ui/runs');
    send(res, 200, JSON.stringify({ ok: results.every((r) => r.ok), connectors: results }), 'application/json');
  }

  @Get('ui/assets/:file')
  async asset(@Res() res: HttpRes, @Param('file') file: string) {
    const a = ASSETS[file];
    if (!a) return send(res, 404, 'not found', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=300');
    send(res, 200, await readFile(a.file), a.type);
  }
}
