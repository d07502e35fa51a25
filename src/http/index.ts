export { decideRetry, parseRetryAfter, backoffMs, defaultRetryPolicy } from './retry';
export type { RetryPolicy, RetryInput, RetryDecision } from './retry';
export { createHttpClient, asConnectorError, sleep } from './client';
export type { HttpClient, HttpClientOptions, HttpRequest, HttpResponse, HttpStats } from './client';
export { rateLimiterFor, closeRateLimiters } from './rate-limit';
export type { RateLimitPolicy, RateLimiter } from './rate-limit';
export { redactUrl, redactHeaders, scrubSecrets } from './redact';
export { retrySettings, windowSettings } from './settings';
