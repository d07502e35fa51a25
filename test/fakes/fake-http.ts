import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Shared plumbing of the local vendor fakes: JSON replies, fault injection on listing calls. */
export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Consecutive listing requests answered with this fault. */
  times: number;
  /** Listing requests let through before the fault starts. */
  after?: number;
}

export interface FaultQueue {
  push(f: Fault): void;
  clear(): void;
  /** Returns the fault to answer this listing request with, if any. */
  take(): Fault | undefined;
}

export function faultQueue(): FaultQueue {
  const faults: Fault[] = [];
  return {
    push: (f) => void faults.push({ ...f }),
    clear: () => void faults.splice(0),
    take() {
      const f = faults[0];
      if (!f) return undefined;
      if (f.after && f.after > 0) {
        f.after--;
        return undefined;
      }
      f.times--;
      if (f.times <= 0) faults.shift();
      return f;
    },
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

export async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
