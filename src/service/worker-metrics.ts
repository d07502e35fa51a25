import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { TokenVerifier } from './auth';
import type { ServiceMetrics } from './metrics';

/** Port of a worker's /metrics listener when neither `--metrics-port` nor `server.metricsPort` says (Prometheus exporters' customary 9464). */
export const DEFAULT_WORKER_METRICS_PORT = 9464;

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/**
 * `GET /metrics` of a `hourbridge worker` process, on a bare node:http listener: a worker has no
 * HTTP app of its own, and one route does not warrant starting Nest. The same registry and the
 * same bearer tokens as `hourbridge serve`'s /metrics; every other path is 404.
 */
export async function startMetricsListener(args: {
  metrics: ServiceMetrics;
  tokens: TokenVerifier;
  port: number;
  host?: string;
  log: Logger;
}): Promise<MetricsListener> {
  const { metrics, tokens, log } = args;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== '/metrics') {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ statusCode: 404, message: 'only GET /metrics is served here' }));
      return;
    }
    if (!tokens.verify(req.headers.authorization)) {
      res
        .writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' })
        .end(JSON.stringify({ statusCode: 401, message: 'a valid API token is required: Authorization: Bearer <token>' }));
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(body),
      (err: Error) => {
        log.warn({ err: err.message }, 'metrics could not be collected');
        res
          .writeHead(500, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ statusCode: 500, message: 'metrics could not be collected' }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
