import pino, { type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object: secrets never reach logs
 * (invariant 6), even when a whole config or request is logged by mistake.
 */
export const REDACT_PATHS = [
  'token',
  'accessToken',
  'refreshToken',
  'password',
  'secret',
  'clientSecret',
  'apiKey',
  'authorization',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.apiKey',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers.Authorization',
  'config.auth',
];

/** Structured JSON logs on stderr, so stdout stays free for tables and --json documents. */
export function createLogger(options: { level?: string; bindings?: Record<string, unknown> } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.HOURBRIDGE_LOG_LEVEL ?? 'info',
      base: { app: 'hourbridge', ...options.bindings },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
