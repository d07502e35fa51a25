import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Queryable } from '../ledger/db';
import { runsFingerprint } from '../reports/runs';
import type { UiRunner } from './actions';

/**
 * Server-Sent Events for the open pages: an event whenever a run starts or finishes. A run of
 * this process (the `ui` command's inline runs) is announced at once; any other — a queue
 * worker on another machine, a `sync` on the same server ledger — is seen by polling the
 * ledger's latest runs (one index-served query every `pollMs`, only while a page is open, for
 * all pages together). So a page updates within 2 s of a run's end over either runner.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private fingerprint: string | null = null;
  private polling = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ledger: Queryable,
    runner: UiRunner,
    private readonly log: Logger,
    private readonly pollMs = 500,
  ) {
    this.unsubscribe = runner.onRunFinished(() => void this.poll());
  }

  /** Hold an SSE response open until the client goes. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    this.start();
  }

  get listeners(): number {
    return this.clients.size;
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), 15_000);
    void this.poll();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = await runsFingerprint(this.ledger);
      if (this.fingerprint !== null && now !== this.fingerprint) {
        this.broadcast(`event: runs\ndata: ${JSON.stringify({ at: new Date().toISOString() })}\n\n`);
      }
      this.fingerprint = now;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'live feed: the ledger did not answer');
    } finally {
      this.polling = false;
    }
  }

  private broadcast(chunk: string): void {
    for (const c of this.clients) c.write(chunk);
  }

  close(): void {
    this.stop();
    this.unsubscribe();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
